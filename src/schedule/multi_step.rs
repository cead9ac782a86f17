//! `MultiStepLR`: decay by `gamma` at each milestone.

use super::base::{pow_u64, schedule_config, ClosedForm, ClosedFormScheduler, Unit};
use super::error::{decay_factor, non_negative, ScheduleError};
use super::kind::closed_form_kind;
use burn::optim::LearningRate;

schedule_config! {
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
    /// # use burn_lr::burn;
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
    pub struct MultiStepLrSchedulerConfig = "multi_step", new(milestones: Vec<u64>) {
        /// Steps (in `unit`s) at which the LR is multiplied by `gamma`; any order, repeats compound.
        pub milestones: Vec<u64>,
        /// Decay factor (default 0.1); in [0, 1].
        pub gamma: f64 = 0.1 => with_gamma,
        /// What one step counts (`epoch` by default).
        pub unit: Unit = Unit::Epoch => with_unit,
    }
}

impl MultiStepLrSchedulerConfig {
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
}

closed_form_kind! {
    MultiStepLrSchedulerConfig => MultiStepLrScheduler(MultiStepLr),
    build(config, run) config.build(run.base_lr),
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
