//! Polynomial decay to `lr_end` after a linear warmup: Hugging Face's
//! `get_polynomial_decay_schedule_with_warmup` (BERT's and fairseq's schedule).

use super::base::{hf_warmup, schedule_config, ClosedForm, ClosedFormScheduler, Unit};
use super::cosine_with_hard_restarts::training_steps;
use super::error::{finite, non_negative, not_a_factor, ScheduleError};
use super::kind::closed_form_kind;
use super::run::{length_warning, run_length, run_too_short, RunInfo};
use burn::optim::LearningRate;

schedule_config! {
    /// Configuration of [`PolynomialDecayLrScheduler`], Hugging Face's
    /// [`get_polynomial_decay_schedule_with_warmup`](https://huggingface.co/docs/transformers/main_classes/optimizer_schedules#transformers.get_polynomial_decay_schedule_with_warmup).
    ///
    /// With `base` the optimizer's `lr` (HF's `lr_init`), `W = num_warmup_steps`,
    /// `T = num_training_steps` (in `unit`s): `base * t / W` for `t < W`, then
    /// `(base - lr_end) * (1 - (t - W) / (T - W))^power + lr_end`, exactly `lr_end` from `t = T`
    /// on (with `power = 0`, HF's `0^0 = 1` keeps `base` at `t = T`, then `lr_end`). A training run fills in `num_training_steps` when it is left out. (PyTorch's
    /// `PolynomialLR` is `type = "polynomial"`.)
    ///
    /// TOML: `[scheduler] type = "polynomial_decay"`, `num_warmup_steps = 100`, `lr_end = 1e-7`,
    /// `power = 1.0`.
    ///
    /// `lr(t) = (base_lr - lr_end) * (1 - (t - W) / (T - W))^power + lr_end, after a linear warmup of W steps`; `t`, `W` and `T` in `unit`s (optimizer updates by default); `lr_end` from `t = T` on.
    ///
    /// ```
    /// # use burn_lr::burn;
    /// use burn::lr_scheduler::LrScheduler;
    /// use burn_lr::schedule::PolynomialDecayLrSchedulerConfig;
    ///
    /// # fn main() -> Result<(), burn_lr::schedule::ScheduleError> {
    /// // PyTorch: get_polynomial_decay_schedule_with_warmup(SGD(params, lr=1.0), 0, num_training_steps=4, lr_end=0.0, power=1.0) (Hugging Face)
    /// let close = |a: f64, b: f64| (a - b).abs() < 1e-12;
    /// let mut s = PolynomialDecayLrSchedulerConfig::new(0, 4).with_end(0.0, 1.0).init(1.0)?;
    /// let lrs: Vec<f64> = (0..5).map(|_| s.step()).collect();
    /// assert!(lrs.iter().zip([1.0, 0.75, 0.5, 0.25, 0.0]).all(|(a, b)| close(*a, b)));
    /// # Ok(())
    /// # }
    /// ```
    pub struct PolynomialDecayLrSchedulerConfig = "polynomial_decay" {
        /// Length of the linear warmup from 0, in `unit`s.
        pub num_warmup_steps: u64 = 0 => with_num_warmup_steps,
        /// Total length, in `unit`s; `None`: the training run's length.
        pub num_training_steps: Option<u64> = None => with_num_training_steps,
        /// The final learning rate (default 1e-7); finite, >= 0 and below the optimizer's `lr`.
        pub lr_end: f64 = 1e-7 => with_lr_end,
        /// Exponent of the decay (default 1.0, linear); finite, >= 0.
        pub power: f64 = 1.0 => with_power,
        /// What one step counts (`iteration` by default, as in HF).
        pub unit: Unit = Unit::Iteration => with_unit,
    }
}

impl PolynomialDecayLrSchedulerConfig {
    /// A config with HF's defaults (`lr_end = 1e-7`, `power = 1`).
    pub fn new(num_warmup_steps: u64, num_training_steps: u64) -> Self {
        Self {
            num_warmup_steps,
            num_training_steps: Some(num_training_steps),
            ..Self::defaults()
        }
    }

    /// Sets `lr_end` and `power`.
    pub fn with_end(mut self, lr_end: f64, power: f64) -> Self {
        self.lr_end = lr_end;
        self.power = power;
        self
    }

    /// Validates into the closed form starting at `base_lr`; `run_length` (in `unit`s) fills in
    /// a missing `num_training_steps`.
    ///
    /// # Errors
    /// [`ScheduleError::InvalidParam`]: `lr_end` negative or not below `lr` (HF raises too), a
    /// negative `power`, no length, or `num_training_steps <= num_warmup_steps` (HF divides by
    /// zero at the end of the warmup).
    pub(crate) fn build(
        &self,
        base_lr: LearningRate,
        run_length: Option<u64>,
    ) -> Result<PolynomialDecay, ScheduleError> {
        const S: &str = PolynomialDecayLrSchedulerConfig::NAME;
        finite(S, "lr", base_lr)?;
        non_negative(S, "lr_end", self.lr_end)?;
        if base_lr <= self.lr_end {
            return Err(ScheduleError::invalid(
                S,
                "lr_end",
                self.lr_end,
                format!("must be smaller than the optimizer's lr = {base_lr}"),
            ));
        }
        non_negative(S, "power", self.power)?;
        let total = training_steps(S, self.num_training_steps, run_length, self.num_warmup_steps)?;
        if total == self.num_warmup_steps {
            let warmup = self.num_warmup_steps;
            return Err(match self.num_training_steps {
                Some(_) => ScheduleError::invalid(
                    S,
                    "num_training_steps",
                    total,
                    format!("must be > num_warmup_steps = {warmup} (no decay steps)"),
                ),
                None => ScheduleError::invalid(
                    S,
                    "num_warmup_steps",
                    warmup,
                    run_too_short(
                        total,
                        &format!("its warmup of {warmup} steps and a decay"),
                        "shorten the warmup",
                    ),
                ),
            });
        }
        Ok(PolynomialDecay {
            base_lr,
            warmup: self.num_warmup_steps,
            total,
            lr_end: self.lr_end,
            power: self.power,
        })
    }

    /// A scheduler whose every `step()` is one HF `scheduler.step()`.
    ///
    /// # Errors
    /// [`ScheduleError::InvalidParam`]: `lr_end` negative or not below `lr` (HF raises too), a
    /// negative `power`, no length, or `num_training_steps <= num_warmup_steps` (HF divides by
    /// zero at the end of the warmup).
    pub fn init(&self, base_lr: LearningRate) -> Result<PolynomialDecayLrScheduler, ScheduleError> {
        Ok(ClosedFormScheduler::new(self.build(base_lr, None)?))
    }
}

/// Polynomial decay in closed form (HF's lambda times `lr_init`).
#[derive(Debug, Clone, PartialEq)]
pub struct PolynomialDecay {
    base_lr: LearningRate,
    warmup: u64,
    total: u64,
    lr_end: f64,
    power: f64,
}

impl ClosedForm for PolynomialDecay {
    const KIND: &'static str = PolynomialDecayLrSchedulerConfig::NAME;

    fn lr_at(&self, t: u64) -> LearningRate {
        if t < self.warmup {
            return self.base_lr * hf_warmup(t, self.warmup);
        }
        if t > self.total {
            return self.lr_end;
        }
        let decay_steps = (self.total - self.warmup) as f64;
        let pct_remaining = 1.0 - (t - self.warmup) as f64 / decay_steps;
        (self.base_lr - self.lr_end) * pct_remaining.powf(self.power) + self.lr_end
    }
}

closed_form_kind! {
    PolynomialDecayLrSchedulerConfig => PolynomialDecayLrScheduler(PolynomialDecay),
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
        // lr 1, warmup 2, 4 decay steps to 0.5 with power 2.
        let s = PolynomialDecayLrSchedulerConfig::new(2, 6)
            .with_end(0.5, 2.0)
            .build(1.0, None)
            .unwrap();
        let lrs: Vec<f64> = (0..8).map(|t| s.lr_at(t)).collect();
        assert_eq!(lrs, [0.0, 0.5, 1.0, 0.78125, 0.625, 0.53125, 0.5, 0.5]);
        assert!(PolynomialDecayLrSchedulerConfig::new(2, 6)
            .with_end(1.0, 1.0)
            .build(1.0, None)
            .is_err());
        assert!(PolynomialDecayLrSchedulerConfig::new(6, 6).build(1.0, None).is_err());
        // power 0: HF's 0^0 = 1 at t = T.
        let flat = PolynomialDecayLrSchedulerConfig::new(0, 4)
            .with_end(0.0, 0.0)
            .build(1.0, None)
            .unwrap();
        assert_eq!([flat.lr_at(3), flat.lr_at(4), flat.lr_at(5)], [1.0, 1.0, 0.0]);
    }
}
