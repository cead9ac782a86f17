//! Per-parameter-group learning-rate metrics for Burn's `Learner`.

use std::sync::Arc;

/// Logs the learning rate of one parameter group per iteration (Burn's `LearningRateMetric`
/// logs only the base group). Named `Learning Rate <params>`, so Burn writes it to
/// `train/epoch-N/Learning_Rate_<params>.log`.
#[derive(Clone)]
pub struct GroupLearningRateMetric {
    name: burn::train::metric::MetricName,
    path: String,
    state: burn::train::metric::state::NumericMetricState,
}

impl GroupLearningRateMetric {
    /// Tracks the LR Burn applies to parameters whose path contains `path` (the group's
    /// `params` predicate).
    pub fn new(path: impl Into<String>) -> Self {
        let path = path.into();
        Self {
            name: Arc::new(format!("Learning Rate {path}")),
            path,
            state: burn::train::metric::state::NumericMetricState::new(),
        }
    }
}

impl burn::train::metric::Metric for GroupLearningRateMetric {
    type Input = ();

    fn update(
        &mut self,
        _item: &(),
        metadata: &burn::train::metric::MetricMetadata,
    ) -> Result<burn::train::metric::SerializedEntry, burn::tensor::TensorReadError> {
        let lr = metadata
            .lr
            .as_ref()
            .map(|lr| lr.lr_from_param(burn::module::ParamId::new(), Some(&self.path)))
            .unwrap_or(0.0);
        self.state.update(lr, 1);
        Ok(self
            .state
            .compute_update(burn::train::metric::state::FormatOptions::new(self.name()).precision(2)))
    }

    fn compute(&mut self) -> Result<burn::train::metric::SerializedEntry, burn::tensor::TensorReadError> {
        Ok(self
            .state
            .compute_final(burn::train::metric::state::FormatOptions::new(self.name()).precision(2)))
    }

    fn clear(&mut self) {
        self.state.reset()
    }

    fn name(&self) -> burn::train::metric::MetricName {
        self.name.clone()
    }

    fn attributes(&self) -> burn::train::metric::MetricAttributes {
        burn::train::metric::NumericAttributes {
            unit: None,
            higher_is_better: false,
        }
        .into()
    }
}

impl burn::train::metric::Numeric for GroupLearningRateMetric {
    fn value(&self) -> Option<burn::train::metric::NumericEntry> {
        Some(self.state.current_value())
    }

    fn running_value(&self) -> Option<burn::train::metric::NumericEntry> {
        Some(self.state.running_value())
    }

    fn final_value(&self) -> burn::train::metric::NumericEntry {
        self.state.final_value()
    }
}
