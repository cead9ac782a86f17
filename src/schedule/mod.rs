//! Learning-rate schedules, exact to PyTorch 2.15's `torch.optim.lr_scheduler`, as Burn
//! [`LrScheduler`]s.
//!
//! Every closed-form schedule is a pure function of its position `t` (PyTorch's `last_epoch`:
//! the number of `scheduler.step()` calls PyTorch would have made), evaluated by one shared
//! shell, [`ClosedFormScheduler`], that counts Burn's `step()` calls (one per optimizer update)
//! and maps them to `t` through the schedule's [`Unit`]:
//!
//! - [`Unit::Iteration`]: `t = k`, the LR changes at every optimizer update;
//! - [`Unit::Epoch`]: `t = floor(k / steps_per_epoch)`, the LR changes only at epoch boundaries,
//!   exactly as PyTorch code that calls `scheduler.step()` once per epoch.
//!
//! The k-th call of [`LrScheduler::step`] (counting from 0) returns the LR that PyTorch's
//! optimizer uses for its k-th update, i.e. PyTorch's `get_last_lr()` after `k` scheduler steps.
//!
//! [`ReduceLrOnPlateauScheduler`] is the one stateful schedule: it is fed one validation metric
//! per epoch through a [`PlateauFeed`].
//!
//! Two ways to build one: each config's `init()` (PyTorch-style stepping, one `step()` per
//! `scheduler.step()`), or a [`SchedulerConfig`] (the TOML form, every type below) built for a
//! run with [`SchedulerConfig::init`], which is what [`LearnerSchedule`](crate::learner::LearnerSchedule)
//! does for a Burn `Learner`.
//!
//! | `type` | config | reference | default `unit` |
//! |---|---|---|---|
//! | `fixed` | [`FixedLrSchedulerConfig`] | no scheduler | – |
//! | `step` | [`StepLrSchedulerConfig`] | PyTorch `StepLR` | epoch |
//! | `multi_step` | [`MultiStepLrSchedulerConfig`] | PyTorch `MultiStepLR` | epoch |
//! | `exponential` | [`ExponentialLrSchedulerConfig`] | PyTorch `ExponentialLR` | epoch |
//! | `linear` | [`LinearLrSchedulerConfig`] | PyTorch `LinearLR` | epoch |
//! | `constant` | [`ConstantLrSchedulerConfig`] | PyTorch `ConstantLR` | epoch |
//! | `polynomial` | [`PolynomialLrSchedulerConfig`] | PyTorch `PolynomialLR` | epoch |
//! | `cosine_annealing` | [`CosineAnnealingLrSchedulerConfig`] | PyTorch `CosineAnnealingLR` | epoch |
//! | `cosine_annealing_warm_restarts` | [`CosineAnnealingWarmRestartsSchedulerConfig`] | PyTorch `CosineAnnealingWarmRestarts` | epoch (fractional) |
//! | `reduce_on_plateau` | [`ReduceLrOnPlateauSchedulerConfig`] | PyTorch `ReduceLROnPlateau` | epoch |
//! | `one_cycle` | [`OneCycleLrSchedulerConfig`] | PyTorch `OneCycleLR` | iteration |
//! | `cyclic` | [`CyclicLrSchedulerConfig`] | PyTorch `CyclicLR` | iteration |
//! | `piecewise_linear` | [`PiecewiseLinearLrSchedulerConfig`] | `LambdaLR` over `numpy.interp` (Page's ResNet-9) | epoch (fractional) |
//! | `sequential` | [`SequentialLrSchedulerConfig`] | PyTorch `SequentialLR` | epoch (milestones) |
//! | `chained` | [`ChainedSchedulerConfig`] | PyTorch `ChainedScheduler` | – |
//! | `warmup` (a `[scheduler.warmup]` table) | [`WarmupSchedulerConfig`] | `SequentialLR([LinearLR, X])` | its own length |
//! | `warmup_stable_decay` | [`WarmupStableDecayLrSchedulerConfig`] | HF `get_wsd_schedule` | iteration |
//! | `inverse_sqrt` | [`InverseSqrtLrSchedulerConfig`] | HF `get_inverse_sqrt_schedule` | iteration |
//! | `noam` | [`NoamLrSchedulerConfig`] | Burn `NoamLrScheduler` | iteration |
//! | `cosine_with_restarts` | [`CosineWithHardRestartsLrSchedulerConfig`] | HF `get_cosine_with_hard_restarts_schedule_with_warmup` | iteration |
//! | `polynomial_decay` | [`PolynomialDecayLrSchedulerConfig`] | HF `get_polynomial_decay_schedule_with_warmup` | iteration |
//! | `timm_cosine` | [`TimmCosineLrSchedulerConfig`] | timm `CosineLRScheduler` | epoch |
//!
//! [`LambdaLr`] and [`MultiplicativeLr`] take a Rust closure, so they have no TOML form.
//!
//! ```
//! use burn::lr_scheduler::LrScheduler;
//! use burn_lr::schedule::{OneCycleLrSchedulerConfig, RunInfo, SchedulerConfig, StepLrSchedulerConfig};
//!
//! # fn main() -> Result<(), burn_lr::schedule::ScheduleError> {
//! // PyTorch semantics, one step() per scheduler.step():
//! let mut one_cycle = OneCycleLrSchedulerConfig::new(0.1).with_total_steps(1000).init()?;
//! assert!((one_cycle.step() - 0.004).abs() < 1e-15); // max_lr / div_factor
//! assert_eq!(one_cycle.momentum(), Some(0.95));
//!
//! // Inside a Learner: an epoch-unit StepLR that changes every 391 updates.
//! let step = SchedulerConfig::Step(StepLrSchedulerConfig::new(30));
//! let mut scheduler = step.init(&RunInfo { base_lr: 0.1, updates_per_epoch: 391, total_updates: 391 * 90 })?;
//! let lrs: Vec<f64> = (0..391 * 31).map(|_| scheduler.step()).collect();
//! assert_eq!(lrs[391 * 30 - 1], 0.1);
//! assert!((lrs[391 * 30] - 0.01).abs() < 1e-15);
//! // Learner::new(model, optimizer, scheduler)
//! # Ok(())
//! # }
//! ```

mod compose;
mod config;
mod constant;
mod cosine_annealing;
mod cosine_with_hard_restarts;
mod cyclic;
mod exponential;
mod fixed;
mod inverse_sqrt;
mod lambda;
mod linear;
mod lr_noise;
mod momentum;
mod multi_step;
mod noam;
mod one_cycle;
mod piecewise_linear;
mod plateau;
mod polynomial;
mod polynomial_decay;
mod record;
mod run;
mod scheduler;
mod step;
mod timm_cosine;
mod types;
mod warm_restarts;
mod warmup_stable_decay;

pub use compose::{
    Chained, ChainedSchedulerConfig, Schedule, Sequential, SequentialLrSchedulerConfig, Warmup, WarmupMode,
    WarmupSchedulerConfig, WarmupSpec,
};
pub use constant::{ConstantLr, ConstantLrScheduler, ConstantLrSchedulerConfig};
pub use cosine_annealing::{
    AfterTMax, CosineAnnealingLr, CosineAnnealingLrScheduler, CosineAnnealingLrSchedulerConfig,
};
pub use cosine_with_hard_restarts::{
    CosineWithHardRestarts, CosineWithHardRestartsLrScheduler, CosineWithHardRestartsLrSchedulerConfig,
};
pub use cyclic::{CyclicLr, CyclicLrScheduler, CyclicLrSchedulerConfig, CyclicMode, ScaleMode};
pub use exponential::{ExponentialLr, ExponentialLrScheduler, ExponentialLrSchedulerConfig};
pub use fixed::{FixedLr, FixedLrScheduler, FixedLrSchedulerConfig};
pub use inverse_sqrt::{InverseSqrt, InverseSqrtLrScheduler, InverseSqrtLrSchedulerConfig};
pub use lambda::{LambdaLr, LambdaLrScheduler, MultiplicativeLr, MultiplicativeLrScheduler};
pub use linear::{LinearLr, LinearLrScheduler, LinearLrSchedulerConfig};
pub use lr_noise::{LrNoise, NoiseRange, NoiseType};
pub use momentum::MomentumCell;
pub use multi_step::{MultiStepLr, MultiStepLrScheduler, MultiStepLrSchedulerConfig};
pub use noam::{Noam, NoamLrScheduler, NoamLrSchedulerConfig};
pub use one_cycle::{AnnealStrategy, OneCycleLr, OneCycleLrScheduler, OneCycleLrSchedulerConfig};
pub use piecewise_linear::{PiecewiseLinear, PiecewiseLinearLrScheduler, PiecewiseLinearLrSchedulerConfig};
pub use plateau::{
    PlateauFeed, PlateauMode, PlateauState, ReduceLrOnPlateauScheduler, ReduceLrOnPlateauSchedulerConfig, ThresholdMode,
};
pub use polynomial::{PolynomialLr, PolynomialLrScheduler, PolynomialLrSchedulerConfig};
pub use polynomial_decay::{PolynomialDecay, PolynomialDecayLrScheduler, PolynomialDecayLrSchedulerConfig};
pub use run::RunInfo;
pub use scheduler::{DynScheduler, TrainingScheduler};
pub use step::{StepLr, StepLrScheduler, StepLrSchedulerConfig};
pub use timm_cosine::{TimmCosine, TimmCosineLrScheduler, TimmCosineLrSchedulerConfig};
pub use types::SchedulerConfig;
pub use types::{resolve_type, ScheduleType, SCHEDULE_TYPES};
pub use warm_restarts::{
    CosineAnnealingWarmRestarts, CosineAnnealingWarmRestartsScheduler, CosineAnnealingWarmRestartsSchedulerConfig,
};
pub use warmup_stable_decay::{
    WarmupStableDecay, WarmupStableDecayLrScheduler, WarmupStableDecayLrSchedulerConfig, WsdShape,
};

use burn::lr_scheduler::{LrScheduler, LrSchedulerRecord};
use burn::optim::LearningRate;
use serde::{Deserialize, Serialize};

/// Errors from building or restoring a schedule.
#[derive(Debug, thiserror::Error, Clone, PartialEq)]
pub enum ScheduleError {
    /// A parameter is outside its allowed range.
    #[error("{scheduler}: invalid `{field}` = {value}: {allowed}")]
    InvalidParam {
        /// The schedule (its TOML `type` name).
        scheduler: &'static str,
        /// The parameter, by its PyTorch name in snake_case.
        field: &'static str,
        /// The value that was given.
        value: String,
        /// What is allowed.
        allowed: String,
    },
    /// A record saved by another schedule, or by this schedule with other parameters.
    #[error(
        "scheduler record mismatch: the record was saved by {found}, but this run's scheduler is \
         {expected}; resume with the configuration the checkpoint was written with, or start a \
         new run in another artifact directory"
    )]
    RecordMismatch {
        /// What this scheduler is.
        expected: String,
        /// What the record says.
        found: String,
    },
    /// A record that lacks a key this scheduler needs.
    #[error("scheduler record is missing `{0}`: it was not written by burn-lr")]
    RecordIncomplete(String),
}

impl ScheduleError {
    pub(crate) fn invalid(
        scheduler: &'static str,
        field: &'static str,
        value: impl std::fmt::Display,
        allowed: impl Into<String>,
    ) -> Self {
        Self::InvalidParam {
            scheduler,
            field,
            value: value.to_string(),
            allowed: allowed.into(),
        }
    }
}

/// Checks that `value` is finite; names the field otherwise.
pub(crate) fn finite(s: &'static str, field: &'static str, v: f64) -> Result<f64, ScheduleError> {
    if v.is_finite() {
        Ok(v)
    } else {
        Err(ScheduleError::invalid(s, field, v, "must be a finite number"))
    }
}

/// Checks that `value` is finite and `> 0`.
pub(crate) fn positive(s: &'static str, field: &'static str, v: f64) -> Result<f64, ScheduleError> {
    if v.is_finite() && v > 0.0 {
        Ok(v)
    } else {
        Err(ScheduleError::invalid(s, field, v, "must be a finite number > 0"))
    }
}

/// Checks that `value` is finite and `>= 0`.
pub(crate) fn non_negative(s: &'static str, field: &'static str, v: f64) -> Result<f64, ScheduleError> {
    if v.is_finite() && v >= 0.0 {
        Ok(v)
    } else {
        Err(ScheduleError::invalid(s, field, v, "must be a finite number >= 0"))
    }
}

/// Checks that a starting factor (LinearLR's and a warmup's `start_factor`, ConstantLR's
/// `factor`) is finite and in (0, 1], as PyTorch requires.
pub(crate) fn start_fraction(s: &'static str, field: &'static str, v: f64) -> Result<f64, ScheduleError> {
    if v.is_finite() && v > 0.0 && v <= 1.0 {
        Ok(v)
    } else {
        Err(ScheduleError::invalid(s, field, v, "must be in (0, 1]"))
    }
}

/// Checks the momentum bounds of a momentum-cycling schedule (`base_momentum`, `max_momentum`):
/// each in [0, 1), as SGD momentum and Adam's `beta1` must be.
pub(crate) fn momentum_bounds(s: &'static str, base: f64, max: f64) -> Result<(), ScheduleError> {
    for (field, v) in [("base_momentum", base), ("max_momentum", max)] {
        if !(v.is_finite() && (0.0..1.0).contains(&v)) {
            return Err(ScheduleError::invalid(s, field, v, "must be in [0, 1)"));
        }
    }
    Ok(())
}

/// Checks that a decay factor is in [0, 1] (a growing LR would overflow to infinity).
pub(crate) fn decay_factor(s: &'static str, field: &'static str, v: f64) -> Result<f64, ScheduleError> {
    if (0.0..=1.0).contains(&v) {
        Ok(v)
    } else {
        Err(ScheduleError::invalid(
            s,
            field,
            v,
            "must be in [0, 1] (a decay factor; a growing LR would overflow)",
        ))
    }
}

/// An interpolation `from + (to - from) * weight` that lands exactly on its ends: `from` at
/// `weight = 0`, `to` at `weight = 1` (the plain formula can miss `to` by a rounding residue,
/// e.g. `0.1 + (0.0 - 0.1) * 3.0 / 3.0 = -1.4e-17`). `weight` may be given pre-split as
/// `scaled = (to - from) * weight` evaluated by the caller in PyTorch's operation order.
pub(crate) fn land(from: f64, to: f64, weight: f64, scaled: f64) -> f64 {
    if weight <= 0.0 {
        from
    } else if weight >= 1.0 {
        to
    } else {
        from + scaled
    }
}

/// Hugging Face's linear warmup factor from 0: `t / max(1, warmup)`.
pub(crate) fn hf_warmup(t: u64, warmup: u64) -> f64 {
    t as f64 / warmup.max(1) as f64
}

/// PyTorch's cosine form `low + (high - low) * (1 + cos(x)) / 2`, given `cos_out = 1 + cos(x)`,
/// landing exactly on `high` at `cos_out = 2` and on `low` at `cos_out = 0`.
pub(crate) fn cosine_between(low: f64, high: f64, cos_out: f64) -> f64 {
    if cos_out >= 2.0 {
        high
    } else if cos_out <= 0.0 {
        low
    } else {
        low + (high - low) * cos_out / 2.0
    }
}

/// A returned learning rate is never below zero (nor `-0.0`): the last guard of every
/// schedule, after each has landed exactly on its endpoints.
pub(crate) fn clamp_lr(lr: LearningRate) -> LearningRate {
    if lr <= 0.0 {
        0.0
    } else {
        lr
    }
}

/// The unit a schedule counts in: what one PyTorch `scheduler.step()` call stands for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Unit {
    /// One step per epoch (PyTorch's convention for StepLR, ExponentialLR, CosineAnnealingLR,
    /// ReduceLROnPlateau): inside Burn's per-update `Learner` the LR changes only at epoch
    /// boundaries.
    Epoch,
    /// One step per optimizer update (PyTorch's convention for OneCycleLR and CyclicLR).
    Iteration,
}

impl std::fmt::Display for Unit {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Unit::Epoch => "epoch",
            Unit::Iteration => "iteration",
        })
    }
}

/// A learning-rate schedule in closed form: the LR at PyTorch position `t` (`last_epoch`).
pub trait ClosedForm: Clone + Send + Sync + 'static {
    /// The schedule's TOML `type` name, stored in records (`"step"`, `"one_cycle"`, ...).
    const KIND: &'static str;

    /// Learning rate after `t` PyTorch `scheduler.step()` calls (`t` in the schedule's unit).
    fn lr_at(&self, t: u64) -> LearningRate;

    /// Learning rate at update `k` when one unit is `per` updates. The default is
    /// `lr_at(k / per)` (the LR changes only at unit boundaries); schedules defined on
    /// fractional epochs (warm restarts) override it.
    fn lr_at_fraction(&self, k: u64, per: u64) -> LearningRate {
        self.lr_at(k / per.max(1))
    }

    /// Momentum (or Adam's `beta1`) after `t` steps, for schedules that cycle it (PyTorch's
    /// `cycle_momentum`); `None` for the others.
    fn momentum_at(&self, _t: u64) -> Option<f64> {
        None
    }

    /// A canonical description of every parameter, used to refuse records written with other
    /// parameters.
    fn fingerprint(&self) -> String;
}

/// A Burn [`LrScheduler`] over any [`ClosedForm`] schedule.
///
/// It counts its `step()` calls `k` (0-based: the first call returns the LR of optimizer update
/// 0) and returns `lr_at(k / steps_per_unit)`. With `steps_per_unit = 1` one `step()` is one
/// PyTorch `scheduler.step()`; for an epoch-unit schedule inside a `Learner`,
/// `steps_per_unit` is the number of optimizer updates per epoch.
///
/// Its record holds the step count plus the schedule's kind and parameter hash;
/// [`LrScheduler::load_record`] refuses (panics with the reason) a record from another schedule,
/// and [`ClosedFormScheduler::try_load_record`] returns that reason as an error.
#[derive(Clone, Debug)]
pub struct ClosedFormScheduler<S: ClosedForm> {
    schedule: S,
    steps_per_unit: u64,
    step: u64,
}

impl<S: ClosedForm> ClosedFormScheduler<S> {
    /// Wraps `schedule`, one `step()` call per schedule unit.
    pub fn new(schedule: S) -> Self {
        Self {
            schedule,
            steps_per_unit: 1,
            step: 0,
        }
    }

    /// Wraps `schedule` so that its position advances once every `steps_per_unit` calls
    /// (optimizer updates per epoch for an epoch-unit schedule). `0` is treated as `1`.
    pub fn with_steps_per_unit(schedule: S, steps_per_unit: u64) -> Self {
        Self {
            schedule,
            steps_per_unit: steps_per_unit.max(1),
            step: 0,
        }
    }

    /// The schedule's parameters.
    pub fn schedule(&self) -> &S {
        &self.schedule
    }

    /// Number of `step()` calls made so far (optimizer updates).
    pub fn steps_taken(&self) -> u64 {
        self.step
    }

    /// Optimizer updates per schedule unit (1 for iteration-unit schedules).
    pub fn steps_per_unit(&self) -> u64 {
        self.steps_per_unit
    }

    /// The LR of optimizer update `k` (0-based), without changing any state.
    pub fn lr_at_update(&self, k: u64) -> LearningRate {
        clamp_lr(self.schedule.lr_at_fraction(k, self.steps_per_unit))
    }

    /// The momentum of optimizer update `k`, for momentum-cycling schedules.
    pub fn momentum_at_update(&self, k: u64) -> Option<f64> {
        self.schedule.momentum_at(k / self.steps_per_unit)
    }

    /// The momentum that goes with the LR returned by the last `step()` call (`None` before the
    /// first call or for schedules that do not cycle momentum).
    pub fn momentum(&self) -> Option<f64> {
        self.step.checked_sub(1).and_then(|k| self.momentum_at_update(k))
    }

    /// The schedule's identity in records: its kind, parameters and steps per unit (the same
    /// format as inside composites).
    pub(crate) fn fingerprint(&self) -> String {
        format!(
            "{}({}, per={})",
            S::KIND,
            self.schedule.fingerprint(),
            self.steps_per_unit
        )
    }

    /// Restores the step count from `record`, refusing a record of another schedule or other
    /// parameters.
    ///
    /// # Errors
    /// [`ScheduleError::RecordMismatch`] or [`ScheduleError::RecordIncomplete`].
    pub fn try_load_record(&mut self, record: &LrSchedulerRecord) -> Result<(), ScheduleError> {
        self.step = record::read_step(record, S::KIND, &self.fingerprint())?;
        Ok(())
    }
}

impl<S: ClosedForm> LrScheduler for ClosedFormScheduler<S> {
    fn step(&mut self) -> LearningRate {
        let lr = self.lr_at_update(self.step);
        self.step = self.step.saturating_add(1);
        lr
    }

    fn to_record(&self) -> LrSchedulerRecord {
        record::step_record(S::KIND, &self.fingerprint(), self.step)
    }

    fn load_record(&mut self, record: LrSchedulerRecord) {
        record::refuse(self.try_load_record(&record));
    }
}
