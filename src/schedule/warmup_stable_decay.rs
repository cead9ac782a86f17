//! Warmup-stable-decay (WSD): Hugging Face's `get_wsd_schedule` (Hu et al. 2024, "MiniCPM").

use super::base::{schedule_config, ClosedForm, ClosedFormScheduler, Unit};
use super::error::{finite, non_negative, not_a_factor, ScheduleError};
use super::kind::closed_form_kind;
use super::run::{length_warning, run_length, run_too_short, RunInfo};
use burn::optim::LearningRate;
use serde::{Deserialize, Serialize};
use std::f64::consts::PI;

/// The curve of a WSD warmup or decay stage (HF's `warmup_type` / `decay_type`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum WsdShape {
    /// `linear`.
    #[serde(rename = "linear")]
    Linear,
    /// `cosine`.
    #[serde(rename = "cosine")]
    Cosine,
    /// `1-sqrt` (Hägele et al. 2024): `1 - sqrt(progress)`.
    #[serde(rename = "1-sqrt", alias = "one_minus_sqrt")]
    OneMinusSqrt,
}

schedule_config! {
    /// Configuration of [`WarmupStableDecayLrScheduler`], Hugging Face's
    /// [`get_wsd_schedule`](https://huggingface.co/docs/transformers/main_classes/optimizer_schedules#transformers.get_wsd_schedule),
    /// same parameter names and defaults.
    ///
    /// With `base` the optimizer's `lr` and `r = min_lr_ratio`, all lengths in `unit`s (optimizer
    /// updates by default), `W` warmup, `S` stable, `D` decay steps:
    ///
    /// - `t < W`: `base * (r + (1 - r) * warm(t / W))`, `warm` = `p`, `(1 - cos(pi p)) / 2` or
    ///   `1 - sqrt(1 - p)`;
    /// - `W <= t < W + S`: `base`;
    /// - `W + S <= t < W + S + D`: `base * (r + (1 - r) * decay(p))`, `p = (t - W - S) / D`,
    ///   `decay` = `1 - p`, `(1 + cos(2 pi num_cycles p)) / 2` or `1 - sqrt(p)`;
    /// - after: exactly `base * r`.
    ///
    /// `S = num_stable_steps`, else `num_training_steps - W - D`; a training run fills in
    /// `num_training_steps` when both are left out.
    ///
    /// TOML: `[scheduler] type = "warmup_stable_decay"` (alias `wsd`), `num_warmup_steps = 500`,
    /// `num_decay_steps = 2000`, `decay_type = "1-sqrt"`, `min_lr_ratio = 0.1`.
    ///
    /// `lr rises from 0 to base_lr over W steps, stays there for S steps, then decays over D steps to min_lr_ratio * base_lr`; `W`, `S`, `D` in `unit`s (optimizer updates by default); each phase linear, cosine or 1-sqrt.
    ///
    /// ```
    /// # use burn_lr::burn;
    /// use burn::lr_scheduler::LrScheduler;
    /// use burn_lr::schedule::WarmupStableDecayLrSchedulerConfig;
    ///
    /// # fn main() -> Result<(), burn_lr::schedule::ScheduleError> {
    /// // PyTorch: get_wsd_schedule(SGD(params, lr=1.0), num_warmup_steps=2, num_decay_steps=2, num_training_steps=6) (Hugging Face)
    /// let close = |a: f64, b: f64| (a - b).abs() < 1e-12;
    /// let mut s = WarmupStableDecayLrSchedulerConfig::new(2, 2).with_num_training_steps(6).init(1.0)?;
    /// let lrs: Vec<f64> = (0..6).map(|_| s.step()).collect();
    /// assert!(lrs.iter().zip([0.0, 0.5, 1.0, 1.0, 1.0, 0.5]).all(|(a, b)| close(*a, b)));
    /// # Ok(())
    /// # }
    /// ```
    pub struct WarmupStableDecayLrSchedulerConfig = "warmup_stable_decay", new(num_warmup_steps: u64, num_decay_steps: u64) {
        /// Length of the warmup, in `unit`s.
        pub num_warmup_steps: u64,
        /// Length of the decay, in `unit`s.
        pub num_decay_steps: u64,
        /// Total length (warmup + stable + decay), in `unit`s; `None`: `num_stable_steps`, or the run.
        pub num_training_steps: Option<u64> = None,
        /// Length of the stable stage, in `unit`s; wins over `num_training_steps` (as in HF).
        pub num_stable_steps: Option<u64> = None,
        /// `linear` (default), `cosine` or `1-sqrt`.
        pub warmup_type: WsdShape = WsdShape::Linear => with_warmup_type,
        /// `cosine` (default), `linear` or `1-sqrt`.
        pub decay_type: WsdShape = WsdShape::Cosine => with_decay_type,
        /// The LR at the start of the warmup and after the decay, as a fraction of `lr`; in [0, 1]
        /// (default 0).
        pub min_lr_ratio: f64 = 0.0,
        /// Waves of the cosine decay (default 0.5: one half-cosine down); finite, >= 0.
        pub num_cycles: f64 = 0.5 => with_num_cycles,
        /// What one step counts (`iteration` by default, as in HF).
        pub unit: Unit = Unit::Iteration => with_unit,
    }
}

impl WarmupStableDecayLrSchedulerConfig {
    /// Sets `num_training_steps`.
    pub fn with_num_training_steps(mut self, n: u64) -> Self {
        self.num_training_steps = Some(n);
        self
    }

    /// Sets `num_stable_steps`.
    pub fn with_num_stable_steps(mut self, n: u64) -> Self {
        self.num_stable_steps = Some(n);
        self
    }

    /// Sets `warmup_type` and `decay_type`.
    pub fn with_types(mut self, warmup_type: WsdShape, decay_type: WsdShape) -> Self {
        self.warmup_type = warmup_type;
        self.decay_type = decay_type;
        self
    }

    /// Sets `min_lr_ratio`.
    pub fn with_min_lr_ratio(mut self, r: f64) -> Self {
        self.min_lr_ratio = r;
        self
    }

    /// The declared total length, if any (`num_training_steps`).
    pub fn declared_length(&self) -> Option<u64> {
        self.num_stable_steps
            .map(|s| {
                self.num_warmup_steps
                    .saturating_add(s)
                    .saturating_add(self.num_decay_steps)
            })
            .or(self.num_training_steps)
    }

    /// Validates into the closed form starting at `base_lr`; `run_length` (in `unit`s) fills in
    /// the length when neither `num_training_steps` nor `num_stable_steps` is given.
    ///
    /// # Errors
    /// [`ScheduleError::InvalidParam`]: `min_lr_ratio` outside [0, 1], a negative or
    /// non-finite `num_cycles`, no length at all, or a `num_training_steps` shorter than
    /// `num_warmup_steps + num_decay_steps`.
    pub(crate) fn build(
        &self,
        base_lr: LearningRate,
        run_length: Option<u64>,
    ) -> Result<WarmupStableDecay, ScheduleError> {
        const S: &str = WarmupStableDecayLrSchedulerConfig::NAME;
        non_negative(S, "lr", base_lr)?;
        finite(S, "min_lr_ratio", self.min_lr_ratio)?;
        if !(0.0..=1.0).contains(&self.min_lr_ratio) {
            return Err(ScheduleError::invalid(
                S,
                "min_lr_ratio",
                self.min_lr_ratio,
                "must be in [0, 1]",
            ));
        }
        non_negative(S, "num_cycles", self.num_cycles)?;
        let stable = match (self.num_stable_steps, self.num_training_steps.or(run_length)) {
            (Some(s), _) => s,
            (None, Some(total)) => total
                .checked_sub(self.num_warmup_steps.saturating_add(self.num_decay_steps))
                .ok_or_else(|| {
                    let (warmup, decay) = (self.num_warmup_steps, self.num_decay_steps);
                    match self.num_training_steps {
                        Some(_) => ScheduleError::invalid(
                            S,
                            "num_training_steps",
                            total,
                            format!("must be >= num_warmup_steps + num_decay_steps = {warmup} + {decay}"),
                        ),
                        None => ScheduleError::invalid(
                            S,
                            "num_decay_steps",
                            decay,
                            run_too_short(
                                total,
                                &format!("its warmup and decay ({warmup} + {decay} steps)"),
                                "shorten them",
                            ),
                        ),
                    }
                })?,
            (None, None) => {
                return Err(ScheduleError::invalid(
                    S,
                    "num_training_steps",
                    "missing",
                    "give num_training_steps or num_stable_steps (a training run fills it in)",
                ))
            }
        };
        Ok(WarmupStableDecay {
            base_lr,
            warmup: self.num_warmup_steps,
            stable,
            decay: self.num_decay_steps,
            warmup_type: self.warmup_type,
            decay_type: self.decay_type,
            min_lr_ratio: self.min_lr_ratio,
            num_cycles: self.num_cycles,
        })
    }

    /// A scheduler whose every `step()` is one HF `scheduler.step()`.
    ///
    /// # Errors
    /// [`ScheduleError::InvalidParam`]: `min_lr_ratio` outside [0, 1], a negative or
    /// non-finite `num_cycles`, no length (without a run, `num_training_steps` or
    /// `num_stable_steps` must be given), or a `num_training_steps` shorter than
    /// `num_warmup_steps + num_decay_steps`.
    pub fn init(&self, base_lr: LearningRate) -> Result<WarmupStableDecayLrScheduler, ScheduleError> {
        Ok(ClosedFormScheduler::new(self.build(base_lr, None)?))
    }
}

/// WSD in closed form (HF's `_get_wsd_scheduler_lambda`, same float operations).
#[derive(Debug, Clone, PartialEq)]
pub struct WarmupStableDecay {
    base_lr: LearningRate,
    warmup: u64,
    stable: u64,
    decay: u64,
    warmup_type: WsdShape,
    decay_type: WsdShape,
    min_lr_ratio: f64,
    num_cycles: f64,
}

impl WarmupStableDecay {
    fn factor(&self, t: u64) -> f64 {
        let r = self.min_lr_ratio;
        let scaled = |f: f64| (f * (1.0 - r) + r).max(0.0);
        if t < self.warmup {
            let p = t as f64 / self.warmup.max(1) as f64;
            return scaled(match self.warmup_type {
                WsdShape::Linear => p,
                WsdShape::Cosine => 0.5 * (1.0 - (PI * p).cos()),
                WsdShape::OneMinusSqrt => 1.0 - (1.0 - p).sqrt(),
            });
        }
        let t = t - self.warmup;
        if t < self.stable {
            return 1.0;
        }
        let t = t - self.stable;
        if t < self.decay {
            let p = t as f64 / self.decay.max(1) as f64;
            return scaled(match self.decay_type {
                WsdShape::Linear => 1.0 - p,
                WsdShape::Cosine => 0.5 * (1.0 + (PI * self.num_cycles * 2.0 * p).cos()),
                WsdShape::OneMinusSqrt => 1.0 - p.sqrt(),
            });
        }
        r
    }
}

impl ClosedForm for WarmupStableDecay {
    const KIND: &'static str = WarmupStableDecayLrSchedulerConfig::NAME;

    fn lr_at(&self, t: u64) -> LearningRate {
        self.base_lr * self.factor(t)
    }
}

closed_form_kind! {
    WarmupStableDecayLrSchedulerConfig => WarmupStableDecayLrScheduler(WarmupStableDecay),
    build(config, run) config.build(run.base_lr, Some(run_length(run, config.unit))),

    fn factor_check(&self, _run: &RunInfo) -> Result<(), String> {
        not_a_factor(Self::NAME)
    }

    fn length_warnings(&self, run: &RunInfo, out: &mut Vec<String>) {
        let field = if self.num_stable_steps.is_some() {
            "num_warmup_steps + num_stable_steps + num_decay_steps"
        } else {
            "num_training_steps"
        };
        if let Some(declared) = self.declared_length() {
            out.extend(length_warning(Self::NAME, field, declared, self.unit, run));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stages_by_hand() {
        // lr 1, 2 warmup, 1 stable, 2 decay (linear), ratio 0.5.
        let s = WarmupStableDecayLrSchedulerConfig::new(2, 2)
            .with_num_stable_steps(1)
            .with_types(WsdShape::Linear, WsdShape::Linear)
            .with_min_lr_ratio(0.5)
            .build(1.0, None)
            .unwrap();
        let lrs: Vec<f64> = (0..7).map(|t| s.lr_at(t)).collect();
        assert_eq!(lrs, [0.5, 0.75, 1.0, 1.0, 0.75, 0.5, 0.5]);
    }

    #[test]
    fn length_from_the_run_and_errors() {
        let c = WarmupStableDecayLrSchedulerConfig::new(10, 20);
        assert!(c.build(1.0, None).is_err());
        assert_eq!(c.build(1.0, Some(100)).unwrap().stable, 70);
        let short = c.clone().with_num_training_steps(25).build(1.0, None).unwrap_err();
        assert!(short.to_string().contains("num_training_steps"), "{short}");
    }
}
