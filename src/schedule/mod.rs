//! Learning-rate schedules, exact to PyTorch 2.15's `torch.optim.lr_scheduler`, as Burn
//! [`LrScheduler`](burn::lr_scheduler::LrScheduler)s.
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
//! The k-th call of [`LrScheduler::step`](burn::lr_scheduler::LrScheduler::step) (counting from 0) returns the LR that PyTorch's
//! optimizer uses for its k-th update, i.e. PyTorch's `get_last_lr()` after `k` scheduler steps.
//!
//! [`ReduceLrOnPlateauScheduler`] is the one stateful schedule: it is fed one validation metric
//! per epoch through a [`PlateauFeed`].
//!
//! Two ways to build one: each config's `init()` (PyTorch-style stepping, one `step()` per
//! `scheduler.step()`), or a [`SchedulerConfig`] (the TOML form, every type below) built for a
//! run with [`SchedulerConfig::init`] into a [`Scheduler`], which is what
//! [`LearnerSchedule`](crate::learner::LearnerSchedule) does for a Burn `Learner`.
//!
//! The path from a `[scheduler]` table to the `LrScheduler` Burn steps (files of this module):
//!
//! ```text
//! [scheduler] TOML ──► SchedulerConfig (config.rs: the one list of types; suggest.rs: "did you mean")
//!                         │ one variant per type, e.g. StepLrSchedulerConfig (step.rs, declared by
//!                         │ schedule_config! in base.rs: PyTorch's names and defaults)
//!                         ▼ SchedulerConfig::init(&RunInfo)  (run.rs: base LR, updates per epoch, length)
//!                       ScheduleKind::build_schedule (kind.rs; closed_form_kind! for a leaf)
//!                         │ leaf: the closed form (StepLr: ClosedForm, base.rs) in ClosedFormScheduler,
//!                         │       advancing once per unit; composites (compose/) hold children
//!                         ▼
//!                       Box<dyn Schedule> ──► Scheduler (scheduler.rs): Burn's LrScheduler, one
//!                                             step() per optimizer update; record = count + identity
//!                                             (record.rs); reduce_on_plateau (plateau.rs) instead
//!                                             when the table asks for it
//! ```
//!
//! Adding a schedule: one file (its `schedule_config!`, validation in `build`, the closed form
//! and its `ClosedForm` impl, `closed_form_kind!`, tests) and one line in `config.rs`'s list.
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
//! | `swa` (a `[scheduler.swa]` table) | [`SwaSchedulerConfig`] | PyTorch `SWALR` after the base schedule (`torch.optim.swa_utils`) | epoch |
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
//! # use burn_lr::burn;
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

mod base;
mod compose;
mod config;
pub mod constant;
pub mod cosine_annealing;
pub mod cosine_with_hard_restarts;
pub mod cyclic;
mod error;
pub mod exponential;
pub mod fixed;
pub mod inverse_sqrt;
mod kind;
pub mod lambda;
pub mod linear;
mod lr_noise;
mod momentum;
pub mod multi_step;
pub mod noam;
pub mod one_cycle;
pub mod piecewise_linear;
pub mod plateau;
pub mod polynomial;
pub mod polynomial_decay;
mod record;
pub(crate) use record::fnv1a;
mod run;
mod scheduler;
pub mod step;
mod suggest;
pub mod timm_cosine;
pub mod warm_restarts;
pub mod warmup_stable_decay;

pub use base::{ClosedForm, ClosedFormScheduler, Unit};
pub use compose::{
    ChainedSchedulerConfig, SequentialLrSchedulerConfig, SwaSchedulerConfig, SwaSpec, WarmupMode,
    WarmupSchedulerConfig, WarmupSpec,
};
pub use config::{resolve_type, ScheduleType, SchedulerConfig, SCHEDULE_TYPES};
pub use constant::{ConstantLrScheduler, ConstantLrSchedulerConfig};
pub use cosine_annealing::{AfterTMax, CosineAnnealingLrScheduler, CosineAnnealingLrSchedulerConfig};
pub use cosine_with_hard_restarts::{CosineWithHardRestartsLrScheduler, CosineWithHardRestartsLrSchedulerConfig};
pub use cyclic::{CyclicLrScheduler, CyclicLrSchedulerConfig, CyclicMode, ScaleMode};
pub use error::ScheduleError;
pub use exponential::{ExponentialLrScheduler, ExponentialLrSchedulerConfig};
pub use fixed::{FixedLrScheduler, FixedLrSchedulerConfig};
pub use inverse_sqrt::{InverseSqrtLrScheduler, InverseSqrtLrSchedulerConfig};
pub use lambda::{LambdaLr, LambdaLrScheduler, MultiplicativeLr, MultiplicativeLrScheduler};
pub use linear::{LinearLrScheduler, LinearLrSchedulerConfig};
pub use lr_noise::{NoiseRange, NoiseType};
pub use momentum::MomentumCell;
pub use multi_step::{MultiStepLrScheduler, MultiStepLrSchedulerConfig};
pub use noam::{NoamLrScheduler, NoamLrSchedulerConfig};
pub use one_cycle::{AnnealStrategy, OneCycleLrScheduler, OneCycleLrSchedulerConfig};
pub use piecewise_linear::{PiecewiseLinearLrScheduler, PiecewiseLinearLrSchedulerConfig};
pub use plateau::{
    PlateauFeed, PlateauMode, ReduceLrOnPlateauScheduler, ReduceLrOnPlateauSchedulerConfig, ThresholdMode,
};
pub use polynomial::{PolynomialLrScheduler, PolynomialLrSchedulerConfig};
pub use polynomial_decay::{PolynomialDecayLrScheduler, PolynomialDecayLrSchedulerConfig};
pub use run::RunInfo;
pub use scheduler::Scheduler;
pub use step::{StepLrScheduler, StepLrSchedulerConfig};
pub use timm_cosine::{TimmCosineLrScheduler, TimmCosineLrSchedulerConfig};
pub use warm_restarts::{CosineAnnealingWarmRestartsScheduler, CosineAnnealingWarmRestartsSchedulerConfig};
pub use warmup_stable_decay::{WarmupStableDecayLrScheduler, WarmupStableDecayLrSchedulerConfig, WsdShape};
