//! Composition: `SequentialLR`, `ChainedScheduler`, warmup and SWALR after a schedule, nestable
//! to any depth, each child keeping its own unit. Everything is evaluated per optimizer update `k`, so a composite is as
//! closed-form (and as resumable) as its children.

mod chained;
mod sequential;
mod swa;
mod warmup;

pub use chained::ChainedSchedulerConfig;
pub use sequential::SequentialLrSchedulerConfig;
pub use swa::{SwaSchedulerConfig, SwaSpec};
pub use warmup::{WarmupMode, WarmupSchedulerConfig, WarmupSpec};

/// The first `n` LRs of a `[scheduler]` table at base LR 1, one update per epoch (for the
/// composites' hand-valued tests).
#[cfg(test)]
pub(crate) fn first_lrs(toml: &str, n: u64) -> Vec<f64> {
    use crate::schedule::kind::ScheduleKind;
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
