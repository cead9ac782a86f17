//! `MultiStepLR`: decay by `gamma` at each milestone.

use super::base::{leaf, pow_u64, ClosedForm, ClosedFormScheduler, Schedule, Unit};
use super::error::{decay_factor, non_negative, ScheduleError};
use super::kind::ScheduleKind;
use super::run::{run_per, RunInfo};
use burn::optim::LearningRate;
use serde::{Deserialize, Serialize};

/// Configuration of [`MultiStepLrScheduler`], PyTorch's
/// [`torch.optim.lr_scheduler.MultiStepLR`](https://pytorch.org/docs/stable/generated/torch.optim.lr_scheduler.MultiStepLR.html).
///
/// TOML: `[scheduler] type = "multi_step"`, `milestones = [30, 80]`, `gamma = 0.1`. A milestone
/// listed twice decays twice at that step, as in PyTorch (which counts milestones with a
/// `Counter`).
///
/// `lr(t) = base_lr * gamma^(number of milestones <= t)`; `t` and `milestones` in `unit`s (epochs by default).
///
/// ```
/// use burn::lr_scheduler::LrScheduler;
/// use burn_lr::schedule::MultiStepLrSchedulerConfig;
///
/// # fn main() -> Result<(), burn_lr::schedule::ScheduleError> {
/// // PyTorch: MultiStepLR(SGD(params, lr=1.0), milestones=[2, 4], gamma=0.1)
/// let close = |a: f64, b: f64| (a - b).abs() < 1e-12;
/// let mut s = MultiStepLrSchedulerConfig::new(vec![2, 4]).with_gamma(0.1).init(1.0)?;
/// let lrs: Vec<f64> = (0..5).map(|_| s.step()).collect();
/// assert!(lrs.iter().zip([1.0, 1.0, 0.1, 0.1, 0.01]).all(|(a, b)| close(*a, b)));
/// # Ok(())
/// # }
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MultiStepLrSchedulerConfig {
    /// Steps (in `unit`s) at which the LR is multiplied by `gamma`; any order, repeats compound.
    pub milestones: Vec<u64>,
    /// Decay factor (default 0.1); in [0, 1].
    #[serde(default = "d_gamma")]
    pub gamma: f64,
    /// What one step counts (`epoch` by default).
    #[serde(default = "d_unit")]
    pub unit: Unit,
}

fn d_gamma() -> f64 {
    0.1
}
fn d_unit() -> Unit {
    Unit::Epoch
}

impl MultiStepLrSchedulerConfig {
    /// The canonical TOML `type` (also the kind in records).
    pub const NAME: &'static str = "multi_step";

    /// A MultiStepLR config with PyTorch's default `gamma = 0.1`.
    pub fn new(milestones: Vec<u64>) -> Self {
        Self {
            milestones,
            gamma: d_gamma(),
            unit: d_unit(),
        }
    }

    /// Sets `gamma`.
    pub fn with_gamma(mut self, gamma: f64) -> Self {
        self.gamma = gamma;
        self
    }

    /// Validates into the closed form starting at `base_lr`.
    ///
    /// # Errors
    /// [`ScheduleError::InvalidParam`] for a `gamma` outside [0, 1] or `lr`.
    pub(crate) fn build(&self, base_lr: LearningRate) -> Result<MultiStepLr, ScheduleError> {
        const S: &str = MultiStepLrSchedulerConfig::NAME;
        non_negative(S, "lr", base_lr)?;
        decay_factor(S, "gamma", self.gamma)?;
        let mut milestones = self.milestones.clone();
        milestones.sort_unstable();
        Ok(MultiStepLr {
            base_lr,
            milestones,
            gamma: self.gamma,
        })
    }

    /// A scheduler whose every `step()` is one PyTorch `scheduler.step()`.
    ///
    /// # Errors
    /// [`ScheduleError::InvalidParam`] for a `gamma` outside [0, 1] or `lr`.
    pub fn init(&self, base_lr: LearningRate) -> Result<MultiStepLrScheduler, ScheduleError> {
        Ok(ClosedFormScheduler::new(self.build(base_lr)?))
    }
}

/// MultiStepLR in closed form: `lr(t) = base_lr * gamma^(number of milestones <= t)`
/// (PyTorch's `_get_closed_form_lr`, `bisect_right` over the sorted milestones).
#[derive(Debug, Clone, PartialEq)]
pub struct MultiStepLr {
    base_lr: LearningRate,
    milestones: Vec<u64>,
    gamma: f64,
}

impl ClosedForm for MultiStepLr {
    const KIND: &'static str = MultiStepLrSchedulerConfig::NAME;

    fn lr_at(&self, t: u64) -> LearningRate {
        let passed = self.milestones.partition_point(|m| *m <= t) as u64;
        self.base_lr * pow_u64(self.gamma, passed)
    }

    fn fingerprint(&self) -> String {
        format!("{self:?}")
    }
}

/// [`MultiStepLrSchedulerConfig`]'s scheduler: a Burn `LrScheduler`.
pub type MultiStepLrScheduler = ClosedFormScheduler<MultiStepLr>;

impl ScheduleKind for MultiStepLrSchedulerConfig {
    fn unit(&self) -> Unit {
        self.unit
    }

    fn build_schedule(&self, run: &RunInfo) -> Result<Box<dyn Schedule>, ScheduleError> {
        Ok(leaf(self.build(run.base_lr)?, run_per(run, self.unit)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn by_hand_repeated_milestones_compound() {
        let s = MultiStepLrSchedulerConfig::new(vec![2, 2, 5])
            .with_gamma(0.5)
            .build(1.0)
            .unwrap();
        assert_eq!(
            [s.lr_at(1), s.lr_at(2), s.lr_at(4), s.lr_at(5)],
            [1.0, 0.25, 0.25, 0.125]
        );
    }
}
