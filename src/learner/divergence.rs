//! Stop a Burn `Learner` run at the first non-finite training loss, with the epoch, the
//! optimizer update and the learning rate it happened at, instead of training every remaining
//! epoch on NaN weights (and checkpointing them).
//!
//! [`NonFiniteLossGuard`] is a training metric (register it with
//! `SupervisedTraining::metric_train`) holding the run's `Interrupter`: at the first loss that
//! is NaN or infinite it records a [`Divergence`] and asks Burn to stop. Burn checks the
//! interrupter after every update and saves no checkpoint for an epoch it interrupted, so the
//! newest checkpoint on disk is the last one trained on finite losses. Burn processes metrics on
//! a background thread, so the run ends within a few updates of the bad one.
//!
//! The guard also forwards a [`StopRequest`] (what a Ctrl-C handler sets) to the interrupter at
//! the next training update, so a request made during validation lets that epoch finish and be
//! checkpointed instead of discarding it.

use super::attach::LearnerRun;
use burn::tensor::{Tensor, TensorReadError};
use burn::train::metric::{Adaptor, Metric, MetricAttributes, MetricMetadata, MetricName, SerializedEntry};
use burn::train::{ClassificationOutput, Interrupter, MultiLabelClassificationOutput, RegressionOutput};
use serde::{Deserialize, Serialize};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

/// A request to end a run early (a Ctrl-C handler sets it); clones share it.
#[derive(Clone, Debug, Default)]
pub struct StopRequest(Arc<AtomicBool>);

impl StopRequest {
    /// A request not yet made.
    pub fn new() -> Self {
        Self::default()
    }

    /// Asks the run to stop.
    pub fn request(&self) {
        self.0.store(true, Ordering::SeqCst);
    }

    /// Whether [`Self::request`] was called.
    pub fn is_requested(&self) -> bool {
        self.0.load(Ordering::SeqCst)
    }
}

/// What a run does at a non-finite training loss (`[training] on_non_finite`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum OnNonFinite {
    /// Stop after that update (the default): no checkpoint of that epoch, a [`Divergence`].
    #[default]
    Stop,
    /// Train on (the loss stays NaN; every epoch is checkpointed as usual).
    Continue,
}

/// Where a run's training loss first stopped being finite.
#[derive(Debug, Clone, PartialEq)]
pub struct Divergence {
    /// The epoch (from 1).
    pub epoch: usize,
    /// The optimizer update within the epoch (from 1).
    pub update: u64,
    /// The optimizer update since the start of the run (from 1).
    pub global_update: u64,
    /// The learning rate of that update (base parameter group).
    pub lr: f64,
    /// The loss value (NaN or ±inf).
    pub loss: f64,
}

impl std::fmt::Display for Divergence {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "training loss is {} at epoch {}, update {} (update {} of the run), learning rate {:e}",
            self.loss, self.epoch, self.update, self.global_update, self.lr
        )
    }
}

/// The loss of one training step, for [`NonFiniteLossGuard`] (`[batch]` or `[1]`).
pub struct StepLoss(pub Tensor<1>);

impl Adaptor<StepLoss> for ClassificationOutput {
    fn adapt(&self) -> StepLoss {
        StepLoss(self.loss.clone())
    }
}

impl Adaptor<StepLoss> for MultiLabelClassificationOutput {
    fn adapt(&self) -> StepLoss {
        StepLoss(self.loss.clone())
    }
}

impl Adaptor<StepLoss> for RegressionOutput {
    fn adapt(&self) -> StepLoss {
        StepLoss(self.loss.clone())
    }
}

/// The guard; see the module documentation. Clones share the recorded [`Divergence`].
#[derive(Clone)]
pub struct NonFiniteLossGuard {
    interrupter: Interrupter,
    policy: OnNonFinite,
    stop: Option<StopRequest>,
    epoch_served: Option<Arc<AtomicBool>>,
    first: Arc<Mutex<Option<Divergence>>>,
    epoch: usize,
    last_iteration: usize,
    /// Items seen with `last_iteration` (DDP: one per device).
    repeats: usize,
    /// Devices that report the same iterations (DDP), else 1.
    replicas: usize,
    items_per_update: usize,
    updates_per_epoch: u64,
}

impl NonFiniteLossGuard {
    /// A guard stopping the run of `interrupter` (the one given to
    /// `SupervisedTraining::with_interrupter`) of `run`, which starts after epoch `start_after`
    /// (0, or the resumed checkpoint). From `run` it knows the optimizer updates per epoch and
    /// how many training items Burn reports per update (one per batch: `grad_accumulation`
    /// batches per update on each of `devices`), so a [`Divergence`] names the right update.
    pub fn new(interrupter: Interrupter, run: &LearnerRun, start_after: usize) -> Self {
        Self {
            interrupter,
            policy: OnNonFinite::Stop,
            stop: None,
            epoch_served: None,
            first: Arc::new(Mutex::new(None)),
            epoch: start_after,
            last_iteration: usize::MAX,
            repeats: 0,
            replicas: 1,
            items_per_update: (run.grad_accumulation * run.devices).max(1),
            updates_per_epoch: run.updates_per_epoch(),
        }
    }

    /// What to do at a non-finite loss (default [`OnNonFinite::Stop`]; with
    /// [`OnNonFinite::Continue`] the loss is not read at all).
    pub fn with_policy(mut self, policy: OnNonFinite) -> Self {
        self.policy = policy;
        self
    }

    /// Forwards `stop` to the interrupter at the next training update after it is requested.
    pub fn with_stop_request(mut self, stop: StopRequest) -> Self {
        self.stop = Some(stop);
        self
    }

    /// `served` is true once the data loader handed out the epoch's last training batch (Burn
    /// reads metrics on a background thread, so the guard may see a late item while validation
    /// already runs): from then on a stop request is left to the end-of-epoch hook, so that the
    /// epoch is checkpointed rather than discarded.
    pub fn with_epoch_served_flag(mut self, served: Arc<AtomicBool>) -> Self {
        self.epoch_served = Some(served);
        self
    }

    /// For Burn's `ExecutionStrategy::ddp` on `devices` devices: each device reports its items
    /// with the same iteration numbers (Burn counts `devices` per update), so an epoch starts
    /// where the iteration falls or repeats a `devices + 1`-th time; and the guard only
    /// records. It never interrupts, nor forwards a stop request: a device that left its epoch
    /// early would leave the others waiting in the all-reduce of their next update. End such
    /// a run at the end of the epoch instead (Burn's early-stopping strategy runs on every
    /// device there), on [`divergence`](Self::divergence) or the epoch's loss.
    pub fn with_ddp(mut self, devices: usize) -> Self {
        self.replicas = devices.max(1);
        self
    }

    /// The first non-finite loss seen, if any.
    pub fn divergence(&self) -> Option<Divergence> {
        self.first.lock().unwrap_or_else(|e| e.into_inner()).clone()
    }
}

impl Metric for NonFiniteLossGuard {
    type Input = StepLoss;

    fn update(&mut self, loss: &StepLoss, metadata: &MetricMetadata) -> Result<SerializedEntry, TensorReadError> {
        let iteration = metadata.iteration.unwrap_or(0);
        // Iterations restart at 1 in every epoch (`last_iteration` starts at usize::MAX, so the
        // first one seen starts an epoch too).
        if iteration < self.last_iteration || (iteration == self.last_iteration && self.repeats >= self.replicas) {
            self.epoch += 1;
            self.repeats = 0;
        } else if iteration != self.last_iteration {
            self.repeats = 0;
        }
        self.repeats += 1;
        self.last_iteration = iteration;
        let ddp = self.replicas > 1;
        let epoch_served = self.epoch_served.as_ref().is_some_and(|f| f.load(Ordering::SeqCst));
        if !ddp
            && self.stop.as_ref().is_some_and(StopRequest::is_requested)
            && !epoch_served
            && !self.interrupter.should_stop()
        {
            self.interrupter.stop(Some("stop requested"));
        }
        if self.policy == OnNonFinite::Continue {
            return Ok(SerializedEntry::not_available(None));
        }
        let value = loss.0.clone().mean().try_into_scalar::<f64>()?;
        let mut first = self.first.lock().unwrap_or_else(|e| e.into_inner());
        if !value.is_finite() && first.is_none() {
            let update = (iteration.div_ceil(self.items_per_update) as u64).clamp(1, self.updates_per_epoch.max(1));
            let divergence = Divergence {
                epoch: self.epoch,
                update,
                global_update: (self.epoch as u64 - 1) * self.updates_per_epoch + update,
                lr: metadata.lr.as_ref().map_or(f64::NAN, |lr| lr.base()),
                loss: value,
            };
            if !ddp {
                self.interrupter.stop(Some(&divergence.to_string()));
            }
            *first = Some(divergence);
        }
        // Nothing to log: the loss is Burn's `LossMetric`.
        Ok(SerializedEntry::not_available(None))
    }

    fn compute(&mut self) -> Result<SerializedEntry, TensorReadError> {
        Ok(SerializedEntry::not_available(None))
    }

    fn clear(&mut self) {}

    fn name(&self) -> MetricName {
        Arc::new("Non-finite loss guard".to_string())
    }

    fn attributes(&self) -> MetricAttributes {
        MetricAttributes::None
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use burn::data::dataloader::Progress;
    use burn::tensor::Device;

    fn item(guard: &mut NonFiniteLossGuard, iteration: usize, loss: f32) {
        let metadata = MetricMetadata {
            progress: Progress {
                items_processed: iteration,
                #[cfg(feature = "burn-0-22")]
                items_total: 8,
                #[cfg(not(feature = "burn-0-22"))]
                total: Some(8),
                unit: None,
            },
            iteration: Some(iteration),
            lr: None,
        };
        let loss = StepLoss(Tensor::<1>::from_floats([loss], &Device::flex()));
        guard.update(&loss, &metadata).unwrap();
    }

    #[test]
    fn under_ddp_the_devices_repeated_iterations_count_once_and_nothing_interrupts() {
        // 16 items on 2 devices at batch 4: 2 updates per epoch; Burn's DDP reports each
        // update's items as iteration 2 and 4 (2 per step), once per device.
        let run = LearnerRun::new(16, 4, 3).with_devices(2);
        let interrupter = Interrupter::new();
        let stop = StopRequest::new();
        let mut guard = NonFiniteLossGuard::new(interrupter.clone(), &run, 0)
            .with_stop_request(stop.clone())
            .with_ddp(2);
        for it in [2, 2, 4, 4] {
            item(&mut guard, it, 1.0);
        }
        stop.request();
        for (it, loss) in [(2, 1.0), (2, 1.0), (4, f32::NAN), (4, f32::NAN)] {
            item(&mut guard, it, loss);
        }
        let d = guard.divergence().expect("the NaN is recorded");
        assert_eq!((d.epoch, d.update, d.global_update), (2, 2, 4), "{d:?}");
        assert!(!interrupter.should_stop(), "DDP: no device leaves its epoch early");
    }

    #[test]
    fn on_one_device_an_epoch_of_one_update_restarts_at_the_same_iteration() {
        let run = LearnerRun::new(4, 4, 3);
        let interrupter = Interrupter::new();
        let mut guard = NonFiniteLossGuard::new(interrupter.clone(), &run, 0);
        item(&mut guard, 1, 1.0);
        item(&mut guard, 1, 1.0);
        item(&mut guard, 1, f32::INFINITY);
        let d = guard.divergence().unwrap();
        assert_eq!((d.epoch, d.update, d.global_update), (3, 1, 3), "{d:?}");
        assert!(interrupter.should_stop());
    }
}
