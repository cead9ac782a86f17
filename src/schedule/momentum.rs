//! The momentum output of the schedules that cycle it (OneCycle, Cyclic with `cycle_momentum`):
//! a value shared between the scheduler, which writes it once per optimizer update, and an
//! optimizer that applies it (`burn_lr::optim::CycledSgd` / `CycledAdamW`).

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

/// `(update, momentum)` pairs as the optimizer used them.
type History = Arc<Mutex<Vec<(u64, f64)>>>;

/// The momentum of the current optimizer update, shared between a scheduler and an optimizer.
///
/// The scheduler [`set`](Self::set)s it once per update; the optimizer reads it for every
/// parameter of that update. With [`with_history`](Self::with_history) the optimizer also
/// records `(update, momentum)` once per update, so tests and diagnostics can see exactly
/// which value each update used.
#[derive(Clone, Debug)]
pub struct MomentumCell {
    value: Arc<AtomicU64>,
    update: Arc<AtomicU64>,
    history: Option<History>,
}

impl MomentumCell {
    /// A cell holding `initial` until the scheduler first writes it.
    pub fn new(initial: f64) -> Self {
        Self {
            value: Arc::new(AtomicU64::new(initial.to_bits())),
            update: Arc::new(AtomicU64::new(u64::MAX)),
            history: None,
        }
    }

    /// Also record the value used at each update.
    pub fn with_history(mut self) -> Self {
        self.history = Some(Arc::new(Mutex::new(Vec::new())));
        self
    }

    /// Sets the momentum of optimizer update `update` (0-based).
    pub fn set(&self, update: u64, momentum: f64) {
        self.value.store(momentum.to_bits(), Ordering::SeqCst);
        self.update.store(update, Ordering::SeqCst);
    }

    /// The momentum in force.
    pub fn get(&self) -> f64 {
        f64::from_bits(self.value.load(Ordering::SeqCst))
    }

    /// Reads the momentum for the optimizer, recording it once per update when enabled.
    pub(crate) fn read(&self) -> f64 {
        let m = self.get();
        if let Some(history) = &self.history {
            let update = self.update.load(Ordering::SeqCst);
            let mut h = history.lock().expect("momentum history lock poisoned");
            if h.last().map(|(u, _)| *u) != Some(update) {
                h.push((update, m));
            }
        }
        m
    }

    /// `(update, momentum)` as used by the optimizer, one entry per update (empty without
    /// [`with_history`](Self::with_history)).
    pub fn history(&self) -> Vec<(u64, f64)> {
        self.history
            .as_ref()
            .map(|h| h.lock().expect("momentum history lock poisoned").clone())
            .unwrap_or_default()
    }
}
