//! What a training run tells a schedule: the base LR, optimizer updates per epoch, the run's
//! length; and the run's length in a schedule's unit.

use super::base::Unit;
use burn::optim::LearningRate;

/// The facts of a training run that a schedule needs; they come from the run itself, so a user
/// cannot get them wrong.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RunInfo {
    /// The optimizer's base learning rate (PyTorch's `optimizer.lr`, `[optimizer] lr`).
    pub base_lr: LearningRate,
    /// Optimizer updates per epoch (batches per epoch divided by gradient accumulation,
    /// rounded up), >= 1.
    pub updates_per_epoch: u64,
    /// Optimizer updates in the whole run (epochs × `updates_per_epoch`), >= 1 (not to be confused
    /// with a schedule's own length such as OneCycle's `total_steps`, counted in its unit).
    pub total_updates: u64,
}

/// Optimizer updates per `unit`.
pub(crate) fn run_per(run: &RunInfo, unit: Unit) -> u64 {
    match unit {
        Unit::Epoch => run.updates_per_epoch.max(1),
        Unit::Iteration => 1,
    }
}

/// The run's length in `unit`s: its optimizer updates, or its epochs (rounded up).
pub(crate) fn run_length(run: &RunInfo, unit: Unit) -> u64 {
    match unit {
        Unit::Iteration => run.total_updates,
        Unit::Epoch => run.total_updates.div_ceil(run.updates_per_epoch.max(1)),
    }
}

/// What is allowed for a schedule whose length the run fills in (the config leaves it out) and
/// that is too short for `what` (the warmup, a phase of the cycle): said in the run's terms,
/// with the other way out, `fix`.
pub(crate) fn run_too_short(run_len: u64, what: &str, fix: &str) -> String {
    format!(
        "this run is too short for {what}: the schedule spans the run, {run_len} step(s) in all (its epochs × \
         optimizer updates per epoch, in the schedule's unit); train longer (more epochs or images, a smaller \
         batch_size) or {fix}"
    )
}

/// The warning for a schedule whose declared length (`field` = `declared` `unit`s) differs from
/// the run's; `None` when they agree.
pub(crate) fn length_warning(kind: &str, field: &str, declared: u64, unit: Unit, run: &RunInfo) -> Option<String> {
    let run_len = run_length(run, unit);
    let what = if declared < run_len {
        "the steps after it hold the schedule's final LR"
    } else if declared > run_len {
        "the run ends before the schedule does (its LR never reaches the final value)"
    } else {
        return None;
    };
    Some(format!(
        "{kind}: {field} = {declared} {unit}s, but this run has {run_len} {unit}s ({} optimizer updates, {} per \
         epoch): {what}; leave the length out to span the run",
        run.total_updates, run.updates_per_epoch
    ))
}
