//! A quiet Burn metrics renderer with a progress callback.

use burn::train::logger::{EvaluationProgressLogger, TrainingProgressLogger};
use burn::train::metric::{MetricDefinition, MetricId, NumericEntry};
use burn::train::renderer::{
    EvaluationName, MetricState, MetricsRenderer, MetricsRendererEvaluation, MetricsRendererTraining,
};
use std::collections::HashMap;

/// A Burn renderer that prints nothing per iteration (Burn's own CLI renderer prints a line per
/// iteration without a terminal); progress goes to an optional callback.
pub struct QuietRenderer {
    progress: Option<ProgressFn>,
    names: HashMap<MetricId, String>,
}

/// Progress of a split (`"train"`, `"valid"`), for a progress bar of the caller's choosing.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Progress<'a> {
    /// A split starts over `total_items` items (images, samples).
    Start {
        /// `"train"` or `"valid"`.
        split: &'a str,
        /// Items in the split (under Burn 0.23, 0 when its data loader does not know them).
        total_items: usize,
    },
    /// Items processed so far in the split.
    Update(usize),
    /// A training metric's value for the latest batch (`"Loss"`, `"Learning Rate"`, ...).
    Metric {
        /// Burn's name of the metric.
        name: &'a str,
        /// Its value for the batch.
        value: f64,
    },
    /// The split ended.
    End,
}

/// A progress callback (see [`QuietRenderer::with_progress`]).
pub type ProgressFn = Box<dyn FnMut(Progress<'_>) + Send + Sync>;

impl QuietRenderer {
    /// A renderer that prints nothing.
    pub fn new() -> Self {
        Self {
            progress: None,
            names: HashMap::new(),
        }
    }

    /// A renderer that prints nothing itself and tells `progress` how each split advances
    /// (the `burn-lr` app draws a terminal progress bar with it).
    pub fn with_progress(progress: ProgressFn) -> Self {
        Self {
            progress: Some(progress),
            names: HashMap::new(),
        }
    }

    fn tell(&mut self, event: Progress<'_>) {
        if let Some(progress) = &mut self.progress {
            progress(event);
        }
    }
}

impl Default for QuietRenderer {
    fn default() -> Self {
        Self::new()
    }
}

impl MetricsRendererTraining for QuietRenderer {
    fn update_train(&mut self, state: MetricState) {
        let MetricState::Numeric(entry, Some(value)) = state else {
            return;
        };
        if matches!(value, NumericEntry::Final(_)) {
            return;
        }
        let value = value.current();
        if let Some(name) = self.names.get(&entry.metric_id).cloned() {
            self.tell(Progress::Metric { name: &name, value });
        }
    }
    fn update_valid(&mut self, _state: MetricState) {}
    fn on_train_end(
        &mut self,
        _summary: Option<burn::train::LearnerSummary>,
    ) -> Result<(), Box<dyn std::error::Error>> {
        Ok(())
    }
}

impl MetricsRendererEvaluation for QuietRenderer {
    fn update_test(&mut self, _name: EvaluationName, _state: MetricState) {}
    fn on_test_end(&mut self, _summary: Option<burn::train::LearnerSummary>) -> Result<(), Box<dyn std::error::Error>> {
        Ok(())
    }
}

#[cfg(feature = "burn-0-22")]
impl TrainingProgressLogger for QuietRenderer {
    fn start(
        &mut self,
        _total_epochs: usize,
        _starting_epoch: usize,
        _total_items: Option<usize>,
        _label: Option<&str>,
    ) {
    }
    fn update_epoch(&mut self, _epoch: usize) {}
    fn start_split(&mut self, split: &str, total_items: usize) {
        self.tell(Progress::Start { split, total_items });
    }
    fn update_split(&mut self, items_processed: usize) {
        self.tell(Progress::Update(items_processed));
    }
    fn end_split(&mut self) {
        self.tell(Progress::End);
    }
    fn end(&mut self) {}
    fn log_event_training(&mut self, _event: String) {}
}

#[cfg(feature = "burn-0-22")]
impl EvaluationProgressLogger for QuietRenderer {
    fn start_global_progress(&mut self, _total_tests: usize) {}
    fn start_test(&mut self, _name: &str, _total_items: usize) {}
    fn update_test_progress(&mut self, _items_processed: usize) {}
    fn end_test(&mut self) {}
    fn end_global_progress(&mut self) {}
    fn log_event_evaluation(&mut self, _event: String) {}
}

// Burn 0.23: a split's progress is a `Progress` snapshot whose total may be unknown.
#[cfg(not(feature = "burn-0-22"))]
impl TrainingProgressLogger for QuietRenderer {
    fn start(
        &mut self,
        _total_epochs: usize,
        _starting_epoch: usize,
        _total_items: Option<usize>,
        _label: Option<&str>,
    ) {
    }
    fn update_epoch(&mut self, _epoch: usize) {}
    fn start_split(&mut self, split: &str, progress: &burn::data::dataloader::Progress) {
        let total_items = progress.total.unwrap_or(0);
        self.tell(Progress::Start { split, total_items });
    }
    fn update_split(&mut self, progress: &burn::data::dataloader::Progress) {
        self.tell(Progress::Update(progress.items_processed));
    }
    fn end_split(&mut self, _progress: &burn::data::dataloader::Progress) {
        self.tell(Progress::End);
    }
    fn end(&mut self) {}
    fn log_event_training(&mut self, _event: String) {}
}

#[cfg(not(feature = "burn-0-22"))]
impl EvaluationProgressLogger for QuietRenderer {
    fn start_global_progress(&mut self, _total_tests: usize) {}
    fn start_test(&mut self, _name: &str, _progress: &burn::data::dataloader::Progress) {}
    fn update_test_progress(&mut self, _progress: &burn::data::dataloader::Progress) {}
    fn end_test(&mut self, _progress: &burn::data::dataloader::Progress) {}
    fn end_global_progress(&mut self) {}
    fn log_event_evaluation(&mut self, _event: String) {}
}

impl MetricsRenderer for QuietRenderer {
    fn manual_close(&mut self) {}
    fn register_metric(&mut self, definition: MetricDefinition) {
        self.names.insert(definition.metric_id, definition.name.to_string());
    }
}
