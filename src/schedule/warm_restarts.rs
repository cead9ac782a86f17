//! `CosineAnnealingWarmRestarts` (SGDR, Loshchilov & Hutter 2017).

use super::base::{cosine_between, schedule_config, ClosedForm, ClosedFormScheduler, Unit};
use super::error::{non_negative, not_a_factor, ScheduleError};
use super::kind::closed_form_kind;
use super::run::RunInfo;
use burn::optim::LearningRate;
use std::f64::consts::PI;

schedule_config! {
    /// Configuration of [`CosineAnnealingWarmRestartsScheduler`], PyTorch's
    /// [`torch.optim.lr_scheduler.CosineAnnealingWarmRestarts`](https://pytorch.org/docs/stable/generated/torch.optim.lr_scheduler.CosineAnnealingWarmRestarts.html).
    ///
    /// Cycle `i` lasts `t_0 * t_mult^i` epochs. Inside a training run an epoch-unit schedule is
    /// evaluated at fractional epochs `epoch + i / iters_per_epoch` (the per-batch usage of the
    /// PyTorch docstring). Cycle boundaries are computed in exact integer arithmetic: PyTorch's
    /// floating-point logarithm picks the wrong cycle at some exact restarts (e.g. `t_0 = 10,
    /// t_mult = 3` at epoch 1210, which is a restart).
    ///
    /// TOML: `[scheduler] type = "cosine_annealing_warm_restarts"` (alias `cosine_warm_restarts`), `t_0 = 10`, `t_mult = 2`, `eta_min = 1e-5`.
    ///
    /// `lr(t) = eta_min + (base_lr - eta_min) * (1 + cos(pi * t_cur / t_i)) / 2`; `t_cur` the epochs since the last restart, `t_i` the current cycle's length (`t_0`, times `t_mult` after each restart), in `unit`s; inside a `Learner` `t` is the fractional epoch `update / updates_per_epoch`, as PyTorch's `scheduler.step(epoch + i / iters)`.
    ///
    /// ```
    /// # use burn_lr::burn;
    /// use burn::lr_scheduler::LrScheduler;
    /// use burn_lr::schedule::CosineAnnealingWarmRestartsSchedulerConfig;
    ///
    /// # fn main() -> Result<(), burn_lr::schedule::ScheduleError> {
    /// // PyTorch: CosineAnnealingWarmRestarts(SGD(params, lr=1.0), T_0=2, T_mult=1)
    /// let close = |a: f64, b: f64| (a - b).abs() < 1e-12;
    /// let mut s = CosineAnnealingWarmRestartsSchedulerConfig::new(2).init(1.0)?;
    /// let lrs: Vec<f64> = (0..4).map(|_| s.step()).collect();
    /// assert!(lrs.iter().zip([1.0, 0.5, 1.0, 0.5]).all(|(a, b)| close(*a, b)));
    /// # Ok(())
    /// # }
    /// ```
    pub struct CosineAnnealingWarmRestartsSchedulerConfig = "cosine_annealing_warm_restarts", new(t_0: u64) {
        /// Length of the first cycle (PyTorch's `T_0`), in `unit`s; >= 1.
        pub t_0: u64,
        /// Cycle length multiplier (PyTorch's `T_mult`, default 1); >= 1.
        pub t_mult: u64 = 1 => with_t_mult,
        /// Minimum learning rate (default 0); finite, >= 0.
        pub eta_min: f64 = 0.0 => with_eta_min,
        /// What one step counts (`epoch` by default, fractional inside a run).
        pub unit: Unit = Unit::Epoch => with_unit,
    }
}

impl CosineAnnealingWarmRestartsSchedulerConfig {
    /// Validates into the closed form starting at `base_lr`.
    ///
    /// # Errors
    /// [`ScheduleError::InvalidParam`] for `t_0 = 0`, `t_mult = 0` or a negative `eta_min`.
    pub(crate) fn build(&self, base_lr: LearningRate) -> Result<CosineAnnealingWarmRestarts, ScheduleError> {
        const S: &str = CosineAnnealingWarmRestartsSchedulerConfig::NAME;
        non_negative(S, "lr", base_lr)?;
        if self.t_0 == 0 {
            return Err(ScheduleError::invalid(S, "t_0", 0, "must be an integer >= 1"));
        }
        if self.t_mult == 0 {
            return Err(ScheduleError::invalid(S, "t_mult", 0, "must be an integer >= 1"));
        }
        non_negative(S, "eta_min", self.eta_min)?;
        let (mut starts, mut lens) = (vec![0u64], vec![self.t_0 as f64]);
        if self.t_mult > 1 {
            let (mut start, mut len) = (0u64, self.t_0);
            while let Some(next) = start.checked_add(len) {
                start = next;
                len = len.saturating_mul(self.t_mult);
                starts.push(start);
                lens.push(len as f64);
            }
        }
        Ok(CosineAnnealingWarmRestarts {
            base_lr,
            t_0: self.t_0,
            t_mult: self.t_mult,
            eta_min: self.eta_min,
            starts,
            lens,
        })
    }

    /// A scheduler whose every `step()` is one PyTorch `scheduler.step()` (whole epochs).
    ///
    /// # Errors
    /// [`ScheduleError::InvalidParam`] for `t_0 = 0`, `t_mult = 0` or a negative `eta_min`.
    pub fn init(&self, base_lr: LearningRate) -> Result<CosineAnnealingWarmRestartsScheduler, ScheduleError> {
        Ok(ClosedFormScheduler::new(self.build(base_lr)?))
    }
}

/// CosineAnnealingWarmRestarts in closed form at the fractional epoch `k / per`.
#[derive(Debug, Clone, PartialEq)]
pub struct CosineAnnealingWarmRestarts {
    base_lr: LearningRate,
    t_0: u64,
    t_mult: u64,
    eta_min: f64,
    /// Start epoch of each cycle (t_mult > 1), until the next would overflow u64.
    starts: Vec<u64>,
    /// Length of each cycle, in epochs.
    lens: Vec<f64>,
}

impl CosineAnnealingWarmRestarts {
    /// `(T_cur, T_i)` at epoch `k / per`, with the cycle found in integers.
    pub fn cycle_position(&self, k: u64, per: u64) -> (f64, f64) {
        let (k, per) = (u128::from(k), u128::from(per.max(1)));
        let t_0 = u128::from(self.t_0);
        if self.t_mult == 1 {
            let len = t_0 * per;
            return ((k % len) as f64 / per as f64, self.t_0 as f64);
        }
        // Cycle starts in epochs, exact integers, precomputed at build (at most 64 when
        // t_mult >= 2): the cycle is right at every exact restart, where PyTorch's float
        // logarithm can be off by one.
        let n = self.starts.partition_point(|s| u128::from(*s) * per <= k) - 1;
        let start = u128::from(self.starts[n]);
        ((k - start * per) as f64 / per as f64, self.lens[n])
    }

    /// The LR at fractional epoch `k / per`.
    pub fn lr_at_epoch_fraction(&self, k: u64, per: u64) -> LearningRate {
        let (t_cur, t_i) = self.cycle_position(k, per);
        cosine_between(self.eta_min, self.base_lr, 1.0 + (PI * t_cur / t_i).cos())
    }
}

impl ClosedForm for CosineAnnealingWarmRestarts {
    const KIND: &'static str = CosineAnnealingWarmRestartsSchedulerConfig::NAME;

    fn lr_at(&self, t: u64) -> LearningRate {
        self.lr_at_epoch_fraction(t, 1)
    }

    fn lr_at_fraction(&self, k: u64, per: u64) -> LearningRate {
        self.lr_at_epoch_fraction(k, per)
    }

    fn fingerprint(&self) -> String {
        format!(
            "base_lr={:?} t_0={} t_mult={} eta_min={:?}",
            self.base_lr, self.t_0, self.t_mult, self.eta_min
        )
    }
}

closed_form_kind! {
    CosineAnnealingWarmRestartsSchedulerConfig => CosineAnnealingWarmRestartsScheduler(CosineAnnealingWarmRestarts),
    build(config, run) config.build(run.base_lr),

    fn factor_check(&self, _run: &RunInfo) -> Result<(), String> {
        not_a_factor(Self::NAME)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn by_hand_restarts() {
        let s = CosineAnnealingWarmRestartsSchedulerConfig::new(2)
            .with_t_mult(2)
            .build(1.0)
            .unwrap();
        // Cycles [0, 2), [2, 6), [6, 14): a restart at 2 and 6, mid-cycle at 4.
        assert_eq!([s.lr_at(0), s.lr_at(2), s.lr_at(6)], [1.0, 1.0, 1.0]);
        assert!((s.lr_at(4) - 0.5).abs() < 1e-15);
    }
}
