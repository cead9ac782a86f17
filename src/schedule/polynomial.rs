//! `PolynomialLR`: the base LR decayed polynomially to 0 over `total_iters` steps.

use super::base::{schedule_config, ClosedForm, ClosedFormScheduler, Unit};
use super::error::{non_negative, ScheduleError};
use super::kind::closed_form_kind;
use burn::optim::LearningRate;

schedule_config! {
    /// Configuration of [`PolynomialLrScheduler`], PyTorch's
    /// [`torch.optim.lr_scheduler.PolynomialLR`](https://pytorch.org/docs/stable/generated/torch.optim.lr_scheduler.PolynomialLR.html):
    /// `base_lr * (1 - min(t, total_iters) / total_iters)^power`.
    ///
    /// TOML: `[scheduler] type = "polynomial"`, `total_iters = 50`, `power = 2.0`.
    ///
    /// `lr(t) = base_lr * (1 - min(t, total_iters) / total_iters)^power`; `t` and `total_iters` in `unit`s (epochs by default).
    ///
    /// ```
    /// # use burn_lr::burn;
    /// use burn::lr_scheduler::LrScheduler;
    /// use burn_lr::schedule::PolynomialLrSchedulerConfig;
    ///
    /// # fn main() -> Result<(), burn_lr::schedule::ScheduleError> {
    /// // PyTorch: PolynomialLR(SGD(params, lr=1.0), total_iters=4, power=1.0)
    /// let close = |a: f64, b: f64| (a - b).abs() < 1e-12;
    /// let mut s = PolynomialLrSchedulerConfig::new(4, 1.0).init(1.0)?;
    /// let lrs: Vec<f64> = (0..6).map(|_| s.step()).collect();
    /// assert!(lrs.iter().zip([1.0, 0.75, 0.5, 0.25, 0.0, 0.0]).all(|(a, b)| close(*a, b)));
    /// # Ok(())
    /// # }
    /// ```
    pub struct PolynomialLrSchedulerConfig = "polynomial", new(total_iters: u64, power: f64) {
        /// Steps until the LR reaches 0 (default 5); >= 1.
        pub total_iters: u64 = 5 => with_total_iters,
        /// Exponent (default 1.0); finite, >= 0.
        pub power: f64 = 1.0 => with_power,
        /// What one step counts (`epoch` by default).
        pub unit: Unit = Unit::Epoch => with_unit,
    }
}

impl PolynomialLrSchedulerConfig {
    /// Validates into the closed form starting at `base_lr`.
    ///
    /// # Errors
    /// [`ScheduleError::InvalidParam`] for `total_iters = 0` or a negative/non-finite `power`.
    pub(crate) fn build(&self, base_lr: LearningRate) -> Result<PolynomialLr, ScheduleError> {
        const S: &str = PolynomialLrSchedulerConfig::NAME;
        non_negative(S, "lr", base_lr)?;
        if self.total_iters == 0 {
            return Err(ScheduleError::invalid(S, "total_iters", 0, "must be an integer >= 1"));
        }
        non_negative(S, "power", self.power)?;
        Ok(PolynomialLr {
            base_lr,
            total_iters: self.total_iters,
            power: self.power,
        })
    }

    /// A scheduler whose every `step()` is one PyTorch `scheduler.step()`.
    ///
    /// # Errors
    /// [`ScheduleError::InvalidParam`] for `total_iters = 0` or a negative/non-finite `power`.
    pub fn init(&self, base_lr: LearningRate) -> Result<PolynomialLrScheduler, ScheduleError> {
        Ok(ClosedFormScheduler::new(self.build(base_lr)?))
    }
}

/// PolynomialLR in closed form (PyTorch's `_get_closed_form_lr`).
#[derive(Debug, Clone, PartialEq)]
pub struct PolynomialLr {
    base_lr: LearningRate,
    total_iters: u64,
    power: f64,
}

impl ClosedForm for PolynomialLr {
    const KIND: &'static str = PolynomialLrSchedulerConfig::NAME;

    fn lr_at(&self, t: u64) -> LearningRate {
        let t = t.min(self.total_iters) as f64;
        self.base_lr * (1.0 - t / self.total_iters as f64).powf(self.power)
    }
}

closed_form_kind! {
    PolynomialLrSchedulerConfig => PolynomialLrScheduler(PolynomialLr),
    build(config, run) config.build(run.base_lr),
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn by_hand() {
        let s = PolynomialLrSchedulerConfig::new(4, 2.0).build(1.0).unwrap();
        assert_eq!([s.lr_at(0), s.lr_at(2), s.lr_at(4), s.lr_at(9)], [1.0, 0.25, 0.0, 0.0]);
    }
}
