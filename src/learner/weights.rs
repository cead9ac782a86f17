//! The evaluated weights that are not the stepped ones, inside Burn's `Learner`: a weight
//! average ([`AveragedLearnerModel`]) or schedule-free's `x` ([`ScheduleFreeLearnerModel`]).
//! Either wraps your model: Burn steps the model's weights, validation (and so the metrics and
//! the "best" epoch) runs on the evaluated ones, with the BatchNorm statistics recomputed for them
//! over the latest training batches where they were never trained.

use std::any::Any;
use std::collections::VecDeque;
use std::path::Path;
use std::sync::{Arc, Mutex};

use crate::averaging::{
    update_bn, AveragedModelConfig, AveragingError, AveragingKind, ScheduleFreeWeights, UpdateBnReport,
};
use crate::burn::module::{Module, ModuleDisplay, ModuleVisitor, Param, RunningState};
use crate::burn::optim::lr_scheduler::module_lr_scheduler::ModuleLearningRate;
use crate::burn::optim::{GradientsParams, ModuleOptimizer, MultiGradientsParams};
use crate::burn::store::ModuleRecord;
use crate::burn::tensor::{Tensor, TensorData};
use crate::burn::train::{InferenceStep, TrainOutput, TrainStep};

use super::attach::{checkpoint_file, CHECKPOINT_DIR};

/// The latest training inputs (for `update_bn`) and the evaluated model of the latest update,
/// shared by the clones Burn makes of a wrapper (type-erased: `M::Input`, `M`).
#[derive(Clone, Default)]
struct Shared(Arc<Mutex<SharedState>>);

#[derive(Default)]
struct SharedState {
    recent: VecDeque<Box<dyn Any + Send>>,
    evaluated: Option<(u64, Box<dyn Any + Send>)>,
    last_update_bn: Option<UpdateBnReport>,
    /// `(updates, n_averaged)` as last read or written (the counters tensor is read once).
    counts: Option<(u64, u64)>,
    /// The observer of the stepped model's validation outputs (`LiveFn<M::Output>`).
    live: Option<Box<dyn Any + Send>>,
}

/// Receives the stepped model's output on each validation batch (see
/// [`AveragedLearnerModel::with_live_validation`]).
type LiveFn<O> = Arc<dyn Fn(&O) + Send + Sync>;

impl std::fmt::Debug for Shared {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Shared")
    }
}

impl Shared {
    fn with<T>(&self, f: impl FnOnce(&mut SharedState) -> T) -> T {
        f(&mut self.0.lock().unwrap_or_else(|e| e.into_inner()))
    }

    /// Keeps `input` among the latest `keep` training inputs.
    fn remember<I: Clone + Send + 'static>(&self, input: &I, keep: usize) {
        if keep == 0 {
            return;
        }
        self.with(|s| {
            s.recent.push_back(Box::new(input.clone()));
            while s.recent.len() > keep {
                s.recent.pop_front();
            }
        });
    }

    fn recent<I: Clone + 'static>(&self) -> Vec<I> {
        self.with(|s| s.recent.iter().filter_map(|b| b.downcast_ref::<I>().cloned()).collect())
    }

    fn set_live<O: 'static>(&self, observe: LiveFn<O>) {
        self.with(|s| s.live = Some(Box::new(observe)));
    }

    fn live<O: 'static>(&self) -> Option<LiveFn<O>> {
        self.with(|s| s.live.as_ref().and_then(|b| b.downcast_ref::<LiveFn<O>>().cloned()))
    }

    /// The evaluated model for update `key`, made by `make` once per update.
    fn evaluated<M: Clone + Send + 'static>(&self, key: u64, make: impl FnOnce() -> (M, Option<UpdateBnReport>)) -> M {
        if let Some(m) = self.with(|s| match &s.evaluated {
            Some((k, m)) if *k == key => m.downcast_ref::<M>().cloned(),
            _ => None,
        }) {
            return m;
        }
        let (model, report) = make();
        self.with(|s| {
            s.evaluated = Some((key, Box::new(model.clone())));
            if report.is_some() {
                s.last_update_bn = report;
            }
        });
        model
    }
}

/// Whether a module has running statistics (BatchNorm's), which `update_bn` recomputes.
fn has_running_stats<M: Module>(model: &M) -> bool {
    struct Find(Vec<String>, bool);
    impl ModuleVisitor for Find {
        fn enter_module(&mut self, name: &str, _: &str) {
            self.0.push(name.to_string());
        }
        fn exit_module(&mut self, _: &str, _: &str) {
            self.0.pop();
        }
        fn visit_float<const D: usize>(&mut self, _: &Param<Tensor<D>>) {
            self.1 |= self.0.last().is_some_and(|n| n.starts_with("running_"));
        }
    }
    let mut find = Find(vec![], false);
    model.visit(&mut find);
    find.1
}

/// `model` in train mode with its statistics recomputed over `batches` by `M`'s own training step
/// (its forward; the gradients are dropped).
fn recompute_bn<M>(model: M, batches: Vec<<M as TrainStep>::Input>) -> (M, Option<UpdateBnReport>)
where
    M: Module + ModuleDisplay + TrainStep + 'static,
    <M as TrainStep>::Input: Clone,
{
    if batches.is_empty() || !has_running_stats(&model) {
        return (model, None);
    }
    match update_bn(model.clone(), batches, |m: &M, input| {
        let _ = TrainStep::step(m, input);
    }) {
        Ok((model, report)) => (model, Some(report)),
        Err(_) => (model, None),
    }
}

/// How an [`AveragedLearnerModel`] averages, and over how many of the latest training batches it
/// recomputes the BatchNorm statistics of an SWA average without buffers before validating it.
#[derive(Clone, Debug, PartialEq)]
pub struct AveragedLearnerConfig {
    /// The average: kind, decay, `use_buffers`, from which update, how often.
    pub averaging: AveragedModelConfig,
    /// Training batches (the latest) for `update_bn` before each validation of an SWA average
    /// with `use_buffers = false` (default 16; 0: none, PyTorch's statistics copied from the model).
    /// Keep it at most the batches of one epoch for a resume to validate as the straight run
    /// does: the batches before a resume are not in any checkpoint.
    pub update_bn_batches: usize,
}

impl AveragedLearnerConfig {
    /// `averaging`, with `update_bn` over the latest 16 training batches where needed.
    pub fn new(averaging: AveragedModelConfig) -> Self {
        Self {
            averaging,
            update_bn_batches: 16,
        }
    }

    /// Training batches for `update_bn` (0: none).
    pub fn with_update_bn_batches(mut self, batches: usize) -> Self {
        self.update_bn_batches = batches;
        self
    }

    /// Whether the average's BatchNorm statistics are recomputed (`update_bn` over the latest
    /// training batches) before it is evaluated: an SWA average without buffers, with
    /// `update_bn_batches > 0`.
    pub fn recomputes_bn(&self) -> bool {
        self.update_bn_batches > 0 && self.averaging.kind == AveragingKind::Swa && !self.averaging.use_buffers
    }
}

/// Your model for Burn's `Learner` with `torch.optim.swa_utils.AveragedModel` beside it: the
/// optimizer steps [`Self::model`]; after each optimizer update the config selects, the average
/// takes it in (SWA or EMA, as [`crate::averaging::AveragedModel`], equal to PyTorch);
/// validation runs on the average once it holds a model (before that, on the model), with its
/// BatchNorm statistics recomputed where the config says so. Every model checkpoint holds the
/// average, `n_averaged`, the updates done and the setup, so a resume continues it exactly; a
/// checkpoint from another setup is refused by [`Self::check_resume`].
#[derive(Module, Debug)]
pub struct AveragedLearnerModel<M: Module> {
    /// The model the optimizer steps.
    pub model: M,
    /// The average: one tensor per float tensor of `model` (in its order), flattened.
    average: Vec<RunningState<Tensor<1>>>,
    /// `[updates done, n_averaged, the setup's hash in three 16-bit parts]`, exact in f32.
    counters: RunningState<Tensor<1>>,
    #[module(skip)]
    config: AveragedLearnerConfig,
    #[module(skip)]
    shared: Shared,
}

/// The setup's fingerprint hash in three 16-bit parts (exact as f32).
fn setup_hash(config: &AveragedModelConfig) -> [f32; 3] {
    let h = crate::schedule::fnv1a(&config.fingerprint());
    [
        (h & 0xffff) as f32,
        ((h >> 16) & 0xffff) as f32,
        ((h >> 32) & 0xffff) as f32,
    ]
}

impl<M: Module + ModuleDisplay> AveragedLearnerModel<M> {
    /// `model` with an average that holds nothing yet (PyTorch's `AveragedModel(model)` copy).
    /// Errors: a setting out of range, named.
    pub fn new(model: M, config: AveragedLearnerConfig) -> Result<Self, AveragingError> {
        config.averaging.validate()?;
        let average = crate::averaging::flat_tensors(&model)
            .into_iter()
            .map(RunningState::new)
            .collect();
        let device = model.devices().first().cloned().unwrap_or_default();
        let [h0, h1, h2] = setup_hash(&config.averaging);
        let counters = Tensor::from_data(TensorData::new(vec![0.0f32, 0.0, h0, h1, h2], [5]), &device);
        Ok(Self {
            model,
            average,
            counters: RunningState::new(counters),
            config,
            shared: Shared::default(),
        })
    }

    /// `[updates, n_averaged, hash...]` as recorded.
    fn read_counters(&self) -> Vec<f32> {
        self.counters
            .value()
            .into_data()
            .convert::<f32>()
            .try_to_vec::<f32>()
            .unwrap_or_default()
    }

    /// `(updates, n_averaged)`: the counters tensor read once (a device sync), then kept on the
    /// host beside it and advanced by each update. So the first read must come after a
    /// checkpoint is loaded into this value (Burn's `Learner` loads it before its first step;
    /// a value read before, then loaded, keeps the counts it read).
    fn counts(&self) -> (u64, u64) {
        if let Some(c) = self.shared.with(|s| s.counts) {
            return c;
        }
        let values = self.read_counters();
        let at = |i: usize| values.get(i).copied().unwrap_or(0.0) as u64;
        let c = (at(0), at(1));
        self.shared.with(|s| s.counts = Some(c));
        c
    }

    /// The optimizer updates done (1-based count; restored from a checkpoint: read it after
    /// Burn has loaded one, as the counts are read once).
    pub fn updates(&self) -> u64 {
        self.counts().0
    }

    /// PyTorch's `n_averaged`: the models averaged in.
    pub fn n_averaged(&self) -> u64 {
        self.counts().1
    }

    /// The average as your model (no autodiff), whatever it holds (the initial copy before the
    /// first averaging update), with the statistics averaged or copied from the model.
    pub fn averaged_model(&self) -> M {
        let values: Vec<Option<Tensor<1>>> = self.average.iter().map(|rs| Some(rs.value().inner())).collect();
        crate::averaging::with_flat_tensors(self.model.valid(), &values)
    }

    /// What `update_bn` did last (the statistics and batches), for the one line a run prints.
    pub fn last_update_bn(&self) -> Option<UpdateBnReport> {
        self.shared.with(|s| s.last_update_bn.clone())
    }

    /// The settings.
    pub fn config(&self) -> &AveragedLearnerConfig {
        &self.config
    }

    /// One optimizer update done: counts it, averages `model` in if the config says so.
    fn after_update(self, model: M) -> Self {
        let (done, mut n) = self.counts();
        let updates = done + 1;
        let average = if self.config.averaging.averages_after(updates) {
            let current = crate::averaging::flat_tensors(&model);
            let w = self.config.averaging.weight(n + 1);
            let use_buffers = self.config.averaging.use_buffers;
            let buffers = crate::averaging::buffer_flags(&model);
            let first = n == 0;
            n += 1;
            self.average
                .into_iter()
                .zip(current)
                .zip(buffers)
                .map(|((rs, cur), buffer)| {
                    let avg = rs.value().inner();
                    let cur = cur.to_device(&avg.device());
                    let new = if first || (buffer && !use_buffers) {
                        cur
                    } else {
                        crate::averaging::lerp(avg, cur, w)
                    };
                    RunningState::new(new)
                })
                .collect()
        } else {
            self.average
        };
        let device = self.counters.value().device();
        let [h0, h1, h2] = setup_hash(&self.config.averaging);
        let values = vec![updates as f32, n as f32, h0, h1, h2];
        self.shared.with(|s| s.counts = Some((updates, n)));
        Self {
            model,
            average,
            counters: RunningState::new(Tensor::from_data(TensorData::new(values, [5]), &device)),
            config: self.config,
            shared: self.shared,
        }
    }

    /// Checks the model checkpoint of `epoch` in `artifact_dir` (Burn's
    /// `checkpoint/model-{epoch}.bpk`) before Burn loads it: it must hold an average made with
    /// this setup. Errors: [`AveragingError::Resume`] naming the file and what differs.
    pub fn check_resume(&self, artifact_dir: &Path, epoch: usize) -> Result<(), AveragingError> {
        let path = artifact_dir.join(CHECKPOINT_DIR).join(checkpoint_file("model", epoch));
        let refuse = |why: String| AveragingError::Resume {
            path: path.display().to_string(),
            why,
        };
        let record = ModuleRecord::load(&path).map_err(|e| refuse(format!("unreadable ({e})")))?;
        let loaded = self.clone().try_load_record(record).map_err(|e| {
            refuse(format!(
                "it holds no average of this model, written by a run without this averaging ({e})"
            ))
        })?;
        let theirs = loaded.read_counters();
        if theirs.get(2..5) != Some(&setup_hash(&self.config.averaging)[..]) {
            return Err(refuse(format!(
                "its average was made with another averaging setup; this run: {}",
                self.config.averaging.fingerprint()
            )));
        }
        Ok(())
    }
}

impl<M> AveragedLearnerModel<M>
where
    M: Module + ModuleDisplay + TrainStep + 'static,
    <M as TrainStep>::Input: Clone,
{
    /// What validation runs on: the average once it holds a model (its statistics recomputed
    /// over the latest training batches for an SWA average without buffers), else the model.
    pub fn evaluated_model(&self) -> M {
        if self.n_averaged() == 0 {
            return self.model.valid();
        }
        let recompute = self.config.recomputes_bn();
        self.shared.evaluated(self.updates(), || {
            let average = self.averaged_model();
            if !recompute {
                return (average, None);
            }
            let (model, report) = recompute_bn(average, self.shared.recent());
            (model.valid(), report)
        })
    }
}

impl<M> TrainStep for AveragedLearnerModel<M>
where
    M: Module + ModuleDisplay + TrainStep + 'static,
    <M as TrainStep>::Input: Clone,
{
    type Input = <M as TrainStep>::Input;
    type Output = <M as TrainStep>::Output;

    fn step(&self, item: Self::Input) -> TrainOutput<Self::Output> {
        if self.config.recomputes_bn() {
            self.shared.remember(&item, self.config.update_bn_batches);
        }
        TrainStep::step(&self.model, item)
    }

    fn optimize(self, optim: &mut ModuleOptimizer, lr: ModuleLearningRate, grads: GradientsParams) -> Self {
        let model = optim.step(lr, self.model.clone(), grads);
        self.after_update(model)
    }

    fn optimize_multi(self, optim: &mut ModuleOptimizer, lr: ModuleLearningRate, grads: MultiGradientsParams) -> Self {
        let model = optim.step_multi(lr, self.model.clone(), grads);
        self.after_update(model)
    }
}

impl<M> AveragedLearnerModel<M>
where
    M: Module + ModuleDisplay + InferenceStep,
{
    /// Also validates the stepped model: on each validation batch, once the average holds a
    /// model, the stepped model's output goes to `observe` (a second forward pass), so a run can
    /// show both models' loss and accuracy. Validation's own metrics stay the average's.
    pub fn with_live_validation(self, observe: impl Fn(&<M as InferenceStep>::Output) + Send + Sync + 'static) -> Self {
        self.shared.set_live::<<M as InferenceStep>::Output>(Arc::new(observe));
        self
    }
}

impl<M> InferenceStep for AveragedLearnerModel<M>
where
    M: Module + ModuleDisplay + TrainStep + InferenceStep + 'static,
    <M as TrainStep>::Input: Clone,
    <M as InferenceStep>::Input: Clone,
{
    type Input = <M as InferenceStep>::Input;
    type Output = <M as InferenceStep>::Output;

    fn step(&self, item: Self::Input) -> Self::Output {
        if self.n_averaged() > 0 {
            observe_live(&self.shared, &self.model, &item);
        }
        InferenceStep::step(&self.evaluated_model(), item)
    }
}

/// Hands the stepped `model`'s output on `item` to the live observer, if there is one.
fn observe_live<M>(shared: &Shared, model: &M, item: &<M as InferenceStep>::Input)
where
    M: InferenceStep,
    <M as InferenceStep>::Input: Clone,
    <M as InferenceStep>::Output: 'static,
{
    if let Some(observe) = shared.live::<<M as InferenceStep>::Output>() {
        observe(&InferenceStep::step(model, item.clone()));
    }
}

/// Your model for Burn's `Learner` with a schedule-free optimizer
/// ([`crate::averaging::SgdScheduleFreeConfig`], [`crate::averaging::AdamWScheduleFreeConfig`]):
/// Burn steps `y` (the model), validation runs on `x` (the reference's `optimizer.eval()`), with
/// the BatchNorm statistics recomputed for `x` over the latest training batches (as the
/// reference advises), so a forgotten `eval()`/`train()` switch cannot happen. Checkpoints hold
/// `y` (model) and `z` with the reference's counters (optimizer), all a bit-exact resume needs;
/// [`Self::evaluated_model`] gives `x` to keep.
#[derive(Module, Debug)]
pub struct ScheduleFreeLearnerModel<M: Module> {
    /// `y`: the model the optimizer steps.
    pub model: M,
    #[module(skip)]
    weights: ScheduleFreeHandle,
    #[module(skip)]
    update_bn_batches: usize,
    #[module(skip)]
    shared: Shared,
}

/// [`ScheduleFreeWeights`] and the updates seen since this value was made.
#[derive(Clone)]
struct ScheduleFreeHandle {
    weights: ScheduleFreeWeights,
    updates: Arc<std::sync::atomic::AtomicU64>,
}

impl std::fmt::Debug for ScheduleFreeHandle {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("ScheduleFreeWeights")
    }
}

impl<M: Module + ModuleDisplay> ScheduleFreeLearnerModel<M> {
    /// `model` (`y`) with the handle its optimizer's `init` returned; `update_bn` over the latest
    /// 16 training batches (see [`Self::with_update_bn_batches`]).
    pub fn new(model: M, weights: ScheduleFreeWeights) -> Self {
        Self {
            model,
            weights: ScheduleFreeHandle {
                weights,
                updates: Arc::default(),
            },
            update_bn_batches: 16,
            shared: Shared::default(),
        }
    }

    /// Training batches (the latest) for `update_bn` on `x` before each validation (0: none; a
    /// model without BatchNorm needs none). At most one epoch's batches for a resume to validate
    /// as the straight run does (the batches before a resume are not in any checkpoint).
    pub fn with_update_bn_batches(mut self, batches: usize) -> Self {
        self.update_bn_batches = batches;
        self
    }

    /// What `update_bn` did last, for the one line a run prints.
    pub fn last_update_bn(&self) -> Option<UpdateBnReport> {
        self.shared.with(|s| s.last_update_bn.clone())
    }

    /// Checks the optimizer checkpoint of `epoch` in `artifact_dir` (Burn's
    /// `checkpoint/optim-{epoch}.bpk`) before Burn loads it: it must hold this schedule-free
    /// optimizer's state. Errors: [`AveragingError::Resume`] naming the file and what it holds.
    pub fn check_resume(&self, artifact_dir: &Path, epoch: usize) -> Result<(), AveragingError> {
        let path = artifact_dir.join(CHECKPOINT_DIR).join(checkpoint_file("optim", epoch));
        let shown = path.display().to_string();
        let record = crate::burn::optim::OptimizerRecord::load(&path).map_err(|e| AveragingError::Resume {
            path: shown.clone(),
            why: format!("unreadable ({e:?})"),
        })?;
        self.weights.weights.check_record(record, &shown)
    }
}

impl<M> ScheduleFreeLearnerModel<M>
where
    M: Module + ModuleDisplay + TrainStep + 'static,
    <M as TrainStep>::Input: Clone,
{
    /// `x`: what is validated and kept (statistics recomputed over the latest training batches
    /// where the model has BatchNorm). Parameters not stepped since this value was made (right
    /// after a resume, before its first update) keep `y`.
    pub fn evaluated_model(&self) -> M {
        let key = self.weights.updates.load(std::sync::atomic::Ordering::SeqCst);
        let batches = self.update_bn_batches;
        self.shared.evaluated(key, || {
            let x = self.weights.weights.eval(self.model.clone());
            if batches == 0 {
                return (x, None);
            }
            let (model, report) = recompute_bn(x, self.shared.recent());
            (model.valid(), report)
        })
    }
}

impl<M> TrainStep for ScheduleFreeLearnerModel<M>
where
    M: Module + ModuleDisplay + TrainStep + 'static,
    <M as TrainStep>::Input: Clone,
{
    type Input = <M as TrainStep>::Input;
    type Output = <M as TrainStep>::Output;

    fn step(&self, item: Self::Input) -> TrainOutput<Self::Output> {
        if has_running_stats(&self.model) {
            self.shared.remember(&item, self.update_bn_batches);
        }
        TrainStep::step(&self.model, item)
    }

    fn optimize(mut self, optim: &mut ModuleOptimizer, lr: ModuleLearningRate, grads: GradientsParams) -> Self {
        self.model = optim.step(lr, self.model, grads);
        self.weights.updates.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        self
    }

    fn optimize_multi(
        mut self,
        optim: &mut ModuleOptimizer,
        lr: ModuleLearningRate,
        grads: MultiGradientsParams,
    ) -> Self {
        self.model = optim.step_multi(lr, self.model, grads);
        self.weights.updates.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        self
    }
}

impl<M> ScheduleFreeLearnerModel<M>
where
    M: Module + ModuleDisplay + InferenceStep,
{
    /// Also validates `y`, the stepped model: on each validation batch its output goes to
    /// `observe` (a second forward pass), so a run can show both `x` and `y`. Validation's own
    /// metrics stay `x`'s.
    pub fn with_live_validation(self, observe: impl Fn(&<M as InferenceStep>::Output) + Send + Sync + 'static) -> Self {
        self.shared.set_live::<<M as InferenceStep>::Output>(Arc::new(observe));
        self
    }
}

impl<M> InferenceStep for ScheduleFreeLearnerModel<M>
where
    M: Module + ModuleDisplay + TrainStep + InferenceStep + 'static,
    <M as TrainStep>::Input: Clone,
    <M as InferenceStep>::Input: Clone,
{
    type Input = <M as InferenceStep>::Input;
    type Output = <M as InferenceStep>::Output;

    fn step(&self, item: Self::Input) -> Self::Output {
        observe_live(&self.shared, &self.model, &item);
        InferenceStep::step(&self.evaluated_model(), item)
    }
}
