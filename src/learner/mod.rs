//! Using burn-lr schedules inside any Burn `Learner` run (your model, your data): the plateau
//! feed from the validation metrics, per-group learning-rate metrics, a quiet renderer.
//!
//! - [`PlateauMonitor`] / [`PlateauCheckpointing`]: feed a
//!   [`ReduceLrOnPlateauScheduler`](crate::schedule::ReduceLrOnPlateauScheduler) the validation
//!   metric of each epoch (Burn's checkpointing hook, so the checkpoint holds it).
//! - [`GroupLearningRateMetric`]: the LR of one parameter group, logged per iteration.
//! - [`QuietRenderer`]: no per-iteration printing; progress to a callback.
//!
//! `examples/own_model.rs` shows them in a user's own `SupervisedTraining` run.

mod metric;
mod plateau;
mod renderer;

pub use metric::GroupLearningRateMetric;
pub use plateau::{default_checkpointing, PlateauCheckpointing, PlateauMonitor};
pub use renderer::{Progress, ProgressFn, QuietRenderer};
