//! Using burn-lr schedules inside any Burn `Learner` run (your model, your data): the plateau
//! feed from the validation metrics, per-group learning-rate metrics, a quiet renderer.
//!
//! - [`LearnerSchedule`]: the one entry point. From a schedule config and what the run knows
//!   ([`LearnerRun`]: training items, batch size, gradient accumulation, epochs, devices) it
//!   gives the scheduler for `Learner::new`, the momentum cell a cycled momentum needs
//!   ([`crate::optim::CycledSgdConfig::init`]), the plateau feed as a checkpointing strategy
//!   (a [`ReduceLrOnPlateauScheduler`](crate::schedule::ReduceLrOnPlateauScheduler) gets the
//!   validation metric of each epoch through Burn's checkpointing hook, so the checkpoint holds
//!   it) and as early stopping ([`PlateauEarlyStopping`]), and a resume check.
//! - [`GroupLearningRateMetric`]: the LR of one parameter group, logged per iteration.
//! - [`LrObserver`]: sees the learning rate of every optimizer update ([`LrUpdate`]) as the
//!   schedulers returned it to Burn (`lr.csv` and TensorBoard in `burn_lr::monitor`, feature `monitor`).
//! - [`QuietRenderer`]: no per-iteration printing; progress (and the training metrics) to a
//!   callback.
//! - [`NonFiniteLossGuard`]: stops the run at the first NaN or infinite training loss
//!   ([`Divergence`]: epoch, update, learning rate), so no NaN epoch is checkpointed.
//!
//! - [`AveragedLearnerModel`] / [`ScheduleFreeLearnerModel`]: your model wrapped so Burn steps
//!   it and validates the average (SWA, EMA) or schedule-free's `x`, BatchNorm statistics
//!   recomputed where they were never trained, checkpoints that resume exactly
//!   (`examples/averaging.rs`).
//!
//! `examples/own_model.rs` shows them in a user's own `SupervisedTraining` run.

mod attach;
mod divergence;
mod metric;
mod observe;
mod plateau;
mod renderer;
mod weights;

pub use attach::{checkpoint_file, LearnerRun, LearnerSchedule, PlateauWatch, CHECKPOINT_DIR};
pub use divergence::{Divergence, NonFiniteLossGuard, OnNonFinite, StepLoss, StopRequest};
pub use metric::GroupLearningRateMetric;
pub use observe::{LrObserver, LrUpdate};
pub use plateau::{NeverStop, PlateauEarlyStopping};
pub use renderer::{Progress, ProgressFn, QuietRenderer};
pub use weights::{AveragedLearnerConfig, AveragedLearnerModel, ScheduleFreeLearnerModel};
