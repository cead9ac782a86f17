//! One entry point for putting a schedule into any Burn `Learner`: [`LearnerSchedule`].

use super::observe::{LrObserver, Observed};
use super::plateau::{default_checkpointing, NeverStop, PlateauCheckpointing, PlateauEarlyStopping, PlateauMonitor};
use crate::schedule::{MomentumCell, RunInfo, ScheduleError, Scheduler, SchedulerConfig};
use burn::lr_scheduler::module_lr_scheduler::ModuleLrScheduler;
use burn::lr_scheduler::LrSchedulerRecord;
use burn::module::ParamGroup;
use burn::train::checkpoint::CheckpointingStrategy;
use burn::train::EarlyStoppingStrategy;
use std::path::Path;

/// The folder of Burn's checkpoints in an artifact directory
/// (`SupervisedTraining::with_default_checkpointers`: `checkpoint/{model,optim,scheduler}-N.bpk`).
pub const CHECKPOINT_DIR: &str = "checkpoint";

/// The file of Burn's checkpoint of `kind` (`model`, `optim`, `scheduler`) for `epoch` in
/// [`CHECKPOINT_DIR`]: `scheduler-3.bpk` (Burn's file checkpointer, burnpack records).
pub fn checkpoint_file(kind: &str, epoch: usize) -> String {
    format!("{kind}-{epoch}.bpk")
}

/// What a Burn training run knows that a schedule needs: the training items, the batch size,
/// gradient accumulation, epochs and devices. From them comes the number of optimizer updates
/// per epoch exactly as Burn's `Learner` counts them (so no epoch boundary can shift).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LearnerRun {
    /// Items of the training set (`dataloader.num_items()`, images for CIFAR-10).
    pub train_items: usize,
    /// Items per batch (`DataLoaderBuilder::batch_size`).
    pub batch_size: usize,
    /// Batches per optimizer update (`SupervisedTraining::grads_accumulation`, 1 for none).
    pub grad_accumulation: usize,
    /// Epochs of the run (`SupervisedTraining::num_epochs`).
    pub epochs: usize,
    /// Devices of Burn's multi-device strategy (`ExecutionStrategy::multi`) or of its
    /// distributed data parallel one (`ExecutionStrategy::ddp`, where every device steps its
    /// own clone of the scheduler, in lockstep, once per update); 1 for one device. Both split
    /// the items the same way, so both make [`updates_per_epoch`](Self::updates_per_epoch)
    /// updates, provided under DDP that every device has as many batches
    /// ([`batches_per_device`](Self::batches_per_device)).
    pub devices: usize,
}

impl LearnerRun {
    /// A single-device run without gradient accumulation.
    pub fn new(train_items: usize, batch_size: usize, epochs: usize) -> Self {
        Self {
            train_items,
            batch_size,
            grad_accumulation: 1,
            epochs,
            devices: 1,
        }
    }

    /// Sets the gradient accumulation (batches per optimizer update).
    pub fn with_grad_accumulation(mut self, n: usize) -> Self {
        self.grad_accumulation = n;
        self
    }

    /// Sets the number of devices.
    pub fn with_devices(mut self, n: usize) -> Self {
        self.devices = n;
        self
    }

    /// Optimizer updates per epoch, as Burn's `Learner` steps them: one per
    /// `grad_accumulation` batches plus one for the epoch's leftover batches. With several
    /// devices Burn splits the items into `devices` slices (the last takes the remainder) and
    /// takes one batch of each per step, so the largest slice sets the count.
    pub fn updates_per_epoch(&self) -> u64 {
        let devices = self.devices.max(1);
        let largest_slice = self.train_items - (devices - 1) * (self.train_items / devices);
        largest_slice
            .div_ceil(self.batch_size.max(1))
            .div_ceil(self.grad_accumulation.max(1)) as u64
    }

    /// The training batches of each device in one epoch: Burn's split gives every device
    /// `train_items / devices` items (rounded down) and the last the remainder as well. Under
    /// `ExecutionStrategy::ddp` these must all be equal, or the devices with fewer batches end
    /// the epoch while the others wait for them in the all-reduce of their next batch.
    ///
    /// ```
    /// use burn_lr::learner::LearnerRun;
    /// // 26 items on 3 devices: slices of 8, 8 and 10 items; at batch 4, 2, 2 and 3 batches.
    /// assert_eq!(LearnerRun::new(26, 4, 1).with_devices(3).batches_per_device(), [2, 2, 3]);
    /// assert_eq!(LearnerRun::new(50_000, 512, 1).with_devices(3).batches_per_device(), [33, 33, 33]);
    /// assert_eq!(LearnerRun::new(10, 4, 1).batches_per_device(), [3]);
    /// ```
    pub fn batches_per_device(&self) -> Vec<usize> {
        let devices = self.devices.max(1);
        let slice = self.train_items / devices;
        let last = self.train_items - (devices - 1) * slice;
        let batches = |items: usize| items.div_ceil(self.batch_size.max(1));
        (0..devices)
            .map(|d| batches(if d + 1 == devices { last } else { slice }))
            .collect()
    }

    /// The [`RunInfo`] of this run at `base_lr`.
    ///
    /// # Errors
    /// No items, a zero batch size, gradient accumulation, epoch or device count, or a run too
    /// long to count.
    pub fn run_info(&self, base_lr: f64) -> Result<RunInfo, ScheduleError> {
        const S: &str = "learner";
        for (field, v) in [
            ("train_items", self.train_items),
            ("batch_size", self.batch_size),
            ("grad_accumulation", self.grad_accumulation),
            ("epochs", self.epochs),
            ("devices", self.devices),
        ] {
            if v == 0 {
                return Err(ScheduleError::invalid(S, field, 0, "must be >= 1"));
            }
        }
        let per_epoch = self.updates_per_epoch();
        let total = per_epoch
            .checked_mul(self.epochs as u64)
            .ok_or_else(|| ScheduleError::invalid(S, "epochs", self.epochs, "epochs x updates per epoch overflows"))?;
        Ok(RunInfo {
            base_lr,
            updates_per_epoch: per_epoch,
            total_updates: total,
        })
    }
}

/// A schedule attached to one Burn `Learner` run: the scheduler for `Learner::new` (with
/// per-group schedules), the momentum the optimizer must follow, the plateau feed, and a resume
/// check. Built from a [`SchedulerConfig`] plus a [`LearnerRun`], so the cadence cannot be
/// wrong: an epoch-unit schedule changes exactly at Burn's epoch boundaries.
///
/// ```
/// use burn_lr::learner::{LearnerRun, LearnerSchedule};
/// use burn_lr::optim::CycledSgdConfig;
/// use burn_lr::schedule::SchedulerConfig;
///
/// # fn main() -> Result<(), burn_lr::schedule::ScheduleError> {
/// let config: SchedulerConfig = toml::from_str("type = \"step_lr\"\nstep_size = 30").unwrap();
/// // 50,000 images, batch 128, 2 batches per update, 90 epochs: 196 updates per epoch.
/// let run = LearnerRun::new(50_000, 128, 90).with_grad_accumulation(2);
/// let schedule = LearnerSchedule::new(&config, 0.1, &run)?;
/// assert_eq!(schedule.run().updates_per_epoch, 196);
/// // torch.optim.SGD(momentum=0.9, weight_decay=5e-4): Burn's SGD, or the momentum-cycled one.
/// let optimizer = CycledSgdConfig::new().with_momentum(0.9).with_weight_decay(5e-4).init(schedule.momentum()).unwrap();
/// let checkpointing = schedule.checkpointing(None); // feeds a plateau schedule, if any
/// let scheduler = schedule.into_scheduler(); // Learner::new(model, optimizer, scheduler)
/// # let _ = (optimizer, checkpointing, scheduler);
/// # Ok(())
/// # }
/// ```
pub struct LearnerSchedule {
    base: Scheduler,
    groups: Vec<(String, Scheduler)>,
    monitors: Vec<PlateauMonitor>,
    momentum: Option<MomentumCell>,
    run: RunInfo,
    learner_run: LearnerRun,
    warnings: Vec<String>,
    observer: Option<Box<dyn LrObserver>>,
}

impl LearnerSchedule {
    /// Builds `config` for `run` at the optimizer's `base_lr`.
    ///
    /// # Errors
    /// The schedule's [`ScheduleError`] (parameters, then lengths), or a bad `run`.
    pub fn new(config: &SchedulerConfig, base_lr: f64, run: &LearnerRun) -> Result<Self, ScheduleError> {
        let info = run.run_info(base_lr)?;
        let base = config.init(&info)?;
        // A schedule that cycles momentum anywhere (even a later child of a sequential) drives
        // the optimizer's momentum / beta1 at every update.
        let (base, momentum) = if config.cycles_momentum() {
            let cell = MomentumCell::new(f64::NAN);
            (base.with_momentum_cell(cell.clone()), Some(cell))
        } else {
            (base, None)
        };
        let monitors = monitor(config, &base).into_iter().collect();
        Ok(Self {
            base,
            groups: Vec::new(),
            monitors,
            momentum,
            run: info,
            learner_run: *run,
            warnings: config.length_warnings(&info),
            observer: None,
        })
    }

    /// Adds a parameter group: the parameters whose path contains `params` follow `config` from
    /// `base_lr` (Burn's `ParamGroup::from_predicate`; later groups win). The optimizer's
    /// momentum keeps following the base schedule.
    ///
    /// # Errors
    /// As [`Self::new`].
    pub fn with_group(mut self, params: &str, config: &SchedulerConfig, base_lr: f64) -> Result<Self, ScheduleError> {
        let info = RunInfo { base_lr, ..self.run };
        let scheduler = config.init(&info)?;
        self.monitors.extend(monitor(config, &scheduler));
        self.warnings.extend(config.length_warnings(&info));
        self.groups.push((params.to_string(), scheduler));
        Ok(self)
    }

    /// Checks that every group's `params` pattern matches at least one parameter of `model`,
    /// as Burn's `ParamGroup::from_predicate` matches them (a substring of the module path the
    /// optimizer sees, e.g. `layers.0.conv1` or `fc`). A pattern that matches nothing would be a
    /// group that silently never applies.
    ///
    /// # Errors
    /// [`ScheduleError::InvalidParam`] (`param_groups`, `params`) naming the pattern and listing
    /// the module paths it could match.
    pub fn check_groups<M: burn::module::Module>(&self, model: &M) -> Result<(), ScheduleError> {
        let paths = param_paths(model);
        for (pattern, _) in &self.groups {
            let group = ParamGroup::from_predicate(pattern.as_str());
            if !paths.iter().any(|(id, path)| group.matches(id, Some(path))) {
                let mut modules: Vec<&str> = paths.iter().map(|(_, p)| p.as_str()).collect();
                modules.dedup();
                return Err(ScheduleError::invalid(
                    "param_groups",
                    "params",
                    format!("{pattern:?}"),
                    format!(
                        "matches no parameter of the model; its module paths are: {}",
                        modules.join(", ")
                    ),
                ));
            }
        }
        Ok(())
    }

    /// Uses `cell` for the cycled momentum (e.g. one made
    /// [`with_history`](MomentumCell::with_history) to see what each update used); no effect
    /// when the schedule does not cycle momentum.
    pub fn with_momentum_cell(mut self, cell: MomentumCell) -> Self {
        if self.momentum.is_some() {
            self.base = self.base.with_momentum_cell(cell.clone());
            self.momentum = Some(cell);
        }
        self
    }

    /// Reports every optimizer update's learning rates (base and each group, as the schedulers
    /// returned them to Burn) and momentum to `observer`, e.g. a
    /// `monitor::LrLog` (feature `monitor`) writing `lr.csv`. Attach it after the groups;
    /// steps are counted from the scheduler's own position, so a resumed run continues them.
    /// With Burn's DDP strategy every worker steps its own clone of the scheduler, so each
    /// would report every update: attach an observer on single- or multi-device runs only.
    pub fn with_observer(mut self, observer: impl LrObserver + 'static) -> Self {
        self.observer = Some(Box::new(observer));
        self
    }

    /// The `params` pattern of each parameter group, in the order they were added (the order of
    /// [`LrUpdate::group_lrs`](super::LrUpdate::group_lrs)).
    pub fn group_params(&self) -> Vec<&str> {
        self.groups.iter().map(|(p, _)| p.as_str()).collect()
    }

    /// The run as the schedule sees it (updates per epoch, updates in all).
    pub fn run(&self) -> &RunInfo {
        &self.run
    }

    /// The run this schedule was built for (for [`NonFiniteLossGuard::new`](super::NonFiniteLossGuard::new)).
    pub fn learner_run(&self) -> &LearnerRun {
        &self.learner_run
    }

    /// Warnings to show once (a declared length that differs from the run's).
    pub fn warnings(&self) -> &[String] {
        &self.warnings
    }

    /// The base schedule (for the LR of an epoch, a preview, a resume check).
    pub fn base(&self) -> &Scheduler {
        &self.base
    }

    /// The momentum the optimizer must apply at every update, when the schedule cycles it.
    pub fn momentum(&self) -> Option<&MomentumCell> {
        self.momentum.as_ref()
    }

    /// The checkpointing strategy for `SupervisedTraining::with_checkpointing_strategy`: `inner`
    /// (Burn's default, keep-last-2 plus best validation loss, when `None`), fed to the plateau
    /// schedules first so that each checkpoint holds the metric of its epoch. Burn's
    /// early-stopping slot stays free for the user's own strategy.
    pub fn checkpointing(&self, inner: Option<Box<dyn CheckpointingStrategy>>) -> Box<dyn CheckpointingStrategy> {
        let inner = inner.unwrap_or_else(default_checkpointing);
        if self.monitors.is_empty() {
            inner
        } else {
            Box::new(PlateauCheckpointing::with_monitors(inner, self.monitors.clone()))
        }
    }

    /// The early-stopping strategy for `SupervisedTraining::early_stopping`: feeds the plateau
    /// schedules and stops the run at the end of the first epoch whose plateau metric Burn does
    /// not have (see [`Self::watch`]); it never stops otherwise.
    pub fn early_stopping(&self) -> PlateauEarlyStopping {
        PlateauEarlyStopping::new(self.monitors.clone(), NeverStop)
    }

    /// As [`Self::early_stopping`], then asks the user's own strategy `inner` (Burn has one
    /// early-stopping slot; this keeps it for both).
    pub fn early_stopping_with<S: EarlyStoppingStrategy>(&self, inner: S) -> PlateauEarlyStopping<S> {
        PlateauEarlyStopping::new(self.monitors.clone(), inner)
    }

    /// A handle that outlives [`Self::into_scheduler`]: after the run, [`PlateauWatch::error`]
    /// says whether a plateau metric was never found.
    pub fn watch(&self) -> PlateauWatch {
        PlateauWatch(self.monitors.clone())
    }

    /// Checks that the scheduler checkpoint of `epoch` in `artifact_dir` (Burn's
    /// `checkpoint/scheduler-{epoch}.bpk`) was written by this schedule, with these parameters
    /// and updates per epoch, before Burn loads it; loads it (so that [`Self::base`] is at the
    /// resumed position, e.g. a plateau schedule's reduced LR).
    ///
    /// # Errors
    /// [`ScheduleError::RecordMismatch`] naming what differs, [`ScheduleError::RecordIncomplete`],
    /// or an unreadable file (as `RecordIncomplete` naming the path).
    pub fn check_resume(&mut self, artifact_dir: &Path, epoch: usize) -> Result<(), ScheduleError> {
        let path = artifact_dir
            .join(CHECKPOINT_DIR)
            .join(checkpoint_file("scheduler", epoch));
        let record = LrSchedulerRecord::load(&path)
            .map_err(|e| ScheduleError::RecordIncomplete(format!("{} ({e:?})", path.display())))?;
        self.check_record(&record)
    }

    /// As [`Self::check_resume`], on a record already read (Burn nests group `i` under `"i"`,
    /// 0 being the base schedule). Nothing is loaded unless every part matches.
    ///
    /// # Errors
    /// As [`Self::check_resume`].
    pub fn check_record(&mut self, record: &LrSchedulerRecord) -> Result<(), ScheduleError> {
        let mut base = self.base.clone();
        base.try_load_record(&record.record("0"))?;
        let mut groups = self.groups.clone();
        for (i, (_, group)) in groups.iter_mut().enumerate() {
            group.try_load_record(&record.record(&(i + 1).to_string()))?;
        }
        self.base = base;
        self.groups = groups;
        Ok(())
    }

    /// The scheduler for `Learner::new`: Burn's `ModuleLrScheduler` with every group (each
    /// reporting to the observer, if one is attached).
    pub fn into_scheduler(self) -> ModuleLrScheduler {
        let Some(observer) = self.observer else {
            return module_scheduler(self.base, self.groups);
        };
        let (params, groups): (Vec<String>, Vec<Scheduler>) = self.groups.into_iter().unzip();
        let (base, groups) = Observed::wrap(self.base, groups, observer, self.momentum, self.run.updates_per_epoch);
        module_scheduler(base, params.into_iter().zip(groups))
    }
}

/// Burn's `ModuleLrScheduler`: `base` for every parameter, then each `(params, scheduler)`
/// group (later groups win).
fn module_scheduler<S: burn::lr_scheduler::LrScheduler + 'static>(
    base: S,
    groups: impl IntoIterator<Item = (String, S)>,
) -> ModuleLrScheduler {
    groups
        .into_iter()
        .fold(ModuleLrScheduler::new(base), |scheduler, (params, group)| {
            scheduler.with_group(ParamGroup::from_predicate(params), group)
        })
}

/// The plateau feeds of a run, kept after the scheduler went to the `Learner`.
#[derive(Clone, Debug, Default)]
pub struct PlateauWatch(Vec<PlateauMonitor>);

impl PlateauWatch {
    /// The error of a plateau metric Burn did not have (the run was stopped at the end of that
    /// epoch), as one line; `None` when every epoch was fed.
    pub fn error(&self) -> Option<String> {
        self.0.iter().find_map(PlateauMonitor::error)
    }
}

/// The plateau feed of a built `reduce_on_plateau` schedule, watching its `monitor` metric.
fn monitor(config: &SchedulerConfig, scheduler: &Scheduler) -> Option<PlateauMonitor> {
    Some(PlateauMonitor::new(scheduler.plateau_feed()?, config.plateau_metric()?))
}

/// Every float parameter of `model` with the module path Burn's optimizer matches groups
/// against (module names joined by `.`, without the parameter's own name).
fn param_paths<M: burn::module::Module>(model: &M) -> Vec<(burn::module::ParamId, String)> {
    #[derive(Default)]
    struct Paths {
        stack: Vec<String>,
        out: Vec<(burn::module::ParamId, String)>,
    }
    impl burn::module::ModuleVisitor for Paths {
        fn enter_module(&mut self, name: &str, _container_type: &str) {
            self.stack.push(name.to_string());
        }
        fn exit_module(&mut self, _name: &str, _container_type: &str) {
            self.stack.pop();
        }
        fn visit_float<const D: usize>(&mut self, param: &burn::module::Param<burn::tensor::Tensor<D>>) {
            self.out.push((param.id, self.stack.join(".")));
        }
    }
    let mut visitor = Paths::default();
    model.visit(&mut visitor);
    visitor.out
}
