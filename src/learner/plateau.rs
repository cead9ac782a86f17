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

/// Feeds the validation metric of each epoch to a [`PlateauFeed`]. Burn calls it from
/// [`CheckpointingStrategy::checkpointing`] (before the scheduler record of the epoch is saved,
/// so the checkpoint holds it) and from [`EarlyStoppingStrategy::should_stop`] (runs without
/// checkpoints); feeding an epoch twice is a no-op.
#[derive(Clone, Debug)]
pub struct PlateauMonitor {
    feed: PlateauFeed,
    metric: String,
}

impl PlateauMonitor {
    /// Watches Burn's validation metric `metric` (`"Loss"`, `"Accuracy"`, any registered
    /// numeric metric's name).
    pub fn new(feed: PlateauFeed, metric: impl Into<String>) -> Self {
        Self {
            feed,
            metric: metric.into(),
        }
    }

    /// Reports epoch `epoch`'s validation mean of the metric (NaN when Burn has none, which
    /// counts as a bad epoch).
    pub fn report(&self, epoch: usize, store: &EventStoreClient) {
        let value = store.find_metric(&self.metric, epoch, Aggregate::Mean, &Split::Valid);
        if value.is_none() {
            log::warn!("plateau scheduler: no validation `{}` for epoch {epoch}", self.metric);
        }
        self.feed.report(epoch as u64, value.unwrap_or(f64::NAN));
    }
}

/// As an early-stopping hook (Burn runs it after each epoch), it only feeds the metric and never
/// stops: use it in runs without checkpoints, or beside [`PlateauCheckpointing`].
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
    /// Wraps `inner` (Burn's default is keep-last-2 plus best-validation-loss).
    pub fn new(inner: Box<dyn CheckpointingStrategy>, monitor: PlateauMonitor) -> Self {
        Self {
            inner,
            monitors: vec![monitor],
        }
    }

    /// Feeds several plateau schedulers (one per parameter group).
    pub fn with_monitors(inner: Box<dyn CheckpointingStrategy>, monitors: Vec<PlateauMonitor>) -> Self {
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
