//! Inverse square root decay after a linear warmup: Hugging Face's `get_inverse_sqrt_schedule`
//! (from big_vision; Vaswani et al. 2017 in the `timescale = warmup` form).

use super::base::{hf_warmup, schedule_config, ClosedForm, ClosedFormScheduler, Unit};
use super::error::{non_negative, not_a_factor, ScheduleError};
use super::kind::closed_form_kind;
use super::run::RunInfo;
use burn::optim::LearningRate;

schedule_config! {
    /// Configuration of [`InverseSqrtLrScheduler`], Hugging Face's
    /// [`get_inverse_sqrt_schedule`](https://huggingface.co/docs/transformers/main_classes/optimizer_schedules#transformers.get_inverse_sqrt_schedule).
    ///
    /// With `base` the optimizer's `lr`, `W = num_warmup_steps`, `T = timescale` (in `unit`s):
    /// `base * t / W` for `t < W`, then `base / sqrt((t + T - W) / T)` (exactly `base` at `t = W`).
    ///
    /// TOML: `[scheduler] type = "inverse_sqrt"`, `num_warmup_steps = 4000`, `timescale = 4000`.
    ///
    /// `lr(t) = base_lr * t / W for t < W, then base_lr / sqrt((t + T - W) / T)`; `t`, `W = num_warmup_steps` and `T = timescale` (default `W`, or 10,000 without a warmup) in `unit`s (optimizer updates by default).
    ///
    /// ```
    /// # use burn_lr::burn;
    /// use burn::lr_scheduler::LrScheduler;
    /// use burn_lr::schedule::InverseSqrtLrSchedulerConfig;
    ///
    /// # fn main() -> Result<(), burn_lr::schedule::ScheduleError> {
    /// // PyTorch: get_inverse_sqrt_schedule(SGD(params, lr=1.0), num_warmup_steps=2) (Hugging Face transformers)
    /// let close = |a: f64, b: f64| (a - b).abs() < 1e-12;
    /// let mut s = InverseSqrtLrSchedulerConfig::new(2).init(1.0)?;
    /// let lrs: Vec<f64> = (0..9).map(|_| s.step()).collect();
    /// assert!(close(lrs[0], 0.0) && close(lrs[1], 0.5) && close(lrs[2], 1.0));
    /// assert!(close(lrs[8], 0.5)); // 1 / sqrt((8 + 2 - 2) / 2)
    /// # Ok(())
    /// # }
    /// ```
    pub struct InverseSqrtLrSchedulerConfig = "inverse_sqrt", new(num_warmup_steps: u64) {
        /// Length of the linear warmup from 0, in `unit`s.
        pub num_warmup_steps: u64,
        /// Time scale of the decay, in `unit`s; default `num_warmup_steps`, or 10,000 when that is 0
        /// (as HF); >= 1.
        pub timescale: Option<u64> = None,
        /// What one step counts (`iteration` by default, as in HF).
        pub unit: Unit = Unit::Iteration => with_unit,
    }
}

impl InverseSqrtLrSchedulerConfig {
    /// Sets `timescale`.
    pub fn with_timescale(mut self, timescale: u64) -> Self {
        self.timescale = Some(timescale);
        self
    }

    /// Validates into the closed form starting at `base_lr`.
    ///
    /// # Errors
    /// [`ScheduleError::InvalidParam`] for `timescale = 0` or a negative `lr`.
    pub(crate) fn build(&self, base_lr: LearningRate) -> Result<InverseSqrt, ScheduleError> {
        const S: &str = InverseSqrtLrSchedulerConfig::NAME;
        non_negative(S, "lr", base_lr)?;
        let timescale = match self.timescale {
            Some(0) => return Err(ScheduleError::invalid(S, "timescale", 0, "must be an integer >= 1")),
            Some(t) => t,
            None if self.num_warmup_steps == 0 => 10_000,
            None => self.num_warmup_steps,
        };
        Ok(InverseSqrt {
            base_lr,
            warmup: self.num_warmup_steps,
            timescale,
        })
    }

    /// A scheduler whose every `step()` is one HF `scheduler.step()`.
    ///
    /// # Errors
    /// [`ScheduleError::InvalidParam`] for `timescale = 0` or a negative `lr`.
    pub fn init(&self, base_lr: LearningRate) -> Result<InverseSqrtLrScheduler, ScheduleError> {
        Ok(ClosedFormScheduler::new(self.build(base_lr)?))
    }
}

/// Inverse square root in closed form (HF's `_get_inverse_sqrt_schedule_lr_lambda`).
#[derive(Debug, Clone, PartialEq)]
pub struct InverseSqrt {
    base_lr: LearningRate,
    warmup: u64,
    timescale: u64,
}

impl ClosedForm for InverseSqrt {
    const KIND: &'static str = InverseSqrtLrSchedulerConfig::NAME;

    fn lr_at(&self, t: u64) -> LearningRate {
        if t < self.warmup {
            return self.base_lr * hf_warmup(t, self.warmup);
        }
        // Integer `t + shift` as Python computes it, then one float division.
        let shifted = i128::from(t) + i128::from(self.timescale) - i128::from(self.warmup);
        self.base_lr * (1.0 / (shifted as f64 / self.timescale as f64).sqrt())
    }
}

closed_form_kind! {
    InverseSqrtLrSchedulerConfig => InverseSqrtLrScheduler(InverseSqrt),
    build(config, run) config.build(run.base_lr),

    fn factor_check(&self, _run: &RunInfo) -> Result<(), String> {
        not_a_factor(Self::NAME)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn by_hand() {
        let s = InverseSqrtLrSchedulerConfig::new(4).build(2.0).unwrap();
        assert_eq!(s.lr_at(0), 0.0);
        assert_eq!(s.lr_at(2), 1.0);
        assert_eq!(s.lr_at(4), 2.0);
        assert_eq!(s.lr_at(16), 1.0); // 2 / sqrt(16 / 4)
        assert_eq!(
            InverseSqrtLrSchedulerConfig::new(0).build(1.0).unwrap().timescale,
            10_000
        );
        assert!(InverseSqrtLrSchedulerConfig::new(4)
            .with_timescale(0)
            .build(1.0)
            .is_err());
    }
}
