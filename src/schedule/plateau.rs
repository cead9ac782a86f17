//! `ReduceLROnPlateau`: cut the LR when a validation metric stops improving.

use super::base::{schedule_config, Schedule, Unit};
use super::error::{finite, non_negative, not_a_factor, ScheduleError};
use super::kind::ScheduleKind;
use super::record::{check_record, refuse, tag_record, KEY_STEP};
use super::run::RunInfo;
use burn::lr_scheduler::{LrScheduler, LrSchedulerRecord};
use burn::optim::LearningRate;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

/// Whether lower (`min`) or higher (`max`) metric values are better.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PlateauMode {
    /// Lower is better (a loss); the default.
    Min,
    /// Higher is better (an accuracy).
    Max,
}

/// How `threshold` defines a significant improvement.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ThresholdMode {
    /// Relative: better than `best * (1 - threshold)` (`min`) or `best * (1 + threshold)`
    /// (`max`). With negative metrics this is PyTorch's behaviour, which treats a constant
    /// negative metric as improving every epoch (in `min` mode): use `abs` for metrics that can
    /// be negative.
    Rel,
    /// Absolute: better than `best - threshold` (`min`) or `best + threshold` (`max`).
    Abs,
}

schedule_config! {
    /// Configuration of [`ReduceLrOnPlateauScheduler`], PyTorch's
    /// [`torch.optim.lr_scheduler.ReduceLROnPlateau`](https://pytorch.org/docs/stable/generated/torch.optim.lr_scheduler.ReduceLROnPlateau.html)
    /// with its parameter names and defaults.
    ///
    /// One metric value per epoch; inside a training run the validation metric named by `monitor`
    /// is fed automatically after each epoch and a reduced LR applies from the first optimizer
    /// update of the next epoch. A NaN metric counts as a bad epoch (as in PyTorch).
    ///
    /// TOML: `[scheduler] type = "reduce_on_plateau"`, `mode = "min"`, `factor = 0.1`,
    /// `patience = 10`, `monitor = "loss"`.
    ///
    /// `lr = max(lr * factor, min_lr)` after more than `patience` epochs whose metric did not improve
    /// on the best by `threshold` (relative or absolute), then `cooldown` epochs of waiting; one
    /// metric per epoch (`report`, PyTorch's `scheduler.step(val_loss)`), the LR in learning-rate
    /// units. Inside a `Learner` the validation metric is fed at each epoch's end
    /// ([`LearnerSchedule`](crate::learner::LearnerSchedule)) and the new LR applies from the next
    /// epoch's first update.
    ///
    /// ```
    /// use burn_lr::schedule::ReduceLrOnPlateauSchedulerConfig;
    ///
    /// # fn main() -> Result<(), burn_lr::schedule::ScheduleError> {
    /// // PyTorch: ReduceLROnPlateau(SGD(params, lr=1.0), mode="min", factor=0.5, patience=0)
    /// let config = ReduceLrOnPlateauSchedulerConfig { factor: 0.5, patience: 0, ..Default::default() };
    /// let mut s = config.init(1.0)?;
    /// assert_eq!(s.report(1.0), 1.0); // the best so far
    /// assert_eq!(s.report(1.0), 0.5); // no improvement for more than 0 epochs: halved
    /// assert_eq!(s.report(0.5), 0.5); // improved
    /// # Ok(())
    /// # }
    /// ```
    pub struct ReduceLrOnPlateauSchedulerConfig = "reduce_on_plateau" {
        /// `min` (default) or `max`.
        pub mode: PlateauMode = PlateauMode::Min => with_mode,
        /// Multiplicative reduction, `new_lr = lr * factor`; in [0, 1) (default 0.1).
        pub factor: f64 = 0.1 => with_factor,
        /// Bad epochs tolerated before a reduction (default 10).
        pub patience: u64 = 10 => with_patience,
        /// Significance threshold (default 1e-4); finite, >= 0.
        pub threshold: f64 = 1e-4 => with_threshold,
        /// `rel` (default) or `abs`.
        pub threshold_mode: ThresholdMode = ThresholdMode::Rel => with_threshold_mode,
        /// Epochs to wait after a reduction before counting bad epochs again (default 0).
        pub cooldown: u64 = 0 => with_cooldown,
        /// Lower bound on the LR (default 0); finite, >= 0.
        pub min_lr: f64 = 0.0 => with_min_lr,
        /// Reductions smaller than `eps` are skipped (default 1e-8); finite, >= 0.
        pub eps: f64 = 1e-8 => with_eps,
        /// Validation metric to watch in a training run: `loss` (default) or `accuracy` (use with
        /// `mode = "max"`).
        pub monitor: String = "loss".into() => with_monitor,
        /// Must be `epoch` (the metric is per epoch).
        pub unit: Unit = Unit::Epoch => with_unit,
    }
}

impl Default for ReduceLrOnPlateauSchedulerConfig {
    /// PyTorch's defaults for every field.
    fn default() -> Self {
        Self::defaults()
    }
}

/// The metrics a training run can feed to a plateau scheduler: `(config name, Burn metric name)`.
pub(crate) const MONITORS: [(&str, &str); 2] = [("loss", "Loss"), ("accuracy", "Accuracy")];

impl ReduceLrOnPlateauSchedulerConfig {
    /// Validates the parameters.
    ///
    /// # Errors
    /// [`ScheduleError::InvalidParam`] naming the field: `factor` outside [0, 1), negative or
    /// non-finite `threshold`, `min_lr`, `eps` or `lr`, an unknown `monitor`, an `iteration`
    /// unit.
    pub fn validate(&self, base_lr: LearningRate) -> Result<(), ScheduleError> {
        const S: &str = ReduceLrOnPlateauSchedulerConfig::NAME;
        non_negative(S, "lr", base_lr)?;
        finite(S, "factor", self.factor)?;
        if !(0.0..1.0).contains(&self.factor) {
            return Err(ScheduleError::invalid(
                S,
                "factor",
                self.factor,
                "must be in [0, 1) (factor >= 1 would not reduce)",
            ));
        }
        non_negative(S, "threshold", self.threshold)?;
        non_negative(S, "min_lr", self.min_lr)?;
        non_negative(S, "eps", self.eps)?;
        if !MONITORS.iter().any(|(name, _)| *name == self.monitor) {
            return Err(ScheduleError::invalid(
                S,
                "monitor",
                format!("{:?}", self.monitor),
                "must be \"loss\" or \"accuracy\"",
            ));
        }
        if self.unit != Unit::Epoch {
            return Err(ScheduleError::invalid(
                S,
                "unit",
                self.unit,
                "must be \"epoch\": the metric comes once per epoch",
            ));
        }
        Ok(())
    }

    /// Burn's name of the monitored validation metric (`"Loss"` or `"Accuracy"`).
    pub fn burn_metric_name(&self) -> &'static str {
        MONITORS
            .iter()
            .find(|(n, _)| *n == self.monitor)
            .map(|(_, b)| *b)
            .unwrap_or("Loss")
    }

    /// Builds the scheduler starting at `base_lr`, with a new [`PlateauFeed`]; each `step()` call
    /// is one optimizer update and metrics arrive through [`ReduceLrOnPlateauScheduler::feed`]
    /// or [`ReduceLrOnPlateauScheduler::report`].
    ///
    /// # Errors
    /// As [`Self::validate`].
    pub fn init(&self, base_lr: LearningRate) -> Result<ReduceLrOnPlateauScheduler, ScheduleError> {
        self.validate(base_lr)?;
        Ok(ReduceLrOnPlateauScheduler {
            config: self.clone(),
            base_lr,
            state: PlateauState::new(base_lr, self.mode),
            feed: PlateauFeed::default(),
            step: 0,
        })
    }
}

/// A shared, thread-safe mailbox of per-epoch metric values for a plateau scheduler.
///
/// Clones share the same values, so the `Learner`'s clone of the scheduler sees what the
/// training loop reports. Values are stamped with their epoch (Burn's, from 1); reporting an
/// epoch twice keeps the first value, so every clone applies each epoch exactly once.
#[derive(Clone, Default, Debug)]
pub struct PlateauFeed {
    values: Arc<Mutex<BTreeMap<u64, f64>>>,
}

impl PlateauFeed {
    /// Reports the metric of `epoch` (1-based). A second report of the same epoch is ignored.
    pub fn report(&self, epoch: u64, value: f64) {
        self.values
            .lock()
            .expect("plateau feed lock poisoned")
            .entry(epoch)
            .or_insert(value);
    }

    fn after(&self, epoch: u64) -> Vec<(u64, f64)> {
        let values = self.values.lock().expect("plateau feed lock poisoned");
        values.range(epoch + 1..).map(|(e, v)| (*e, *v)).collect()
    }
}

/// The full state of a plateau scheduler (PyTorch's `best`, `num_bad_epochs`,
/// `cooldown_counter`, the group's `lr`, and `last_epoch`).
#[derive(Debug, Clone, PartialEq)]
pub struct PlateauState {
    /// Learning rate in force.
    pub lr: LearningRate,
    /// Best metric so far (`+inf` / `-inf` before the first one).
    pub best: f64,
    /// Consecutive epochs without significant improvement.
    pub num_bad_epochs: u64,
    /// Epochs of cooldown left.
    pub cooldown_counter: u64,
    /// Metrics seen so far (PyTorch's `last_epoch`).
    pub last_epoch: u64,
    /// Epoch stamp of the last metric applied from the feed.
    pub fed_epoch: u64,
}

impl PlateauState {
    fn new(lr: LearningRate, mode: PlateauMode) -> Self {
        Self {
            lr,
            best: match mode {
                PlateauMode::Min => f64::INFINITY,
                PlateauMode::Max => f64::NEG_INFINITY,
            },
            num_bad_epochs: 0,
            cooldown_counter: 0,
            last_epoch: 0,
            fed_epoch: 0,
        }
    }

    /// PyTorch's `ReduceLROnPlateau.step(metrics)`, line for line.
    fn apply(&mut self, c: &ReduceLrOnPlateauSchedulerConfig, current: f64) {
        self.last_epoch += 1;
        if is_better(c, current, self.best) {
            self.best = current;
            self.num_bad_epochs = 0;
        } else {
            self.num_bad_epochs += 1;
        }
        if self.cooldown_counter > 0 {
            self.cooldown_counter -= 1;
            self.num_bad_epochs = 0;
        }
        if self.num_bad_epochs > c.patience {
            let old_lr = self.lr;
            let new_lr = (old_lr * c.factor).max(c.min_lr);
            if old_lr - new_lr > c.eps {
                self.lr = new_lr;
            }
            self.cooldown_counter = c.cooldown;
            self.num_bad_epochs = 0;
        }
    }
}

fn is_better(c: &ReduceLrOnPlateauSchedulerConfig, a: f64, best: f64) -> bool {
    match (c.mode, c.threshold_mode) {
        (PlateauMode::Min, ThresholdMode::Rel) => a < best * (1.0 - c.threshold),
        (PlateauMode::Min, ThresholdMode::Abs) => a < best - c.threshold,
        (PlateauMode::Max, ThresholdMode::Rel) => a > best * (c.threshold + 1.0),
        (PlateauMode::Max, ThresholdMode::Abs) => a > best + c.threshold,
    }
}

/// PyTorch's `ReduceLROnPlateau` as a Burn [`LrScheduler`].
///
/// `step()` (once per optimizer update) first applies every metric reported to its
/// [`PlateauFeed`] since the last call, then returns the LR in force. Its record holds the whole
/// [`PlateauState`], including metrics reported but not yet applied, and is refused (with the
/// reason) when it was written with other parameters.
#[derive(Clone, Debug)]
pub struct ReduceLrOnPlateauScheduler {
    config: ReduceLrOnPlateauSchedulerConfig,
    base_lr: LearningRate,
    state: PlateauState,
    feed: PlateauFeed,
    step: u64,
}

impl ReduceLrOnPlateauScheduler {
    /// `step()` calls so far (optimizer updates made).
    pub fn steps_taken(&self) -> u64 {
        self.step
    }

    /// The feed a training loop reports each epoch's metric to.
    pub fn feed(&self) -> PlateauFeed {
        self.feed.clone()
    }

    /// Uses `feed` instead of this scheduler's own (to share one feed between schedulers).
    pub fn with_feed(mut self, feed: PlateauFeed) -> Self {
        self.feed = feed;
        self
    }

    /// The configuration.
    pub fn config(&self) -> &ReduceLrOnPlateauSchedulerConfig {
        &self.config
    }

    /// PyTorch's `scheduler.step(metric)` for use outside a `Learner`: applies one metric now
    /// and returns the LR in force afterwards.
    pub fn report(&mut self, metric: f64) -> LearningRate {
        self.sync();
        self.state.apply(&self.config, metric);
        self.state.lr
    }

    /// The state, with every reported metric applied.
    pub fn state(&self) -> PlateauState {
        let mut state = self.state.clone();
        for (epoch, value) in self.feed.after(state.fed_epoch) {
            state.apply(&self.config, value);
            state.fed_epoch = epoch;
        }
        state
    }

    /// The LR in force during `epoch` (from 1): the state after the reported metrics of the
    /// epochs before it.
    pub fn lr_in_epoch(&self, epoch: u64) -> LearningRate {
        let mut state = self.state.clone();
        for (e, value) in self.feed.after(state.fed_epoch) {
            if e >= epoch {
                break;
            }
            state.apply(&self.config, value);
            state.fed_epoch = e;
        }
        state.lr
    }

    fn sync(&mut self) {
        self.state = self.state();
    }

    fn fingerprint(&self) -> String {
        let c = &self.config;
        format!(
            "base_lr={:?} mode={:?} factor={:?} patience={} threshold={:?} threshold_mode={:?} cooldown={} min_lr={:?} eps={:?} monitor={}",
            self.base_lr, c.mode, c.factor, c.patience, c.threshold, c.threshold_mode, c.cooldown, c.min_lr, c.eps, c.monitor
        )
    }

    /// Restores the state from `record`.
    ///
    /// # Errors
    /// [`ScheduleError::RecordMismatch`] for a record of another schedule or other parameters,
    /// [`ScheduleError::RecordIncomplete`] for a record without the plateau state.
    pub fn try_load_record(&mut self, record: &LrSchedulerRecord) -> Result<(), ScheduleError> {
        check_record(record, ReduceLrOnPlateauSchedulerConfig::NAME, &self.fingerprint())?;
        let get = |k: &str| -> Result<f64, ScheduleError> {
            record
                .scalar::<f64>(k)
                .ok_or_else(|| ScheduleError::RecordIncomplete(k.into()))
        };
        let get_u = |k: &str| -> Result<u64, ScheduleError> {
            record
                .scalar::<u64>(k)
                .ok_or_else(|| ScheduleError::RecordIncomplete(k.into()))
        };
        self.state = PlateauState {
            lr: get("lr")?,
            best: get("best")?,
            num_bad_epochs: get_u("num_bad_epochs")?,
            cooldown_counter: get_u("cooldown_counter")?,
            last_epoch: get_u("last_epoch")?,
            fed_epoch: get_u("fed_epoch")?,
        };
        self.step = get_u(KEY_STEP)?;
        Ok(())
    }
}

impl LrScheduler for ReduceLrOnPlateauScheduler {
    fn step(&mut self) -> LearningRate {
        self.sync();
        self.step = self.step.saturating_add(1);
        self.state.lr
    }

    fn to_record(&self) -> LrSchedulerRecord {
        let s = self.state();
        tag_record(
            LrSchedulerRecord::new(),
            ReduceLrOnPlateauSchedulerConfig::NAME,
            &self.fingerprint(),
        )
        .with_scalar("lr", s.lr)
        .with_scalar("best", s.best)
        .with_scalar("num_bad_epochs", s.num_bad_epochs)
        .with_scalar("cooldown_counter", s.cooldown_counter)
        .with_scalar("last_epoch", s.last_epoch)
        .with_scalar("fed_epoch", s.fed_epoch)
        .with_scalar(KEY_STEP, self.step)
    }

    fn load_record(&mut self, record: LrSchedulerRecord) {
        refuse(self.try_load_record(&record));
    }
}

impl ScheduleKind for ReduceLrOnPlateauSchedulerConfig {
    fn kind(&self) -> &'static str {
        Self::NAME
    }

    fn unit(&self) -> Unit {
        self.unit
    }

    fn factor_check(&self, _run: &RunInfo) -> Result<(), String> {
        not_a_factor(Self::NAME)
    }

    fn build_schedule(&self, _run: &RunInfo) -> Result<Box<dyn Schedule>, ScheduleError> {
        Err(ScheduleError::invalid(
            Self::NAME,
            "type",
            Self::NAME,
            "cannot be nested in sequential, chained or warmup: it is driven by a metric, not by the step count",
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn by_hand_a_bad_epoch_halves_the_lr_from_the_next_epoch() {
        let mut s = ReduceLrOnPlateauSchedulerConfig {
            factor: 0.5,
            patience: 0,
            ..Default::default()
        }
        .init(1.0)
        .unwrap();
        let feed = s.feed();
        assert_eq!(s.step(), 1.0);
        feed.report(1, 1.0); // improves on +inf
        assert_eq!(s.step(), 1.0);
        feed.report(2, 2.0); // worse: one bad epoch > patience 0
        assert_eq!(s.step(), 0.5);
        feed.report(2, 0.1); // a second report of an epoch is ignored
        assert_eq!(s.step(), 0.5);
    }
}
