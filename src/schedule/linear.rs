//! `LinearLR`: a factor on the base LR, linear from `start_factor` to `end_factor` over
//! `total_iters` steps.

use super::base::{land, schedule_config, ClosedForm, ClosedFormScheduler, Unit};
use super::error::{finite, non_negative, start_fraction, ScheduleError};
use super::kind::closed_form_kind;
use burn::optim::LearningRate;

schedule_config! {
    /// Configuration of [`LinearLrScheduler`], PyTorch's
    /// [`torch.optim.lr_scheduler.LinearLR`](https://pytorch.org/docs/stable/generated/torch.optim.lr_scheduler.LinearLR.html):
    /// the factor goes linearly from `start_factor` to `end_factor` over `total_iters` steps, then
    /// stays at `end_factor`.
    ///
    /// TOML: `[scheduler] type = "linear"`, `start_factor = 0.1`, `end_factor = 1.0`, `total_iters = 5`.
    ///
    /// `lr(t) = base_lr * (start_factor + (end_factor - start_factor) * min(t, total_iters) / total_iters)`; `t` and `total_iters` in `unit`s (epochs by default).
    ///
    /// ```
    /// # use burn_lr::burn;
    /// use burn::lr_scheduler::LrScheduler;
    /// use burn_lr::schedule::LinearLrSchedulerConfig;
    ///
    /// # fn main() -> Result<(), burn_lr::schedule::ScheduleError> {
    /// // PyTorch: LinearLR(SGD(params, lr=1.0), start_factor=0.5, end_factor=1.0, total_iters=2)
    /// let close = |a: f64, b: f64| (a - b).abs() < 1e-12;
    /// let mut s = LinearLrSchedulerConfig::new(0.5, 1.0, 2).init(1.0)?;
    /// let lrs: Vec<f64> = (0..4).map(|_| s.step()).collect();
    /// assert!(lrs.iter().zip([0.5, 0.75, 1.0, 1.0]).all(|(a, b)| close(*a, b)));
    /// # Ok(())
    /// # }
    /// ```
    pub struct LinearLrSchedulerConfig = "linear", new(start_factor: f64, end_factor: f64, total_iters: u64) {
        /// Factor at step 0, in (0, 1] as PyTorch requires (default 1/3).
        pub start_factor: f64 = 1.0 / 3.0 => with_start_factor,
        /// Factor from `total_iters` on, in [0, 1] (default 1.0).
        pub end_factor: f64 = 1.0 => with_end_factor,
        /// Steps of the ramp (default 5); 0 only with `start_factor = 1` (a no-op).
        pub total_iters: u64 = 5 => with_total_iters,
        /// What one step counts (`epoch` by default).
        pub unit: Unit = Unit::Epoch => with_unit,
    }
}

impl Default for LinearLrSchedulerConfig {
    /// PyTorch's defaults for every field.
    fn default() -> Self {
        Self::defaults()
    }
}

impl LinearLrSchedulerConfig {
    /// Validates into the closed form starting at `base_lr`.
    ///
    /// # Errors
    /// [`ScheduleError::InvalidParam`]: `start_factor` outside (0, 1], `end_factor` outside
    /// [0, 1], `total_iters = 0` with `start_factor != 1`, non-finite values.
    pub(crate) fn build(&self, base_lr: LearningRate) -> Result<LinearLr, ScheduleError> {
        const S: &str = LinearLrSchedulerConfig::NAME;
        non_negative(S, "lr", base_lr)?;
        start_fraction(S, "start_factor", self.start_factor)?;
        finite(S, "end_factor", self.end_factor)?;
        if !(0.0..=1.0).contains(&self.end_factor) {
            return Err(ScheduleError::invalid(
                S,
                "end_factor",
                self.end_factor,
                "must be in [0, 1]",
            ));
        }
        if self.total_iters == 0 && self.start_factor != 1.0 {
            return Err(ScheduleError::invalid(
                S,
                "total_iters",
                0,
                format!(
                    "must be >= 1 with start_factor = {} (0 is only a no-op with start_factor = 1)",
                    self.start_factor
                ),
            ));
        }
        Ok(LinearLr {
            base_lr,
            start_factor: self.start_factor,
            end_factor: self.end_factor,
            total_iters: self.total_iters,
        })
    }

    /// A scheduler whose every `step()` is one PyTorch `scheduler.step()`.
    ///
    /// # Errors
    /// [`ScheduleError::InvalidParam`]: `start_factor` outside (0, 1], `end_factor` outside
    /// [0, 1], `total_iters = 0` with `start_factor != 1`, non-finite values.
    pub fn init(&self, base_lr: LearningRate) -> Result<LinearLrScheduler, ScheduleError> {
        Ok(ClosedFormScheduler::new(self.build(base_lr)?))
    }
}

/// LinearLR in closed form: `base_lr * (start + (end - start) * min(t, total_iters) / total_iters)`,
/// exactly `base_lr * end_factor` from `t = total_iters` on.
#[derive(Debug, Clone, PartialEq)]
pub struct LinearLr {
    base_lr: LearningRate,
    start_factor: f64,
    end_factor: f64,
    total_iters: u64,
}

impl ClosedForm for LinearLr {
    const KIND: &'static str = LinearLrSchedulerConfig::NAME;

    fn lr_at(&self, t: u64) -> LearningRate {
        if self.total_iters == 0 {
            // PyTorch never leaves start_factor (= 1 here) when total_iters is 0.
            return self.base_lr * self.start_factor;
        }
        // PyTorch's closed form, landing exactly on `end_factor` from `total_iters` on (the plain
        // formula leaves -1.4e-17 for start 0.1, end 0, 3 iterations).
        let t = t.min(self.total_iters) as f64;
        let weight = t / self.total_iters as f64;
        let delta = (self.end_factor - self.start_factor) * t / self.total_iters as f64;
        self.base_lr * land(self.start_factor, self.end_factor, weight, delta)
    }
}

closed_form_kind! {
    LinearLrSchedulerConfig => LinearLrScheduler(LinearLr),
    build(config, run) config.build(run.base_lr),
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn by_hand_and_exact_end() {
        let s = LinearLrSchedulerConfig::new(0.5, 1.0, 2).build(1.0).unwrap();
        assert_eq!([s.lr_at(0), s.lr_at(1), s.lr_at(2), s.lr_at(9)], [0.5, 0.75, 1.0, 1.0]);
        let down = LinearLrSchedulerConfig::new(0.1, 0.0, 3).build(1.0).unwrap();
        assert_eq!(down.lr_at(3), 0.0);
    }
}
