//! `ExponentialLR`: decay by `gamma` every epoch.

use super::base::{pow_u64, schedule_config, ClosedForm, ClosedFormScheduler, Unit};
use super::error::{decay_factor, non_negative, ScheduleError};
use super::kind::closed_form_kind;
use burn::optim::LearningRate;

schedule_config! {
    /// Configuration of [`ExponentialLrScheduler`], PyTorch's
    /// [`torch.optim.lr_scheduler.ExponentialLR`](https://pytorch.org/docs/stable/generated/torch.optim.lr_scheduler.ExponentialLR.html).
    ///
    /// TOML: `[scheduler] type = "exponential"`, `gamma = 0.95`, `unit = "epoch"`.
    ///
    /// `lr(t) = base_lr * gamma^t`; `t` in `unit`s (epochs by default).
    ///
    /// ```
    /// # use burn_lr::burn;
    /// use burn::lr_scheduler::LrScheduler;
    /// use burn_lr::schedule::ExponentialLrSchedulerConfig;
    ///
    /// # fn main() -> Result<(), burn_lr::schedule::ScheduleError> {
    /// // PyTorch: ExponentialLR(SGD(params, lr=1.0), gamma=0.5)
    /// let close = |a: f64, b: f64| (a - b).abs() < 1e-12;
    /// let mut s = ExponentialLrSchedulerConfig::new(0.5).init(1.0)?;
    /// let lrs: Vec<f64> = (0..3).map(|_| s.step()).collect();
    /// assert!(lrs.iter().zip([1.0, 0.5, 0.25]).all(|(a, b)| close(*a, b)));
    /// # Ok(())
    /// # }
    /// ```
    pub struct ExponentialLrSchedulerConfig = "exponential", new(gamma: f64) {
        /// Multiplicative factor per step; in [0, 1].
        pub gamma: f64,
        /// What one step counts (`epoch` by default, as in PyTorch).
        pub unit: Unit = Unit::Epoch => with_unit,
    }
}

impl ExponentialLrSchedulerConfig {
    /// Validates the parameters into the closed-form schedule starting at `base_lr`.
    ///
    /// # Errors
    /// [`ScheduleError::InvalidParam`] for a `gamma` outside [0, 1] or a negative or non-finite
    /// `base_lr`.
    pub(crate) fn build(&self, base_lr: LearningRate) -> Result<ExponentialLr, ScheduleError> {
        const S: &str = ExponentialLrSchedulerConfig::NAME;
        non_negative(S, "lr", base_lr)?;
        decay_factor(S, "gamma", self.gamma)?;
        Ok(ExponentialLr {
            base_lr,
            gamma: self.gamma,
        })
    }

    /// Builds a scheduler whose every `step()` call is one PyTorch `scheduler.step()`.
    ///
    /// # Errors
    /// [`ScheduleError::InvalidParam`] for a `gamma` outside [0, 1] or a negative or non-finite
    /// `base_lr`.
    pub fn init(&self, base_lr: LearningRate) -> Result<ExponentialLrScheduler, ScheduleError> {
        Ok(ClosedFormScheduler::new(self.build(base_lr)?))
    }
}

/// ExponentialLR in closed form: `lr(t) = base_lr * gamma^t`.
#[derive(Debug, Clone, PartialEq)]
pub struct ExponentialLr {
    /// Initial learning rate.
    base_lr: LearningRate,
    /// Decay factor per step.
    gamma: f64,
}

impl ClosedForm for ExponentialLr {
    const KIND: &'static str = ExponentialLrSchedulerConfig::NAME;

    fn lr_at(&self, t: u64) -> LearningRate {
        self.base_lr * pow_u64(self.gamma, t)
    }

    fn fingerprint(&self) -> String {
        format!("base_lr={:?} gamma={:?}", self.base_lr, self.gamma)
    }
}

closed_form_kind! {
    ExponentialLrSchedulerConfig => ExponentialLrScheduler(ExponentialLr),
    build(config, run) config.build(run.base_lr),
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn by_hand() {
        let s = ExponentialLrSchedulerConfig::new(0.5).build(2.0).unwrap();
        assert_eq!([s.lr_at(0), s.lr_at(1), s.lr_at(3)], [2.0, 1.0, 0.25]);
        assert!(ExponentialLrSchedulerConfig::new(1.5).build(1.0).is_err());
    }
}
