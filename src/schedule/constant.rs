//! `ConstantLR`: a constant factor on the base LR for the first `total_iters` steps.

use super::base::{schedule_config, ClosedForm, ClosedFormScheduler, Unit};
use super::error::{non_negative, start_fraction, ScheduleError};
use super::kind::closed_form_kind;
use burn::optim::LearningRate;

schedule_config! {
    /// Configuration of [`ConstantLrScheduler`], PyTorch's
    /// [`torch.optim.lr_scheduler.ConstantLR`](https://pytorch.org/docs/stable/generated/torch.optim.lr_scheduler.ConstantLR.html):
    /// `base_lr * factor` for the first `total_iters` steps, then `base_lr`.
    ///
    /// TOML: `[scheduler] type = "constant"`, `factor = 0.5`, `total_iters = 4`.
    ///
    /// `lr(t) = base_lr * factor for t < total_iters, base_lr after`; `t` and `total_iters` in `unit`s (epochs by default).
    ///
    /// ```
    /// # use burn_lr::burn;
    /// use burn::lr_scheduler::LrScheduler;
    /// use burn_lr::schedule::ConstantLrSchedulerConfig;
    ///
    /// # fn main() -> Result<(), burn_lr::schedule::ScheduleError> {
    /// // PyTorch: ConstantLR(SGD(params, lr=1.0), factor=0.5, total_iters=2)
    /// let close = |a: f64, b: f64| (a - b).abs() < 1e-12;
    /// let mut s = ConstantLrSchedulerConfig::new(0.5, 2).init(1.0)?;
    /// let lrs: Vec<f64> = (0..3).map(|_| s.step()).collect();
    /// assert!(lrs.iter().zip([0.5, 0.5, 1.0]).all(|(a, b)| close(*a, b)));
    /// # Ok(())
    /// # }
    /// ```
    pub struct ConstantLrSchedulerConfig = "constant", new(factor: f64, total_iters: u64) {
        /// Factor, in (0, 1] (default 1/3).
        pub factor: f64 = 1.0 / 3.0 => with_factor,
        /// Steps at the reduced LR (default 5).
        pub total_iters: u64 = 5 => with_total_iters,
        /// What one step counts (`epoch` by default).
        pub unit: Unit = Unit::Epoch => with_unit,
    }
}

impl ConstantLrSchedulerConfig {
    /// Validates into the closed form starting at `base_lr`.
    ///
    /// # Errors
    /// [`ScheduleError::InvalidParam`] for `factor` outside (0, 1] (PyTorch allows 0 and then
    /// divides by it in its recursive form) or a non-finite value.
    pub(crate) fn build(&self, base_lr: LearningRate) -> Result<ConstantLr, ScheduleError> {
        const S: &str = ConstantLrSchedulerConfig::NAME;
        non_negative(S, "lr", base_lr)?;
        start_fraction(S, "factor", self.factor)?;
        if self.total_iters == 0 && self.factor != 1.0 {
            return Err(ScheduleError::invalid(
                S,
                "total_iters",
                0,
                format!(
                    "must be >= 1 with factor = {} (PyTorch's two code paths disagree at 0)",
                    self.factor
                ),
            ));
        }
        Ok(ConstantLr {
            base_lr,
            factor: self.factor,
            total_iters: self.total_iters,
        })
    }

    /// A scheduler whose every `step()` is one PyTorch `scheduler.step()`.
    ///
    /// # Errors
    /// [`ScheduleError::InvalidParam`] for `factor` outside (0, 1] (PyTorch allows 0 and then
    /// divides by it in its recursive form) or a non-finite value.
    pub fn init(&self, base_lr: LearningRate) -> Result<ConstantLrScheduler, ScheduleError> {
        Ok(ClosedFormScheduler::new(self.build(base_lr)?))
    }
}

/// ConstantLR in closed form: `base_lr * (factor if t < total_iters else 1)`.
#[derive(Debug, Clone, PartialEq)]
pub struct ConstantLr {
    base_lr: LearningRate,
    factor: f64,
    total_iters: u64,
}

impl ClosedForm for ConstantLr {
    const KIND: &'static str = ConstantLrSchedulerConfig::NAME;

    fn lr_at(&self, t: u64) -> LearningRate {
        if t < self.total_iters {
            self.base_lr * self.factor
        } else {
            self.base_lr
        }
    }
}

closed_form_kind! {
    ConstantLrSchedulerConfig => ConstantLrScheduler(ConstantLr),
    build(config, run) config.build(run.base_lr),
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn by_hand() {
        let s = ConstantLrSchedulerConfig::new(0.5, 2).build(1.0).unwrap();
        assert_eq!([s.lr_at(0), s.lr_at(1), s.lr_at(2)], [0.5, 0.5, 1.0]);
        assert!(ConstantLrSchedulerConfig::new(0.0, 2).build(1.0).is_err());
    }
}
