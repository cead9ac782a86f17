//! timm's `CosineLRScheduler`: cosine decay with warmup, restarts (`cycle_mul`), per-cycle decay
//! (`cycle_decay`), a cycle limit, k-decay (Zhang et al. 2020) and LR noise.

use super::base::{schedule_config, ClosedForm, ClosedFormScheduler, Unit};
use super::error::{decay_factor, non_negative, not_a_factor, positive, ScheduleError};
use super::kind::closed_form_kind;
pub use super::lr_noise::LrNoise;
use super::lr_noise::{NoiseRange, NoiseType};
use super::run::RunInfo;
use burn::optim::LearningRate;
use std::f64::consts::PI;

schedule_config! {
    /// Configuration of [`TimmCosineLrScheduler`], timm's
    /// [`CosineLRScheduler`](https://huggingface.co/docs/timm/reference/schedulers#timm.scheduler.CosineLRScheduler),
    /// same parameter names and defaults (`t_in_epochs` is `unit`).
    ///
    /// With `base` the optimizer's `lr` and `t` in `unit`s (epochs by default):
    /// - `t < warmup_t`: `warmup_lr_init + t * (base - warmup_lr_init) / warmup_t`;
    /// - then (`t -= warmup_t` with `warmup_prefix`) cycle `i` has length `t_initial * cycle_mul^i`
    ///   and peak `base * cycle_decay^i`; inside it, at `t_curr`,
    ///   `lr_min + (peak - lr_min) * (1 + cos(pi * t_curr^k / t_i^k)) / 2` (`k = k_decay`);
    /// - from cycle `cycle_limit` on: `lr_min`.
    ///
    /// With `noise_range_t` the LR gets timm's multiplicative noise from `t = 1` on (see
    /// [`LrNoise`]; `t = 0` is the value timm sets at construction, without noise). Cycle
    /// boundaries are exact: timm's float logarithm puts some exact restarts one cycle off (e.g.
    /// `t_initial = 1, cycle_mul = 3` at `t = 121`); here they restart.
    ///
    /// TOML: `[scheduler] type = "timm_cosine"` (alias `cosine_lr_scheduler`), `t_initial = 100`,
    /// `lr_min = 1e-5`, `cycle_decay = 0.5`, `cycle_limit = 3`, `k_decay = 2.0`, `warmup_t = 5`.
    ///
    /// `lr(t) = lr_min + (base_lr - lr_min) * (1 + cos(pi * t_cur^k / t_i^k)) / 2 per cycle, each cycle cycle_mul times longer and its peak cycle_decay times lower`; `t` in `unit`s (epochs by default, timm's `t_in_epochs`); `lr_min` after `cycle_limit` cycles.
    ///
    /// ```
    /// # use burn_lr::burn;
    /// use burn::lr_scheduler::LrScheduler;
    /// use burn_lr::schedule::TimmCosineLrSchedulerConfig;
    ///
    /// # fn main() -> Result<(), burn_lr::schedule::ScheduleError> {
    /// // PyTorch: timm.scheduler.CosineLRScheduler(SGD(params, lr=1.0), t_initial=4), scheduler.step(epoch) per epoch
    /// let close = |a: f64, b: f64| (a - b).abs() < 1e-12;
    /// let mut s = TimmCosineLrSchedulerConfig::new(4).init(1.0)?;
    /// let lrs: Vec<f64> = (0..5).map(|_| s.step()).collect();
    /// assert!(close(lrs[0], 1.0) && close(lrs[2], 0.5) && close(lrs[4], 0.0));
    /// assert!(close(lrs[1], (1.0 + (std::f64::consts::PI / 4.0).cos()) / 2.0));
    /// # Ok(())
    /// # }
    /// ```
    pub struct TimmCosineLrSchedulerConfig = "timm_cosine", new(t_initial: u64) {
        /// Length of the first cycle, in `unit`s; >= 1.
        pub t_initial: u64,
        /// Floor of the LR (default 0); finite, >= 0.
        pub lr_min: f64 = 0.0 => with_lr_min,
        /// Growth of each cycle's length (default 1); finite, >= 1.
        pub cycle_mul: f64 = 1.0 => with_cycle_mul,
        /// Factor on the peak LR of each new cycle (default 1); in [0, 1].
        pub cycle_decay: f64 = 1.0 => with_cycle_decay,
        /// Number of cycles before the LR stays at `lr_min` (default 1); >= 1.
        pub cycle_limit: u64 = 1 => with_cycle_limit,
        /// Length of the linear warmup, in `unit`s (default 0).
        pub warmup_t: u64 = 0 => with_warmup_t,
        /// The LR at the start of the warmup (default 0); finite, >= 0.
        pub warmup_lr_init: f64 = 0.0 => with_warmup_lr_init,
        /// Whether the cosine starts after the warmup (`true`) or counts it (default `false`).
        pub warmup_prefix: bool = false => with_warmup_prefix,
        /// Exponent of k-decay (default 1: plain cosine); finite, > 0.
        pub k_decay: f64 = 1.0 => with_k_decay,
        /// Steps that get noise: `t0` (from `t0` on) or `[t0, t1]` (`t0 <= t < t1`); none by default.
        pub noise_range_t: Option<NoiseRange> = None => with_noise_range_t,
        /// Bound of the relative noise (default 0.67); in (0, 1].
        pub noise_pct: f64 = 0.67 => with_noise_pct,
        /// Standard deviation of the normal noise (default 1.0); > 0.
        pub noise_std: f64 = 1.0 => with_noise_std,
        /// `normal` (default) or `uniform`.
        pub noise_type: NoiseType = NoiseType::Normal => with_noise_type,
        /// Seed of the noise (default 42).
        pub noise_seed: u64 = 42 => with_noise_seed,
        /// What one step counts (`epoch` by default, as timm's `t_in_epochs = True`).
        pub unit: Unit = Unit::Epoch => with_unit,
    }
}

impl TimmCosineLrSchedulerConfig {
    /// Sets `cycle_mul`, `cycle_decay` and `cycle_limit`.
    pub fn with_cycles(mut self, cycle_mul: f64, cycle_decay: f64, cycle_limit: u64) -> Self {
        self.cycle_mul = cycle_mul;
        self.cycle_decay = cycle_decay;
        self.cycle_limit = cycle_limit;
        self
    }

    /// Sets `warmup_t`, `warmup_lr_init` and `warmup_prefix`.
    pub fn with_warmup(mut self, warmup_t: u64, warmup_lr_init: f64, warmup_prefix: bool) -> Self {
        self.warmup_t = warmup_t;
        self.warmup_lr_init = warmup_lr_init;
        self.warmup_prefix = warmup_prefix;
        self
    }

    /// Sets the noise: `noise_range_t`, `noise_pct`, `noise_std`, `noise_type`, `noise_seed`.
    pub fn with_noise(mut self, range: NoiseRange, pct: f64, std: f64, kind: NoiseType, seed: u64) -> Self {
        self.noise_range_t = Some(range);
        self.noise_pct = pct;
        self.noise_std = std;
        self.noise_type = kind;
        self.noise_seed = seed;
        self
    }

    /// Validates into the closed form starting at `base_lr`.
    ///
    /// # Errors
    /// [`ScheduleError::InvalidParam`] for any value outside the ranges above (timm's asserts
    /// plus the ones that would make the LR grow without bound or turn negative).
    pub(crate) fn build(&self, base_lr: LearningRate) -> Result<TimmCosine, ScheduleError> {
        const S: &str = TimmCosineLrSchedulerConfig::NAME;
        non_negative(S, "lr", base_lr)?;
        if self.t_initial == 0 {
            return Err(ScheduleError::invalid(S, "t_initial", 0, "must be an integer >= 1"));
        }
        non_negative(S, "lr_min", self.lr_min)?;
        if !(self.cycle_mul.is_finite() && self.cycle_mul >= 1.0) {
            return Err(ScheduleError::invalid(
                S,
                "cycle_mul",
                self.cycle_mul,
                "must be a finite number >= 1",
            ));
        }
        decay_factor(S, "cycle_decay", self.cycle_decay)?;
        if self.cycle_limit == 0 {
            return Err(ScheduleError::invalid(S, "cycle_limit", 0, "must be an integer >= 1"));
        }
        non_negative(S, "warmup_lr_init", self.warmup_lr_init)?;
        positive(S, "k_decay", self.k_decay)?;
        let noise = LrNoise::new(
            S,
            self.noise_range_t,
            self.noise_pct,
            self.noise_std,
            self.noise_type,
            self.noise_seed,
        )?;
        Ok(TimmCosine {
            base_lr,
            t_initial: self.t_initial,
            lr_min: self.lr_min,
            cycle_mul: self.cycle_mul,
            cycle_decay: self.cycle_decay,
            cycle_limit: self.cycle_limit,
            warmup_t: self.warmup_t,
            warmup_lr_init: self.warmup_lr_init,
            warmup_prefix: self.warmup_prefix,
            k_decay: self.k_decay,
            noise,
        })
    }

    /// A scheduler whose every `step()` is one timm `scheduler.step(t)` / `step_update(t)`.
    ///
    /// # Errors
    /// [`ScheduleError::InvalidParam`] for any value outside the ranges above (timm's asserts
    /// plus the ones that would make the LR grow without bound or turn negative).
    pub fn init(&self, base_lr: LearningRate) -> Result<TimmCosineLrScheduler, ScheduleError> {
        Ok(ClosedFormScheduler::new(self.build(base_lr)?))
    }
}

/// timm's cosine in closed form (`CosineLRScheduler._get_lr` plus `_add_noise`).
#[derive(Debug, Clone, PartialEq)]
pub struct TimmCosine {
    base_lr: LearningRate,
    t_initial: u64,
    lr_min: f64,
    cycle_mul: f64,
    cycle_decay: f64,
    cycle_limit: u64,
    warmup_t: u64,
    warmup_lr_init: f64,
    warmup_prefix: bool,
    k_decay: f64,
    noise: Option<LrNoise>,
}

impl TimmCosine {
    /// Start of cycle `i` (timm's `(1 - mul^i) / (1 - mul) * t_initial`).
    fn cycle_start(&self, i: f64) -> f64 {
        (1.0 - self.cycle_mul.powf(i)) / (1.0 - self.cycle_mul) * self.t_initial as f64
    }

    /// `(i, t_i, t_curr)`: the cycle of `t`, its length and the position in it.
    fn cycle(&self, t: u64) -> (f64, f64, f64) {
        let t_initial = self.t_initial as f64;
        if self.cycle_mul == 1.0 {
            let i = t / self.t_initial;
            return (i as f64, t_initial, (t - self.t_initial * i) as f64);
        }
        let tf = t as f64;
        let mul = self.cycle_mul;
        let mut i = ((1.0 - tf / t_initial * (1.0 - mul)).ln() / mul.ln()).floor();
        if !i.is_finite() || i > self.cycle_limit as f64 {
            // Past the last cycle (or beyond float range): the LR is lr_min.
            return (f64::INFINITY, t_initial, 0.0);
        }
        // timm's float logarithm can land one cycle off at an exact restart; fix it.
        if i > 0.0 && self.cycle_start(i) > tf {
            i -= 1.0;
        } else if self.cycle_start(i + 1.0) <= tf {
            i += 1.0;
        }
        (i, mul.powf(i) * t_initial, tf - self.cycle_start(i))
    }

    fn lr_without_noise(&self, t: u64) -> f64 {
        if t < self.warmup_t {
            let step = (self.base_lr - self.warmup_lr_init) / self.warmup_t as f64;
            return self.warmup_lr_init + t as f64 * step;
        }
        let t = if self.warmup_prefix { t - self.warmup_t } else { t };
        let (i, t_i, t_curr) = self.cycle(t);
        if i >= self.cycle_limit as f64 {
            return self.lr_min;
        }
        let peak = self.base_lr * self.cycle_decay.powf(i);
        // timm's `t_curr^k / t_i^k`; as `(t_curr / t_i)^k` where the powers overflow.
        let (num, den) = (t_curr.powf(self.k_decay), t_i.powf(self.k_decay));
        let fraction = if num.is_finite() && den.is_finite() && den > 0.0 {
            num / den
        } else {
            (t_curr / t_i).powf(self.k_decay)
        };
        let cos_out = 1.0 + (PI * fraction).cos();
        if cos_out >= 2.0 {
            return peak;
        }
        self.lr_min + 0.5 * (peak - self.lr_min) * cos_out
    }
}

impl ClosedForm for TimmCosine {
    const KIND: &'static str = TimmCosineLrSchedulerConfig::NAME;

    fn lr_at(&self, t: u64) -> LearningRate {
        let lr = self.lr_without_noise(t);
        match &self.noise {
            // timm sets the LR of t = 0 at construction, without noise.
            Some(noise) if t > 0 => noise.apply(lr, t),
            _ => lr,
        }
    }
}

closed_form_kind! {
    TimmCosineLrSchedulerConfig => TimmCosineLrScheduler(TimmCosine),
    build(config, run) config.build(run.base_lr),

    fn factor_check(&self, _run: &RunInfo) -> Result<(), String> {
        not_a_factor(Self::NAME)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cycles_by_hand() {
        // lr 1, cycles of 2 then 4 steps, peaks 1 then 0.5, limit 2, then lr_min 0.
        let s = TimmCosineLrSchedulerConfig::new(2)
            .with_cycles(2.0, 0.5, 2)
            .build(1.0)
            .unwrap();
        assert_eq!(s.lr_at(0), 1.0);
        assert!((s.lr_at(1) - 0.5).abs() < 1e-15);
        assert_eq!(s.lr_at(2), 0.5);
        assert!((s.lr_at(4) - 0.25).abs() < 1e-15);
        assert_eq!(s.lr_at(6), 0.0);
    }

    #[test]
    fn warmup_and_k_decay() {
        let s = TimmCosineLrSchedulerConfig::new(4)
            .with_warmup(2, 0.0, true)
            .with_k_decay(2.0)
            .build(1.0)
            .unwrap();
        assert_eq!(s.lr_at(1), 0.5);
        assert_eq!(s.lr_at(2), 1.0);
        // t_curr = 2 of 4 with k = 2: cos(pi / 4).
        assert!((s.lr_at(4) - 0.5 * (1.0 + (PI / 4.0).cos())).abs() < 1e-15);
    }
}
