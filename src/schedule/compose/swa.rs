//! `SWALR` after any schedule: PyTorch's `torch.optim.swa_utils.SWALR` in the loop of its
//! documentation, where the base schedule steps after epochs `0..=swa_start` and SWALR after
//! every later one.

use crate::schedule::base::{Schedule, Unit};
use crate::schedule::error::{non_negative, not_a_factor, ScheduleError};
use crate::schedule::kind::ScheduleKind;
use crate::schedule::one_cycle::AnnealStrategy;
use crate::schedule::run::{run_length, RunInfo};
use burn::optim::LearningRate;
use serde::{Deserialize, Serialize};
use std::f64::consts::PI;

/// SWALR's parameters (the `[scheduler.swa]` table of any schedule), with PyTorch's names and
/// defaults. All counts are epochs.
///
/// TOML: `[scheduler.swa]` with `swa_start = 74`, `swa_lr = 0.05`, `anneal_epochs = 10`,
/// `anneal_strategy = "cos"` in any `[scheduler]`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SwaSpec {
    /// PyTorch's `swa_start`: the base schedule steps after epochs `0..=swa_start` (epochs
    /// from 0), SWALR after every later epoch, so epochs from `swa_start + 2` on anneal.
    pub swa_start: u64,
    /// The learning rate SWALR anneals to and then holds; finite, >= 0.
    pub swa_lr: f64,
    /// Epochs of the annealing (PyTorch default 10; 0: `swa_lr` at once).
    #[serde(default = "d_anneal_epochs")]
    pub anneal_epochs: u64,
    /// `cos` (PyTorch's default) or `linear`.
    #[serde(default = "d_cos")]
    pub anneal_strategy: AnnealStrategy,
}

fn d_anneal_epochs() -> u64 {
    10
}
fn d_cos() -> AnnealStrategy {
    AnnealStrategy::Cos
}

/// A schedule followed by PyTorch's `SWALR` (the `swa` table of a `[scheduler]`).
///
/// With `P` optimizer updates per epoch, epochs `0..=swa_start + 1` follow the base schedule.
/// Epoch `swa_start + 1 + s` (`s >= 1`) uses SWALR's `s`-th step from `lr0`, the LR of the last
/// update of epoch `swa_start + 1` (what the base schedule reached): with `alpha(t)` = `t`
/// (linear) or `(1 - cos(pi t)) / 2` (cos), `lr = swa_lr * alpha + lr0 * (1 - alpha)`, `alpha`
/// of `min(1, s / anneal_epochs)`, evaluated as PyTorch's recursion does it; `swa_lr` from
/// `s = anneal_epochs` on (from `s = 1` with `anneal_epochs = 0`). Momentum, where the base
/// schedule cycles it, holds its value at the switch.
///
/// ```
/// # use burn_lr::burn;
/// use burn::lr_scheduler::LrScheduler;
/// use burn_lr::schedule::{RunInfo, SchedulerConfig};
///
/// # fn main() -> Result<(), Box<dyn std::error::Error>> {
/// // PyTorch: SGD(lr=0.1), SWALR(opt, swa_lr=0.01, anneal_epochs=2, anneal_strategy="linear"),
/// // swa_start=1: epochs 0-2 at 0.1, epoch 3 halfway, then 0.01.
/// let config: SchedulerConfig = toml::from_str(
///     r#"type = "fixed"
/// [swa]
/// swa_start = 1
/// swa_lr = 0.01
/// anneal_epochs = 2
/// anneal_strategy = "linear""#,
/// )?;
/// let mut s = config.init(&RunInfo { base_lr: 0.1, updates_per_epoch: 1, total_updates: 6 })?;
/// let lrs: Vec<f64> = (0..6).map(|_| s.step()).collect();
/// let close = |a: f64, b: f64| (a - b).abs() < 1e-12;
/// assert!(lrs.iter().zip([0.1, 0.1, 0.1, 0.055, 0.01, 0.01]).all(|(a, b)| close(*a, b)));
/// # Ok(())
/// # }
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SwaSchedulerConfig<C> {
    /// SWALR's parameters.
    pub swa: SwaSpec,
    /// The base schedule, on the whole run.
    pub schedule: Box<C>,
}

impl<C> SwaSchedulerConfig<C> {
    /// The canonical TOML `type` (also the kind in records).
    pub const NAME: &'static str = "swa";
}

impl SwaSpec {
    /// The first optimizer update of the annealing: epoch `swa_start + 2`, `per` updates per
    /// epoch.
    fn start_update(&self, per: u64) -> Option<u64> {
        self.swa_start.checked_add(2)?.checked_mul(per)
    }
}

impl<C: ScheduleKind> ScheduleKind for SwaSchedulerConfig<C> {
    fn kind(&self) -> &'static str {
        Self::NAME
    }

    fn unit(&self) -> Unit {
        Unit::Epoch
    }

    fn build_schedule(&self, run: &RunInfo) -> Result<Box<dyn Schedule>, ScheduleError> {
        const S: &str = SwaSchedulerConfig::<()>::NAME;
        non_negative(S, "swa_lr", self.swa.swa_lr)?;
        let per = run.updates_per_epoch.max(1);
        let start = self.swa.start_update(per).ok_or_else(|| {
            ScheduleError::invalid(
                S,
                "swa_start",
                self.swa.swa_start,
                "too large (overflows the update count)",
            )
        })?;
        Ok(Box::new(Swa {
            base: self.schedule.build_schedule(run)?,
            start,
            per,
            swa_lr: self.swa.swa_lr,
            anneal_epochs: self.swa.anneal_epochs,
            strategy: self.swa.anneal_strategy,
        }))
    }

    fn factor_check(&self, _run: &RunInfo) -> Result<(), String> {
        not_a_factor(Self::NAME)
    }

    fn cycles_momentum(&self) -> bool {
        self.schedule.cycles_momentum()
    }

    fn uses_base_lr(&self) -> bool {
        self.schedule.uses_base_lr()
    }

    fn length_warnings(&self, run: &RunInfo, out: &mut Vec<String>) {
        self.schedule.length_warnings(run, out);
        let epochs = run_length(run, Unit::Epoch);
        if self.swa.swa_start.saturating_add(2) >= epochs {
            out.push(format!(
                "swa: swa_start = {} epochs, but this run has {epochs} epochs: SWALR steps after epoch {} (from epoch \
                 0), so it never changes this run's LR; lower swa_start or train longer",
                self.swa.swa_start,
                self.swa.swa_start + 1
            ));
        }
    }
}

/// [`SwaSchedulerConfig`] built on a run: the base schedule, then SWALR.
#[derive(Debug, Clone)]
pub(crate) struct Swa {
    base: Box<dyn Schedule>,
    /// The first update of epoch `swa_start + 2`.
    start: u64,
    /// Optimizer updates per epoch.
    per: u64,
    swa_lr: f64,
    anneal_epochs: u64,
    strategy: AnnealStrategy,
}

impl Swa {
    /// PyTorch's `anneal_func`.
    fn alpha(&self, t: f64) -> f64 {
        match self.strategy {
            AnnealStrategy::Linear => t,
            AnnealStrategy::Cos => (1.0 - (PI * t).cos()) / 2.0,
        }
    }

    /// The LR after SWALR's `s`-th step from `lr0`: `SWALR.get_lr` step by step (each step
    /// recovers the previous step's start from the LR it set, as PyTorch does), so the result
    /// has PyTorch's rounding. From step `anneal_epochs + 1` on every step gives `swa_lr`.
    fn swalr(&self, s: u64, lr0: LearningRate) -> LearningRate {
        let span = self.anneal_epochs.max(1) as f64;
        let mut lr = lr0;
        for step in 1..=s.min(self.anneal_epochs + 1) {
            let prev_alpha = self.alpha(((step - 1) as f64 / span).clamp(0.0, 1.0));
            let prev = if prev_alpha == 1.0 {
                self.swa_lr
            } else {
                (lr - prev_alpha * self.swa_lr) / (1.0 - prev_alpha)
            };
            let alpha = self.alpha((step as f64 / span).clamp(0.0, 1.0));
            lr = self.swa_lr * alpha + prev * (1.0 - alpha);
        }
        lr
    }
}

impl Schedule for Swa {
    fn lr(&self, k: u64) -> LearningRate {
        if k < self.start {
            return self.base.lr(k);
        }
        let s = (k - self.start) / self.per + 1;
        self.swalr(s, self.base.lr(self.start - 1))
    }

    fn momentum(&self, k: u64) -> Option<f64> {
        self.base.momentum(k.min(self.start - 1))
    }

    fn fingerprint(&self) -> String {
        format!(
            "swa(start={}, per={}, swa_lr={:?}, anneal_epochs={}, strategy={:?}, base={})",
            self.start,
            self.per,
            self.swa_lr,
            self.anneal_epochs,
            self.strategy,
            self.base.fingerprint()
        )
    }

    fn clone_box(&self) -> Box<dyn Schedule> {
        Box::new(self.clone())
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn by_hand_linear_and_at_once() {
        let lrs = super::super::first_lrs(
            "type = \"fixed\"\n[swa]\nswa_start = 0\nswa_lr = 0.5\nanneal_epochs = 4\nanneal_strategy = \"linear\"",
            7,
        );
        assert_eq!(&lrs[..2], [1.0, 1.0]);
        for (got, want) in lrs[2..].iter().zip([0.875, 0.75, 0.625, 0.5, 0.5]) {
            assert!((got - want).abs() < 1e-15, "{lrs:?}");
        }
        let at_once = super::super::first_lrs(
            "type = \"fixed\"\n[swa]\nswa_start = 1\nswa_lr = 0.5\nanneal_epochs = 0",
            5,
        );
        assert_eq!(at_once, [1.0, 1.0, 1.0, 0.5, 0.5]);
    }
}
