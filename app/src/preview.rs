//! A schedule without training (`burn-lr schedule`): the LR (and momentum) of each optimizer
//! update, produced one row at a time, so a preview of 10^9 updates runs in constant memory.

use burn::lr_scheduler::LrScheduler;
use burn_lr::schedule::{PlateauFeed, RunInfo, ScheduleError, Scheduler, SchedulerConfig};

/// The rows of a preview: `(lr, momentum)` of optimizer updates 0, 1, 2, ... (momentum `None`
/// where the schedule does not set it).
pub struct PreviewRows {
    scheduler: Scheduler,
    feed: Option<PlateauFeed>,
    metrics: Vec<f64>,
    updates_per_epoch: u64,
    next: u64,
    steps: u64,
}

impl Iterator for PreviewRows {
    type Item = (f64, Option<f64>);

    fn next(&mut self) -> Option<Self::Item> {
        let k = self.next;
        if k >= self.steps {
            return None;
        }
        self.next += 1;
        if let Some(feed) = &self.feed {
            if k > 0 && k.is_multiple_of(self.updates_per_epoch) {
                let epoch = k / self.updates_per_epoch;
                feed.report(epoch, self.metrics[(epoch - 1) as usize]);
            }
        }
        Some((self.scheduler.step(), self.scheduler.momentum()))
    }
}

/// Evaluates a schedule without training: the LR (and momentum) of each of `steps` optimizer
/// updates, with `updates_per_epoch` updates per epoch and `base_lr` the optimizer's LR.
/// `metrics` feeds a plateau schedule one value per epoch: the updates of epoch `e` (from 0)
/// use the LR after `e` metrics.
///
/// # Errors
/// The schedule's [`ScheduleError`]; too few metrics for a plateau schedule.
pub fn preview_rows(
    config: &SchedulerConfig,
    base_lr: f64,
    steps: u64,
    updates_per_epoch: u64,
    metrics: &[f64],
) -> Result<PreviewRows, ScheduleError> {
    let spe = updates_per_epoch.max(1);
    let scheduler = config.init(&RunInfo {
        base_lr,
        updates_per_epoch: spe,
        total_updates: steps.max(1),
    })?;
    let feed = scheduler.plateau_feed();
    if feed.is_some() {
        let needed = steps.saturating_sub(1) / spe;
        if (metrics.len() as u64) < needed {
            return Err(ScheduleError::InvalidParam {
                scheduler: config.kind(),
                field: "metrics",
                value: format!("{} values", metrics.len()),
                allowed: format!(
                    "{steps} steps at {spe} per epoch need at least {needed} metrics (one per finished epoch)"
                ),
            });
        }
    }
    Ok(PreviewRows {
        scheduler,
        feed,
        metrics: metrics.to_vec(),
        updates_per_epoch: spe,
        next: 0,
        steps,
    })
}

/// [`preview_rows`], collected.
///
/// # Errors
/// As [`preview_rows`].
pub fn preview(
    config: &SchedulerConfig,
    base_lr: f64,
    steps: u64,
    updates_per_epoch: u64,
    metrics: &[f64],
) -> Result<Vec<(f64, Option<f64>)>, ScheduleError> {
    Ok(preview_rows(config, base_lr, steps, updates_per_epoch, metrics)?.collect())
}
