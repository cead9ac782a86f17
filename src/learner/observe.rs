//! What the optimizer really used, update by update: an [`LrObserver`] sees the learning rate
//! each scheduler returned to Burn (the base schedule and every parameter group) and the
//! momentum that went with it, at the moment Burn's `Learner` asked for it. Attach one with
//! [`LearnerSchedule::with_observer`](super::LearnerSchedule::with_observer); the
//! [`monitor`](crate::monitor) module's `lr.csv` and TensorBoard writers are observers.

use crate::schedule::{MomentumCell, Scheduler};
use burn::lr_scheduler::{LrScheduler, LrSchedulerRecord};
use burn::optim::LearningRate;
use std::sync::{Arc, Mutex};

/// One optimizer update's learning rates, as the schedulers returned them to Burn (Lightning's
/// `LearningRateMonitor` logs the same, read from the optimizer).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct LrUpdate<'a> {
    /// The optimizer update of the run, from 0 (continues across a resume).
    pub step: u64,
    /// The epoch the update belongs to, from 1.
    pub epoch: u64,
    /// Learning rate of the base schedule (every parameter no group claims).
    pub lr: f64,
    /// Learning rate of each parameter group, in the order they were added.
    pub group_lrs: &'a [f64],
    /// The momentum (SGD) or `beta1` (AdamW) of this update, where the schedule cycles it.
    pub momentum: Option<f64>,
}

/// Receives every optimizer update's [`LrUpdate`], on Burn's training thread, before the
/// optimizer applies it. Keep it cheap (an append to a file is fine).
pub trait LrObserver: Send {
    /// One optimizer update.
    fn observe(&mut self, update: &LrUpdate<'_>);
}

impl<F: FnMut(&LrUpdate<'_>) + Send> LrObserver for F {
    fn observe(&mut self, update: &LrUpdate<'_>) {
        self(update)
    }
}

/// Collects the LR of every scheduler of one update (Burn's `ModuleLrScheduler` steps the base
/// first, then each group) and hands the whole update to the observer, once: under Burn's
/// `ExecutionStrategy::ddp` every device steps a clone of the schedulers (all clones share this
/// assembly), in lockstep (each update's all-reduce waits for every device), so the copies of
/// an update that was already reported are dropped.
struct Assembly {
    observer: Box<dyn LrObserver>,
    /// The cell the momentum-cycled optimizer reads (`None`: the schedule does not cycle it).
    momentum_cell: Option<MomentumCell>,
    updates_per_epoch: u64,
    step: u64,
    lr: f64,
    momentum: Option<f64>,
    groups: Vec<Option<f64>>,
    /// The last update handed to the observer.
    reported: Option<u64>,
}

impl Assembly {
    fn put(&mut self, slot: usize, step: u64, lr: f64, momentum: Option<f64>) {
        if self.reported.is_some_and(|r| step <= r) {
            return; // another device's copy of a reported update (DDP)
        }
        if slot == 0 {
            if step != self.step {
                self.groups.iter_mut().for_each(|g| *g = None);
            }
            self.step = step;
            self.lr = lr;
            self.momentum = momentum;
        } else if step == self.step {
            self.groups[slot - 1] = Some(lr);
        }
        if self.groups.iter().all(Option::is_some) {
            self.reported = Some(step);
            let group_lrs: Vec<f64> = self.groups.iter().flatten().copied().collect();
            self.observer.observe(&LrUpdate {
                step: self.step,
                epoch: self.step / self.updates_per_epoch.max(1) + 1,
                lr: self.lr,
                group_lrs: &group_lrs,
                momentum: self.momentum,
            });
        }
    }
}

/// A scheduler that reports what it returns; its record is the inner scheduler's, unchanged.
#[derive(Clone)]
pub(crate) struct Observed {
    inner: Scheduler,
    slot: usize,
    shared: Arc<Mutex<Assembly>>,
}

impl Observed {
    /// Wraps the base scheduler (slot 0) and the `groups` (slots 1..) for one observer; the
    /// momentum reported is what `momentum_cell` holds after the base scheduler's step (what
    /// the optimizer applies: a child of a composite that does not cycle momentum leaves the
    /// last value, or the configured one, in place).
    pub(crate) fn wrap(
        base: Scheduler,
        groups: Vec<Scheduler>,
        observer: Box<dyn LrObserver>,
        momentum_cell: Option<MomentumCell>,
        updates_per_epoch: u64,
    ) -> (Self, Vec<Self>) {
        let shared = Arc::new(Mutex::new(Assembly {
            observer,
            momentum_cell,
            updates_per_epoch,
            step: 0,
            lr: 0.0,
            momentum: None,
            groups: vec![None; groups.len()],
            reported: None,
        }));
        let wrap = |inner, slot| Self {
            inner,
            slot,
            shared: shared.clone(),
        };
        let groups = groups.into_iter().enumerate().map(|(i, g)| wrap(g, i + 1)).collect();
        (wrap(base, 0), groups)
    }
}

impl LrScheduler for Observed {
    fn step(&mut self) -> LearningRate {
        let step = self.inner.steps_taken();
        let lr = self.inner.step();
        let mut shared = self.shared.lock().unwrap_or_else(|e| e.into_inner());
        let momentum = match (&shared.momentum_cell, self.slot) {
            (Some(cell), 0) => Some(cell.get()).filter(|m| m.is_finite()).or(self.inner.momentum()),
            _ => None,
        };
        shared.put(self.slot, step, lr, momentum);
        lr
    }

    fn to_record(&self) -> LrSchedulerRecord {
        self.inner.to_record()
    }

    fn load_record(&mut self, record: LrSchedulerRecord) {
        self.inner.load_record(record)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::schedule::{RunInfo, SchedulerConfig};

    fn built(toml_text: &str, base_lr: f64) -> Scheduler {
        let config: SchedulerConfig = toml::from_str(toml_text).unwrap();
        config
            .init(&RunInfo {
                base_lr,
                updates_per_epoch: 4,
                total_updates: 12,
            })
            .unwrap()
    }

    #[test]
    fn one_row_per_update_with_every_group_and_momentum() {
        type Row = (u64, u64, f64, Vec<f64>, Option<f64>);
        let seen: Arc<Mutex<Vec<Row>>> = Arc::default();
        let sink = seen.clone();
        let observer = move |u: &LrUpdate<'_>| {
            sink.lock()
                .unwrap()
                .push((u.step, u.epoch, u.lr, u.group_lrs.to_vec(), u.momentum))
        };
        let base = built("type = \"one_cycle\"\nmax_lr = 0.1", 0.1);
        let group = built("type = \"step_lr\"\nstep_size = 1\ngamma = 0.5", 0.01);
        let reference = (base.clone(), group.clone());
        let cell = MomentumCell::new(f64::NAN);
        let base = base.with_momentum_cell(cell.clone());
        let (mut b, mut g) = Observed::wrap(base, vec![group], Box::new(observer), Some(cell), 4);
        for _ in 0..6 {
            b.step();
            g[0].step();
        }
        let seen = seen.lock().unwrap();
        assert_eq!(seen.len(), 6);
        let (mut rb, mut rg) = reference;
        for (k, row) in seen.iter().enumerate() {
            let (lr, glr) = (rb.step(), rg.step());
            assert_eq!(row.0, k as u64);
            assert_eq!(row.1, k as u64 / 4 + 1);
            assert_eq!(row.2, lr);
            assert_eq!(row.3, vec![glr]);
            assert_eq!(row.4, rb.momentum());
            assert!(row.4.is_some());
        }
    }

    #[test]
    fn clones_stepping_in_lockstep_report_each_update_once() {
        // Burn's DDP: every device steps its own clone of the base and group schedulers; the
        // devices' steps of one update interleave in any order, never into the next update.
        type Row = (u64, f64, Vec<f64>);
        let seen: Arc<Mutex<Vec<Row>>> = Arc::default();
        let sink = seen.clone();
        let observer = move |u: &LrUpdate<'_>| sink.lock().unwrap().push((u.step, u.lr, u.group_lrs.to_vec()));
        let base = built("type = \"cosine_annealing\"\nt_max = 12", 0.1);
        let group = built("type = \"step_lr\"\nstep_size = 1\ngamma = 0.5", 0.01);
        let (mut reference_base, mut reference_group) = (base.clone(), group.clone());
        let (b, g) = Observed::wrap(base, vec![group], Box::new(observer), None, 4);
        let mut replicas = [(b.clone(), g[0].clone()), (b.clone(), g[0].clone()), (b, g[0].clone())];
        // Per update, one of several orders of the replicas' base (B) and group (G) steps.
        let orders: [&[(usize, bool)]; 3] = [
            &[(0, true), (0, false), (1, true), (1, false), (2, true), (2, false)],
            &[(0, true), (1, true), (2, true), (2, false), (0, false), (1, false)],
            &[(2, true), (0, true), (0, false), (1, true), (2, false), (1, false)],
        ];
        for k in 0..6 {
            for &(r, is_base) in orders[k % 3] {
                let (b, g) = &mut replicas[r];
                if is_base {
                    b.step();
                } else {
                    g.step();
                }
            }
        }
        let seen = seen.lock().unwrap();
        let want: Vec<Row> = (0..6u64)
            .map(|k| (k, reference_base.step(), vec![reference_group.step()]))
            .collect();
        assert_eq!(*seen, want);
    }

    #[test]
    fn steps_continue_after_a_loaded_record() {
        let seen: Arc<Mutex<Vec<u64>>> = Arc::default();
        let sink = seen.clone();
        let mut first = built("type = \"cosine_annealing\"\nt_max = 12", 0.1);
        for _ in 0..5 {
            first.step();
        }
        let (mut b, _) = Observed::wrap(
            built("type = \"cosine_annealing\"\nt_max = 12", 0.1),
            vec![],
            Box::new(move |u: &LrUpdate<'_>| sink.lock().unwrap().push(u.step)),
            None,
            4,
        );
        b.load_record(first.to_record());
        assert_eq!(b.step(), first.step());
        assert_eq!(*seen.lock().unwrap(), vec![5]);
    }
}
