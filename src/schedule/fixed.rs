//! A fixed learning rate: no scheduler (HF's `get_constant_schedule`).

use super::base::{leaf, ClosedForm, ClosedFormScheduler, Schedule, Unit};
use super::error::{non_negative, ScheduleError};
use super::kind::ScheduleKind;
use super::run::RunInfo;
use burn::optim::LearningRate;
use serde::{Deserialize, Serialize};

/// No scheduler: the optimizer's learning rate at every update (Hugging Face's
/// `get_constant_schedule`; PyTorch without a scheduler).
///
/// TOML: `[scheduler] type = "fixed"` (no parameters; also the default when `[scheduler]` is
/// left out).
///
/// ```
/// # use burn_lr::burn;
/// use burn::lr_scheduler::LrScheduler;
/// use burn_lr::schedule::{RunInfo, SchedulerConfig};
///
/// let config: SchedulerConfig = toml::from_str("type = \"fixed\"").unwrap();
/// let run = RunInfo { base_lr: 0.05, updates_per_epoch: 10, total_updates: 100 };
/// let mut scheduler = config.init(&run).unwrap();
/// assert!((0..100).all(|_| scheduler.step() == 0.05));
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FixedLrSchedulerConfig {}

impl FixedLrSchedulerConfig {
    /// The canonical TOML `type` (also the kind in records).
    pub const NAME: &'static str = "fixed";

    /// A scheduler that returns `base_lr` at every `step()`.
    ///
    /// # Errors
    /// [`ScheduleError::InvalidParam`] for a negative or non-finite `base_lr`.
    pub fn init(&self, base_lr: LearningRate) -> Result<FixedLrScheduler, ScheduleError> {
        Ok(ClosedFormScheduler::new(FixedLr::new(base_lr)?))
    }
}

/// [`FixedLrSchedulerConfig`]'s scheduler: a Burn `LrScheduler`.
pub type FixedLrScheduler = ClosedFormScheduler<FixedLr>;

/// A fixed learning rate (no schedule): `lr(t) = lr`.
#[derive(Debug, Clone, PartialEq)]
pub struct FixedLr {
    lr: LearningRate,
}

impl FixedLr {
    /// A fixed learning rate.
    ///
    /// # Errors
    /// [`ScheduleError::InvalidParam`] for a negative or non-finite `lr`.
    pub(crate) fn new(lr: LearningRate) -> Result<Self, ScheduleError> {
        Ok(Self {
            lr: non_negative(FixedLrSchedulerConfig::NAME, "lr", lr)?,
        })
    }
}

impl ClosedForm for FixedLr {
    const KIND: &'static str = FixedLrSchedulerConfig::NAME;

    fn lr_at(&self, _t: u64) -> LearningRate {
        self.lr
    }

    fn fingerprint(&self) -> String {
        format!("lr={:?}", self.lr)
    }
}

impl ScheduleKind for FixedLrSchedulerConfig {
    fn kind(&self) -> &'static str {
        Self::NAME
    }

    fn unit(&self) -> Unit {
        Unit::Iteration
    }

    fn build_schedule(&self, run: &RunInfo) -> Result<Box<dyn Schedule>, ScheduleError> {
        Ok(leaf(FixedLr::new(run.base_lr)?, 1))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn constant() {
        let s = FixedLr::new(0.25).unwrap();
        assert!(FixedLr::new(f64::NAN).is_err());
        assert_eq!([s.lr_at(0), s.lr_at(u64::MAX)], [0.25, 0.25]);
    }
}
