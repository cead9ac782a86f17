//! A warmup phase in front of any schedule (`SequentialLR([LinearLR, X])`, timm's `warmup_t`).

use crate::schedule::base::{Schedule, Unit};
use crate::schedule::error::{not_a_factor, start_fraction, ScheduleError};
use crate::schedule::kind::ScheduleKind;
use crate::schedule::run::RunInfo;
use burn::optim::LearningRate;
use serde::{Deserialize, Serialize};

/// A warmup phase in front of any schedule (timm's `warmup_t`, Lightning's warmup recipes).
///
/// TOML: add `[scheduler.warmup]` with `epochs = 2` (or `steps = 500`), `start_factor = 0.1`,
/// `mode = "linear"` to any `[scheduler]`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WarmupSpec {
    /// Warmup length in optimizer updates (give this or `epochs`).
    #[serde(default)]
    pub steps: Option<u64>,
    /// Warmup length in epochs (give this or `steps`).
    #[serde(default)]
    pub epochs: Option<u64>,
    /// First factor, in (0, 1] (default 1/3, as `LinearLR`).
    #[serde(default = "d_third")]
    pub start_factor: f64,
    /// `linear` (default) or `exponential`.
    #[serde(default = "d_linear")]
    pub mode: WarmupMode,
}

/// A schedule with a warmup in front (the `warmup` table of a `[scheduler]`).
///
/// For `k < W` (`W` optimizer updates: `steps`, or `epochs` × updates per epoch) `lr(k) =
/// factor(k) * inner(0)` with `factor` rising from `start_factor` to 1 (linear:
/// `start + (1 - start) * k / W`; exponential: `start^(1 - k / W)`); from `k = W` on
/// `lr(k) = inner(k - W)`.
///
/// ```
/// # use burn_lr::burn;
/// use burn::lr_scheduler::LrScheduler;
/// use burn_lr::schedule::{RunInfo, SchedulerConfig};
///
/// # fn main() -> Result<(), Box<dyn std::error::Error>> {
/// // PyTorch: SequentialLR(opt, [LinearLR(opt, start_factor=0.5, total_iters=2),
/// //                             CosineAnnealingLR(opt, T_max=2)], milestones=[2]), lr=1.0
/// let config: SchedulerConfig = toml::from_str(
///     r#"type = "cosine_annealing"
/// t_max = 2
/// [warmup]
/// epochs = 2
/// start_factor = 0.5"#,
/// )?;
/// let mut s = config.init(&RunInfo { base_lr: 1.0, updates_per_epoch: 1, total_updates: 5 })?;
/// let lrs: Vec<f64> = (0..5).map(|_| s.step()).collect();
/// let close = |a: f64, b: f64| (a - b).abs() < 1e-12;
/// assert!(lrs.iter().zip([0.5, 0.75, 1.0, 0.5, 0.0]).all(|(a, b)| close(*a, b)));
/// # Ok(())
/// # }
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WarmupSchedulerConfig<C> {
    /// The warmup.
    pub warmup: WarmupSpec,
    /// What runs after it, from its own step 0.
    pub schedule: Box<C>,
}

fn d_third() -> f64 {
    1.0 / 3.0
}
fn d_linear() -> WarmupMode {
    WarmupMode::Linear
}

impl WarmupSpec {
    /// The warmup's length in optimizer updates.
    ///
    /// # Errors
    /// Unless exactly one of `steps` / `epochs` is given; an overflowing `epochs`.
    pub fn updates(&self, run: &RunInfo) -> Result<u64, ScheduleError> {
        const S: &str = WarmupSchedulerConfig::<()>::NAME;
        match (self.steps, self.epochs) {
            (Some(s), None) => Ok(s),
            (None, Some(e)) => e
                .checked_mul(run.updates_per_epoch)
                .ok_or_else(|| ScheduleError::invalid(S, "epochs", e, "too large")),
            (s, e) => Err(ScheduleError::invalid(
                S,
                "steps",
                format!("{s:?} / epochs {e:?}"),
                "give exactly one of `steps` (optimizer updates) or `epochs`",
            )),
        }
    }

    /// The part of the run after a warmup of `updates` optimizer updates.
    pub(crate) fn inner_run(&self, run: &RunInfo, updates: u64) -> RunInfo {
        RunInfo {
            total_updates: run.total_updates.saturating_sub(updates).max(1),
            ..*run
        }
    }
}

impl<C> WarmupSchedulerConfig<C> {
    /// The canonical TOML `type` (also the kind in records).
    pub const NAME: &'static str = "warmup";
}

/// The warmup curve.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum WarmupMode {
    /// `factor = start + (1 - start) * k / W` (PyTorch's `LinearLR` warmup, timm's linear).
    Linear,
    /// `factor = start^(1 - k / W)`: geometric from `start` to 1.
    Exponential,
}

/// A warmup phase of `updates` optimizer updates in front of `inner`: the LR rises from
/// `start_factor × inner(0)` to `inner(0)`, then `inner` runs from its own step 0.
/// Zero updates is a no-op.
#[derive(Debug, Clone)]
pub(crate) struct Warmup {
    inner: Box<dyn Schedule>,
    updates: u64,
    start_factor: f64,
    mode: WarmupMode,
}

impl Warmup {
    /// Warmup of `updates` updates from `start_factor` (in (0, 1], checked by the config).
    pub(crate) fn new(inner: Box<dyn Schedule>, updates: u64, start_factor: f64, mode: WarmupMode) -> Self {
        Self {
            inner,
            updates,
            start_factor,
            mode,
        }
    }
}

impl Schedule for Warmup {
    fn lr(&self, k: u64) -> LearningRate {
        if k >= self.updates {
            return self.inner.lr(k - self.updates);
        }
        let p = k as f64 / self.updates as f64;
        let factor = match self.mode {
            WarmupMode::Linear => self.start_factor + (1.0 - self.start_factor) * p,
            WarmupMode::Exponential => self.start_factor.powf(1.0 - p),
        };
        self.inner.lr(0) * factor
    }

    fn momentum(&self, k: u64) -> Option<f64> {
        self.inner.momentum(k.saturating_sub(self.updates))
    }

    fn fingerprint(&self) -> String {
        format!(
            "warmup(updates={}, start_factor={:?}, mode={:?}, {})",
            self.updates,
            self.start_factor,
            self.mode,
            self.inner.fingerprint()
        )
    }

    fn clone_box(&self) -> Box<dyn Schedule> {
        Box::new(self.clone())
    }
}

impl<C: ScheduleKind> ScheduleKind for WarmupSchedulerConfig<C> {
    fn kind(&self) -> &'static str {
        Self::NAME
    }

    fn unit(&self) -> Unit {
        self.schedule.unit()
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
        if let Ok(updates) = self.warmup.updates(run) {
            self.schedule.length_warnings(&self.warmup.inner_run(run, updates), out);
        }
    }

    /// Validates the warmup and builds it in front of its schedule.
    ///
    /// # Errors
    /// Not exactly one of `steps` / `epochs`; `start_factor` outside (0, 1]; the schedule's error.
    fn build_schedule(&self, run: &RunInfo) -> Result<Box<dyn Schedule>, ScheduleError> {
        const S: &str = WarmupSchedulerConfig::<()>::NAME;
        let w = &self.warmup;
        let updates = w.updates(run)?;
        start_fraction(S, "start_factor", w.start_factor)?;
        let inner_run = w.inner_run(run, updates);
        let inner = self.schedule.build_schedule(&inner_run)?;
        Ok(if updates == 0 {
            inner
        } else {
            Box::new(Warmup::new(inner, updates, w.start_factor, w.mode))
        })
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn warmup_by_hand() {
        let toml = "type = \"fixed\"\n[warmup]\nsteps = 2\nstart_factor = 0.5";
        assert_eq!(super::super::first_lrs(toml, 4), [0.5, 0.75, 1.0, 1.0]);
    }
}
