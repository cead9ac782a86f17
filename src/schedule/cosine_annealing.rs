//! `CosineAnnealingLR` (SGDR without restarts, Loshchilov & Hutter 2017).

use super::base::{cosine_between, schedule_config, ClosedForm, ClosedFormScheduler, Unit};
use super::error::{non_negative, ScheduleError};
use super::kind::closed_form_kind;
use super::run::{run_length, RunInfo};
use burn::optim::LearningRate;
use serde::{Deserialize, Serialize};
use std::f64::consts::PI;

schedule_config! {
    /// Configuration of [`CosineAnnealingLrScheduler`], PyTorch's
    /// [`torch.optim.lr_scheduler.CosineAnnealingLR`](https://pytorch.org/docs/stable/generated/torch.optim.lr_scheduler.CosineAnnealingLR.html).
    ///
    /// TOML: `[scheduler] type = "cosine_annealing"`, `t_max = 50`, `eta_min = 0.0`.
    ///
    /// After `t_max` the LR follows PyTorch's periodic continuation by default (it rises back
    /// towards the base LR over the next `t_max` steps); `after_t_max = "clamp"` holds `eta_min`
    /// instead, which is what most users expect.
    ///
    /// `lr(t) = eta_min + (base_lr - eta_min) * (1 + cos(pi * t / t_max)) / 2`; `t` and `t_max` in `unit`s (epochs by default); past `t_max` periodic as PyTorch, or held at `eta_min` with `after_t_max = "clamp"`.
    ///
    /// ```
    /// # use burn_lr::burn;
    /// use burn::lr_scheduler::LrScheduler;
    /// use burn_lr::schedule::CosineAnnealingLrSchedulerConfig;
    ///
    /// # fn main() -> Result<(), burn_lr::schedule::ScheduleError> {
    /// // PyTorch: CosineAnnealingLR(SGD(params, lr=1.0), T_max=2, eta_min=0.0)
    /// let close = |a: f64, b: f64| (a - b).abs() < 1e-12;
    /// let mut s = CosineAnnealingLrSchedulerConfig::new(2).init(1.0)?;
    /// let lrs: Vec<f64> = (0..3).map(|_| s.step()).collect();
    /// assert!(lrs.iter().zip([1.0, 0.5, 0.0]).all(|(a, b)| close(*a, b)));
    /// # Ok(())
    /// # }
    /// ```
    pub struct CosineAnnealingLrSchedulerConfig = "cosine_annealing", new(t_max: u64) {
        /// Half period (PyTorch's `T_max`), in `unit`s; >= 1.
        pub t_max: u64,
        /// Minimum learning rate (PyTorch's `eta_min`, default 0); finite, >= 0.
        pub eta_min: f64 = 0.0 => with_eta_min,
        /// What one step counts (`epoch` by default).
        pub unit: Unit = Unit::Epoch => with_unit,
        /// `periodic` (default, PyTorch parity) or `clamp` (hold `eta_min` after `t_max`).
        pub after_t_max: AfterTMax = AfterTMax::Periodic,
    }
}

/// What CosineAnnealingLR does after `t_max` steps.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AfterTMax {
    /// PyTorch's behaviour: the cosine continues, rising back to the base LR at `2 * t_max`.
    Periodic,
    /// Hold `eta_min` from `t_max` on.
    Clamp,
}

impl CosineAnnealingLrSchedulerConfig {
    /// Sets what happens after `t_max`.
    pub fn with_after_t_max(mut self, after: AfterTMax) -> Self {
        self.after_t_max = after;
        self
    }

    /// Validates the parameters into the closed-form schedule starting at `base_lr`.
    ///
    /// # Errors
    /// [`ScheduleError::InvalidParam`] for `t_max = 0` or a negative/non-finite `eta_min`.
    pub(crate) fn build(&self, base_lr: LearningRate) -> Result<CosineAnnealingLr, ScheduleError> {
        const S: &str = CosineAnnealingLrSchedulerConfig::NAME;
        non_negative(S, "lr", base_lr)?;
        if self.t_max == 0 {
            return Err(ScheduleError::invalid(S, "t_max", 0, "must be an integer >= 1"));
        }
        non_negative(S, "eta_min", self.eta_min)?;
        Ok(CosineAnnealingLr {
            base_lr,
            t_max: self.t_max,
            eta_min: self.eta_min,
            clamp: self.after_t_max == AfterTMax::Clamp,
        })
    }

    /// Builds a scheduler whose every `step()` call is one PyTorch `scheduler.step()`.
    ///
    /// # Errors
    /// [`ScheduleError::InvalidParam`] for `t_max = 0` or a negative/non-finite `eta_min`.
    pub fn init(&self, base_lr: LearningRate) -> Result<CosineAnnealingLrScheduler, ScheduleError> {
        Ok(ClosedFormScheduler::new(self.build(base_lr)?))
    }
}

/// CosineAnnealingLR in closed form:
/// `lr(t) = eta_min + (base_lr - eta_min) * (1 + cos(pi * t / t_max)) / 2`.
///
/// `t` is reduced modulo the period `2 * t_max` in integers first, so huge `t` keeps full
/// precision and never divides by zero.
#[derive(Debug, Clone, PartialEq)]
pub struct CosineAnnealingLr {
    /// Initial (maximum) learning rate.
    base_lr: LearningRate,
    /// Half period, in steps.
    t_max: u64,
    /// Minimum learning rate.
    eta_min: f64,
    /// Hold `eta_min` after `t_max` instead of PyTorch's periodic continuation.
    clamp: bool,
}

impl ClosedForm for CosineAnnealingLr {
    const KIND: &'static str = CosineAnnealingLrSchedulerConfig::NAME;

    fn lr_at(&self, t: u64) -> LearningRate {
        if self.clamp && t >= self.t_max {
            return self.eta_min;
        }
        let t = t % self.t_max.saturating_mul(2);
        cosine_between(
            self.eta_min,
            self.base_lr,
            1.0 + (PI * t as f64 / self.t_max as f64).cos(),
        )
    }

    fn fingerprint(&self) -> String {
        format!(
            "base_lr={:?} t_max={} eta_min={:?} clamp={}",
            self.base_lr, self.t_max, self.eta_min, self.clamp
        )
    }
}

closed_form_kind! {
    CosineAnnealingLrSchedulerConfig => CosineAnnealingLrScheduler(CosineAnnealingLr),
    build(config, run) config.build(run.base_lr),

    /// A factor with `eta_min = 0`, and, periodic, only up to `t_max`: past it PyTorch's
    /// chainable form adds to the LR instead of scaling it.
    fn factor_check(&self, run: &RunInfo) -> Result<(), String> {
        let len = run_length(run, self.unit);
        if self.eta_min != 0.0 {
            Err(format!(
                "{} with eta_min = {} sets an absolute LR",
                Self::NAME,
                self.eta_min
            ))
        } else if self.after_t_max == AfterTMax::Periodic && len > self.t_max.saturating_add(1) {
            Err(format!(
                "{} with t_max = {} in a run of {len} {}s: past t_max it adds to the LR; make t_max cover the \
                 run or set after_t_max = \"clamp\"",
                Self::NAME,
                self.t_max,
                self.unit
            ))
        } else {
            Ok(())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn by_hand_exact_ends_and_period() {
        let s = CosineAnnealingLrSchedulerConfig::new(2)
            .with_eta_min(0.5)
            .build(1.5)
            .unwrap();
        assert_eq!([s.lr_at(0), s.lr_at(2), s.lr_at(4)], [1.5, 0.5, 1.5]);
        assert!((s.lr_at(1) - 1.0).abs() < 1e-15);
    }
}
