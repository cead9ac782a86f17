//! `StepLR`: decay by `gamma` every `step_size` epochs.

use super::base::{pow_u64, schedule_config, ClosedForm, ClosedFormScheduler, Unit};
use super::error::{decay_factor, non_negative, ScheduleError};
use super::kind::closed_form_kind;
use burn::optim::LearningRate;

schedule_config! {
    /// Configuration of [`StepLrScheduler`], PyTorch's
    /// [`torch.optim.lr_scheduler.StepLR`](https://pytorch.org/docs/stable/generated/torch.optim.lr_scheduler.StepLR.html).
    ///
    /// TOML: `[scheduler] type = "step"`, `step_size = 30`, `gamma = 0.1`, `unit = "epoch"`.
    ///
    /// `lr(t) = base_lr * gamma^floor(t / step_size)`; `t` and `step_size` in `unit`s (epochs by default; inside a `Learner` the LR changes at epoch boundaries), `base_lr` the optimizer's learning rate.
    ///
    /// ```
    /// # use burn_lr::burn;
    /// use burn::lr_scheduler::LrScheduler;
    /// use burn_lr::schedule::StepLrSchedulerConfig;
    ///
    /// # fn main() -> Result<(), burn_lr::schedule::ScheduleError> {
    /// // PyTorch: StepLR(SGD(params, lr=0.1), step_size=2, gamma=0.5), one scheduler.step() per epoch
    /// let close = |a: f64, b: f64| (a - b).abs() < 1e-12;
    /// let mut s = StepLrSchedulerConfig::new(2).with_gamma(0.5).init(0.1)?;
    /// let lrs: Vec<f64> = (0..5).map(|_| s.step()).collect();
    /// assert!(lrs.iter().zip([0.1, 0.1, 0.05, 0.05, 0.025]).all(|(a, b)| close(*a, b)));
    /// # Ok(())
    /// # }
    /// ```
    pub struct StepLrSchedulerConfig = "step", new(step_size: u64) {
        /// Period of the decay, in `unit`s (epochs by default); must be >= 1.
        pub step_size: u64,
        /// Multiplicative factor of the decay (PyTorch default 0.1); in [0, 1].
        pub gamma: f64 = 0.1 => with_gamma,
        /// What one step counts (`epoch` by default, as in PyTorch).
        pub unit: Unit = Unit::Epoch => with_unit,
    }
}

impl StepLrSchedulerConfig {
    /// Validates the parameters into the closed-form schedule starting at `base_lr`.
    ///
    /// # Errors
    /// [`ScheduleError::InvalidParam`] for `step_size = 0`, a `gamma` outside [0, 1] or a
    /// non-finite or negative `base_lr`.
    pub(crate) fn build(&self, base_lr: LearningRate) -> Result<StepLr, ScheduleError> {
        const S: &str = StepLrSchedulerConfig::NAME;
        non_negative(S, "lr", base_lr)?;
        if self.step_size == 0 {
            return Err(ScheduleError::invalid(S, "step_size", 0, "must be an integer >= 1"));
        }
        decay_factor(S, "gamma", self.gamma)?;
        Ok(StepLr {
            base_lr,
            step_size: self.step_size,
            gamma: self.gamma,
        })
    }

    /// Builds a scheduler whose every `step()` call is one PyTorch `scheduler.step()`.
    ///
    /// # Errors
    /// [`ScheduleError::InvalidParam`] for `step_size = 0`, a `gamma` outside [0, 1] or a
    /// non-finite or negative `base_lr`.
    pub fn init(&self, base_lr: LearningRate) -> Result<StepLrScheduler, ScheduleError> {
        Ok(ClosedFormScheduler::new(self.build(base_lr)?))
    }
}

/// StepLR in closed form: `lr(t) = base_lr * gamma^floor(t / step_size)`, `t` in epochs
/// (PyTorch's `StepLR._get_closed_form_lr`).
#[derive(Debug, Clone, PartialEq)]
pub struct StepLr {
    /// Initial learning rate (PyTorch's `base_lrs[0]`).
    base_lr: LearningRate,
    /// Decay period, in steps of the schedule's unit.
    step_size: u64,
    /// Decay factor.
    gamma: f64,
}

impl ClosedForm for StepLr {
    const KIND: &'static str = StepLrSchedulerConfig::NAME;

    fn lr_at(&self, t: u64) -> LearningRate {
        self.base_lr * pow_u64(self.gamma, t / self.step_size)
    }

    fn fingerprint(&self) -> String {
        format!(
            "base_lr={:?} step_size={} gamma={:?}",
            self.base_lr, self.step_size, self.gamma
        )
    }
}

closed_form_kind! {
    StepLrSchedulerConfig => StepLrScheduler(StepLr),
    build(config, run) config.build(run.base_lr),
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn by_hand() {
        let s = StepLrSchedulerConfig::new(2).with_gamma(0.5).build(1.0).unwrap();
        let lrs: Vec<f64> = (0..5).map(|t| s.lr_at(t)).collect();
        assert_eq!(lrs, [1.0, 1.0, 0.5, 0.5, 0.25]);
        assert!(StepLrSchedulerConfig::new(0).build(1.0).is_err());
    }
}
