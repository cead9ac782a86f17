//! Feeding a [`ReduceLrOnPlateauScheduler`](crate::schedule::ReduceLrOnPlateauScheduler) the
//! validation metric of each epoch inside any Burn `Learner` run.

use crate::schedule::PlateauFeed;
use burn::train::checkpoint::{
    CheckpointingAction, CheckpointingStrategy, ComposedCheckpointingStrategy, KeepLastNCheckpoints,
    MetricCheckpointingStrategy,
};
use burn::train::metric::store::{Aggregate, Direction, EventStoreClient, Split};
use burn::train::metric::LossMetric;
use burn::train::EarlyStoppingStrategy;
use std::sync::{Arc, Mutex};

/// Feeds the validation metric of each epoch to a [`PlateauFeed`]. Burn calls it from
/// [`CheckpointingStrategy::checkpointing`] (before the scheduler record of the epoch is saved,
/// so the checkpoint holds it) and from [`EarlyStoppingStrategy::should_stop`] (runs without
/// checkpoints); feeding an epoch twice is a no-op.
#[derive(Clone, Debug)]
pub struct PlateauMonitor {
    feed: PlateauFeed,
    metric: String,
    error: Arc<Mutex<Option<String>>>,
}

impl PlateauMonitor {
    /// Watches Burn's validation metric `metric` (`"Loss"`, `"Accuracy"`, any registered
    /// numeric metric's name).
    pub(crate) fn new(feed: PlateauFeed, metric: impl Into<String>) -> Self {
        Self {
            feed,
            metric: metric.into(),
            error: Arc::new(Mutex::new(None)),
        }
    }

    /// Reports epoch `epoch`'s validation mean of the metric. When Burn has no such validation
    /// metric (a name that was never registered), nothing is fed (a NaN would count as a bad
    /// epoch and silently decay the LR): the monitor records the [`error`](Self::error) instead,
    /// and [`PlateauEarlyStopping`] stops the run at the end of that epoch.
    pub fn report(&self, epoch: usize, store: &EventStoreClient) {
        match store.find_metric(&self.metric, epoch, Aggregate::Mean, &Split::Valid) {
            Some(value) => self.feed.report(epoch as u64, value),
            None => {
                let mut error = self.error.lock().expect("plateau monitor lock poisoned");
                error.get_or_insert_with(|| {
                    format!(
                        "plateau scheduler: Burn has no validation metric `{}` at the end of epoch {epoch}; register \
                         it on the valid split (`.metrics(...)` / `.metric_valid_numeric(...)`) or monitor another one",
                        self.metric
                    )
                });
            }
        }
    }

    /// The metric that was not found, as a one-line error (`None` while all is well).
    pub fn error(&self) -> Option<String> {
        self.error.lock().expect("plateau monitor lock poisoned").clone()
    }
}

/// An early-stopping strategy that feeds the plateau monitors and stops the run when one of
/// them cannot find its metric; otherwise it defers to the user's own strategy `S`, so a
/// plateau schedule never takes Burn's only early-stopping slot away.
#[derive(Clone)]
pub struct PlateauEarlyStopping<S = NeverStop> {
    monitors: Vec<PlateauMonitor>,
    inner: S,
}

/// An early-stopping strategy that never stops (the default inner strategy).
#[derive(Clone, Copy, Debug, Default)]
pub struct NeverStop;

impl EarlyStoppingStrategy for NeverStop {
    fn should_stop(&mut self, _epoch: usize, _store: &EventStoreClient) -> bool {
        false
    }
}

impl<S: EarlyStoppingStrategy> PlateauEarlyStopping<S> {
    /// Feeds `monitors`, then asks `inner`.
    pub(crate) fn new(monitors: Vec<PlateauMonitor>, inner: S) -> Self {
        Self { monitors, inner }
    }
}

impl<S: EarlyStoppingStrategy> EarlyStoppingStrategy for PlateauEarlyStopping<S> {
    fn should_stop(&mut self, epoch: usize, store: &EventStoreClient) -> bool {
        for monitor in &self.monitors {
            monitor.report(epoch, store);
        }
        if self.monitors.iter().any(|m| m.error().is_some()) {
            return true;
        }
        self.inner.should_stop(epoch, store)
    }
}

/// As an early-stopping hook (Burn runs it after each epoch), it only feeds the metric and never
/// stops: use it in runs without checkpoints, or beside the strategy of [`LearnerSchedule::checkpointing`](crate::learner::LearnerSchedule::checkpointing).
impl EarlyStoppingStrategy for PlateauMonitor {
    fn should_stop(&mut self, epoch: usize, store: &EventStoreClient) -> bool {
        self.report(epoch, store);
        false
    }
}

/// A [`CheckpointingStrategy`] that first feeds the plateau metric, then defers to `inner`.
pub struct PlateauCheckpointing {
    inner: Box<dyn CheckpointingStrategy>,
    monitors: Vec<PlateauMonitor>,
}

impl PlateauCheckpointing {
    /// Wraps `inner` (Burn's default is keep-last-2 plus best-validation-loss), feeding each
    /// plateau schedule (the base one and one per parameter group).
    pub(crate) fn with_monitors(inner: Box<dyn CheckpointingStrategy>, monitors: Vec<PlateauMonitor>) -> Self {
        Self { inner, monitors }
    }
}

impl CheckpointingStrategy for PlateauCheckpointing {
    fn checkpointing(&mut self, epoch: usize, store: &EventStoreClient) -> Vec<CheckpointingAction> {
        for monitor in &self.monitors {
            monitor.report(epoch, store);
        }
        self.inner.checkpointing(epoch, store)
    }
}

/// Burn's default checkpointing strategy (keep the last 2, plus the best validation loss).
pub fn default_checkpointing() -> Box<dyn CheckpointingStrategy> {
    Box::new(
        ComposedCheckpointingStrategy::builder()
            .add(KeepLastNCheckpoints::new(2))
            .add(MetricCheckpointingStrategy::new(
                &LossMetric::new(),
                Aggregate::Mean,
                Direction::Lowest,
                Split::Valid,
            ))
            .build(),
    )
}
