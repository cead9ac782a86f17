//! Composition: `SequentialLR`, `ChainedScheduler` and warmup, nestable to any depth, each child
//! keeping its own unit. Everything is evaluated per optimizer update `k`, so a composite is as
//! closed-form (and as resumable) as its children.

mod chained;
mod sequential;
mod warmup;

pub use chained::{Chained, ChainedSchedulerConfig};
pub use sequential::{Sequential, SequentialLrSchedulerConfig};
pub use warmup::{Warmup, WarmupMode, WarmupSchedulerConfig, WarmupSpec};

use super::{ClosedForm, ClosedFormScheduler};
use burn::optim::LearningRate;

/// A schedule as a function of the optimizer update `k` (0-based): the object-safe form that
/// composites are built from. Every [`ClosedFormScheduler`] is one (its unit and steps per unit
/// fixed); composites hold boxed children.
pub trait Schedule: Send + Sync + std::fmt::Debug {
    /// LR of optimizer update `k`.
    fn lr(&self, k: u64) -> LearningRate;

    /// Momentum of optimizer update `k`, for schedules that cycle it.
    fn momentum(&self, _k: u64) -> Option<f64> {
        None
    }

    /// A canonical description of every parameter (checked when loading records).
    fn fingerprint(&self) -> String;

    /// Clones into a box.
    fn clone_box(&self) -> Box<dyn Schedule>;
}

impl Clone for Box<dyn Schedule> {
    fn clone(&self) -> Self {
        self.clone_box()
    }
}

impl<S: ClosedForm + std::fmt::Debug> Schedule for ClosedFormScheduler<S> {
    fn lr(&self, k: u64) -> LearningRate {
        self.lr_at_update(k)
    }

    fn momentum(&self, k: u64) -> Option<f64> {
        self.momentum_at_update(k)
    }

    fn fingerprint(&self) -> String {
        ClosedFormScheduler::fingerprint(self)
    }

    fn clone_box(&self) -> Box<dyn Schedule> {
        Box::new(self.clone())
    }
}

/// The first `n` LRs of a `[scheduler]` table at base LR 1, one update per epoch (for the
/// composites' hand-valued tests).
#[cfg(test)]
pub(crate) fn first_lrs(toml: &str, n: u64) -> Vec<f64> {
    use crate::schedule::{RunInfo, SchedulerConfig};
    let cfg: SchedulerConfig = toml::from_str(toml).unwrap();
    let run = RunInfo {
        base_lr: 1.0,
        updates_per_epoch: 1,
        total_updates: n,
    };
    let s = cfg.build_schedule(&run).unwrap();
    (0..n).map(|k| s.lr(k)).collect()
}
