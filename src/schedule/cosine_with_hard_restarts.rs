//! Cosine with hard restarts after a linear warmup: Hugging Face's
//! `get_cosine_with_hard_restarts_schedule_with_warmup` (SGDR without the period growth).

use super::base::{hf_warmup, schedule_config, ClosedForm, ClosedFormScheduler, Unit};
use super::error::{non_negative, not_a_factor, positive, ScheduleError};
use super::kind::closed_form_kind;
use super::run::{length_warning, run_length, run_too_short, RunInfo};
use burn::optim::LearningRate;
use std::f64::consts::PI;

schedule_config! {
    /// Configuration of [`CosineWithHardRestartsLrScheduler`], Hugging Face's
    /// [`get_cosine_with_hard_restarts_schedule_with_warmup`](https://huggingface.co/docs/transformers/main_classes/optimizer_schedules#transformers.get_cosine_with_hard_restarts_schedule_with_warmup)
    /// (HF `SchedulerType` `cosine_with_restarts`).
    ///
    /// With `base` the optimizer's `lr`, `W = num_warmup_steps`, `T = num_training_steps` (in
    /// `unit`s): `base * t / W` for `t < W`; then with `p = (t - W) / (T - W)`,
    /// `base * (1 + cos(pi * ((num_cycles * p) mod 1))) / 2`, restarting at `base` `num_cycles`
    /// times; exactly 0 from `t = T` on. A training run fills in `num_training_steps` when it is
    /// left out.
    ///
    /// TOML: `[scheduler] type = "cosine_with_restarts"` (alias `cosine_with_hard_restarts`),
    /// `num_warmup_steps = 100`, `num_cycles = 3`.
    ///
    /// `lr(t) = base_lr * (1 + cos(pi * ((num_cycles * p) mod 1))) / 2, p = (t - W) / (T - W), after a linear warmup of W steps`; `t`, `W` and `T` in `unit`s (optimizer updates by default); 0 from `t = T` on.
    ///
    /// ```
    /// # use burn_lr::burn;
    /// use burn::lr_scheduler::LrScheduler;
    /// use burn_lr::schedule::CosineWithHardRestartsLrSchedulerConfig;
    ///
    /// # fn main() -> Result<(), burn_lr::schedule::ScheduleError> {
    /// // PyTorch: get_cosine_with_hard_restarts_schedule_with_warmup(SGD(params, lr=1.0), 0, num_training_steps=4, num_cycles=2) (Hugging Face)
    /// let close = |a: f64, b: f64| (a - b).abs() < 1e-12;
    /// let mut s = CosineWithHardRestartsLrSchedulerConfig::new(0, 4).with_num_cycles(2.0).init(1.0)?;
    /// let lrs: Vec<f64> = (0..5).map(|_| s.step()).collect();
    /// assert!(lrs.iter().zip([1.0, 0.5, 1.0, 0.5, 0.0]).all(|(a, b)| close(*a, b)));
    /// # Ok(())
    /// # }
    /// ```
    pub struct CosineWithHardRestartsLrSchedulerConfig = "cosine_with_restarts" {
        /// Length of the linear warmup from 0, in `unit`s.
        pub num_warmup_steps: u64 = 0 => with_num_warmup_steps,
        /// Total length, in `unit`s; `None`: the training run's length.
        pub num_training_steps: Option<u64> = None => with_num_training_steps,
        /// Number of cosine waves after the warmup (default 1); finite, > 0.
        pub num_cycles: f64 = 1.0 => with_num_cycles,
        /// What one step counts (`iteration` by default, as in HF).
        pub unit: Unit = Unit::Iteration => with_unit,
    }
}

impl CosineWithHardRestartsLrSchedulerConfig {
    /// A config with HF's defaults (`num_cycles = 1`).
    pub fn new(num_warmup_steps: u64, num_training_steps: u64) -> Self {
        Self {
            num_warmup_steps,
            num_training_steps: Some(num_training_steps),
            ..Self::defaults()
        }
    }

    /// Validates into the closed form starting at `base_lr`; `run_length` (in `unit`s) fills in
    /// a missing `num_training_steps`.
    ///
    /// # Errors
    /// [`ScheduleError::InvalidParam`]: a non-positive `num_cycles`, no length, or
    /// `num_training_steps < num_warmup_steps`.
    pub(crate) fn build(
        &self,
        base_lr: LearningRate,
        run_length: Option<u64>,
    ) -> Result<CosineWithHardRestarts, ScheduleError> {
        const S: &str = CosineWithHardRestartsLrSchedulerConfig::NAME;
        non_negative(S, "lr", base_lr)?;
        positive(S, "num_cycles", self.num_cycles)?;
        let total = training_steps(S, self.num_training_steps, run_length, self.num_warmup_steps)?;
        Ok(CosineWithHardRestarts {
            base_lr,
            warmup: self.num_warmup_steps,
            total,
            num_cycles: self.num_cycles,
        })
    }

    /// A scheduler whose every `step()` is one HF `scheduler.step()`.
    ///
    /// # Errors
    /// [`ScheduleError::InvalidParam`]: a non-positive `num_cycles`, no length, or
    /// `num_training_steps < num_warmup_steps`.
    pub fn init(&self, base_lr: LearningRate) -> Result<CosineWithHardRestartsLrScheduler, ScheduleError> {
        Ok(ClosedFormScheduler::new(self.build(base_lr, None)?))
    }
}

/// Checks an HF `num_training_steps`: given (or filled in by the run) and not shorter than the
/// warmup.
pub(crate) fn training_steps(
    s: &'static str,
    declared: Option<u64>,
    run_length: Option<u64>,
    warmup: u64,
) -> Result<u64, ScheduleError> {
    let total = declared.or(run_length).ok_or_else(|| {
        ScheduleError::invalid(
            s,
            "num_training_steps",
            "missing",
            "give num_training_steps (a training run fills it in)",
        )
    })?;
    if total < warmup {
        return Err(match declared {
            Some(_) => ScheduleError::invalid(
                s,
                "num_training_steps",
                total,
                format!("must be >= num_warmup_steps = {warmup}"),
            ),
            None => ScheduleError::invalid(
                s,
                "num_warmup_steps",
                warmup,
                run_too_short(total, &format!("its warmup of {warmup} steps"), "shorten the warmup"),
            ),
        });
    }
    Ok(total)
}

/// Cosine with hard restarts in closed form (HF's lambda, same float operations).
#[derive(Debug, Clone, PartialEq)]
pub struct CosineWithHardRestarts {
    base_lr: LearningRate,
    warmup: u64,
    total: u64,
    num_cycles: f64,
}

impl ClosedForm for CosineWithHardRestarts {
    const KIND: &'static str = CosineWithHardRestartsLrSchedulerConfig::NAME;

    fn lr_at(&self, t: u64) -> LearningRate {
        if t < self.warmup {
            return self.base_lr * hf_warmup(t, self.warmup);
        }
        let progress = (t - self.warmup) as f64 / (self.total - self.warmup).max(1) as f64;
        if progress >= 1.0 {
            return 0.0;
        }
        let wave = (self.num_cycles * progress) % 1.0;
        self.base_lr * f64::max(0.0, 0.5 * (1.0 + (PI * wave).cos()))
    }
}

closed_form_kind! {
    CosineWithHardRestartsLrSchedulerConfig => CosineWithHardRestartsLrScheduler(CosineWithHardRestarts),
    build(config, run) config.build(run.base_lr, Some(run_length(run, config.unit))),

    fn factor_check(&self, _run: &RunInfo) -> Result<(), String> {
        not_a_factor(Self::NAME)
    }

    fn length_warnings(&self, run: &RunInfo, out: &mut Vec<String>) {
        if let Some(declared) = self.num_training_steps {
            out.extend(length_warning(
                Self::NAME,
                "num_training_steps",
                declared,
                self.unit,
                run,
            ));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn by_hand() {
        // lr 1, warmup 2, 2 cycles over 8 steps: restarts at t = 2 and t = 6, 0 from t = 10.
        let s = CosineWithHardRestartsLrSchedulerConfig::new(2, 10)
            .with_num_cycles(2.0)
            .build(1.0, None)
            .unwrap();
        assert_eq!(s.lr_at(1), 0.5);
        assert_eq!(s.lr_at(2), 1.0);
        assert!((s.lr_at(4) - 0.5).abs() < 1e-15);
        assert_eq!(s.lr_at(6), 1.0);
        assert_eq!(s.lr_at(10), 0.0);
        assert!(CosineWithHardRestartsLrSchedulerConfig::new(5, 4)
            .build(1.0, None)
            .is_err());
    }
}
