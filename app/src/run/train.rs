//! A full CIFAR-10 training run through Burn's `SupervisedTraining` + `Learner`, with a
//! `burn-lr` schedule stepped once per optimizer update, the plateau metric fed after each
//! validation epoch, per-epoch lines, `metrics.csv`, sealed checkpoints, exact resume, a stop at
//! the first non-finite loss, and Ctrl-C ending the run cleanly.
//!
//! The pieces a user's own Burn run needs live in the library module [`burn_lr::learner`].

use crate::config::TrainConfig;
use crate::data::{self, Cifar10, CifarBatcher, EpochDataset, EpochLoader};
use crate::device::devices;
use crate::error::{resume_note, TrainError};
use crate::model::ResNet;
use crate::run::artifacts::EpochRecord;
use crate::run::checkpoint::CheckpointLedger;
use crate::run::dir::{run_facts, EpochCommit, RunDir, Start, StartMode};
use crate::run::hook::{EpochHook, HookSettings, HookStop};
use crate::run::layout::*;
use crate::run::metric_logs::{FileMetricLogs, MetricLogErrors};
use crate::run::monitoring::{self, RunLogs};
use crate::run::schedule::{optimizer, schedule_for};
use crate::run::weights::{
    remove_kept, save_kept, short_name, write_missing_kept, LiveValidation, RunModel, RunWeights,
};
use burn::data::dataloader::DataLoaderBuilder;
use burn::optim::ModuleOptimizer;
use burn::tensor::Device;
use burn::train::checkpoint::CheckpointingStrategy;
use burn::train::metric::{AccuracyMetric, LearningRateMetric, LossMetric};
use burn::train::{Interrupter, Learner, LearningResult, SupervisedTraining};
use burn_lr::learner::{
    Divergence, GroupLearningRateMetric, LearnerRun, LearnerSchedule, NonFiniteLossGuard, Progress, ProgressFn,
    QuietRenderer, StopRequest,
};
use burn_lr::monitor::progress_bar;
use burn_lr::schedule::MomentumCell;
use std::path::PathBuf;
use std::sync::Arc;

/// What [`train`] returns.
#[derive(Debug)]
pub struct TrainSummary {
    /// The trained model (`None` when there was nothing left to train: a resumed run that had
    /// already finished its epochs).
    pub model: Option<ResNet>,
    /// One row per epoch trained in this call (and the earlier ones on resume).
    pub epochs: Vec<EpochRecord>,
    /// Optimizer updates per epoch.
    pub updates_per_epoch: u64,
    /// Where the artifacts are.
    pub artifact_dir: PathBuf,
    /// The epoch resumed from (`None`: the run started from scratch).
    pub resumed_from: Option<usize>,
}

/// Options of [`train`] that are not part of the config.
#[derive(Clone, Default)]
pub struct TrainOptions {
    /// A new run, `--overwrite` or `--resume`, for [`train`] (which opens the directory);
    /// [`train_in`] goes by the mode [`prepare`] opened its directory with.
    pub start: StartMode,
    /// Do not print epoch lines.
    pub quiet: bool,
    /// Stop after this epoch (the schedule still spans `training.epochs`); continue later with
    /// [`StartMode::Resume`].
    pub stop_after_epoch: Option<usize>,
    /// The cell a momentum-cycling schedule writes to and the optimizer reads (one is made when
    /// `None`); pass one made [`with_history`](MomentumCell::with_history) to see the momentum
    /// each update used.
    pub momentum_cell: Option<MomentumCell>,
    /// Ends the run early when requested (the CLI's Ctrl-C handler holds it): after the current
    /// training update, or, during validation, once that epoch is checkpointed.
    pub stop: Option<StopRequest>,
}

/// Loads the data a config asks for (downloading CIFAR-10 when no `dir` is set).
///
/// # Errors
/// [`TrainError::Data`].
pub fn load_data(cfg: &TrainConfig) -> Result<Cifar10, TrainError> {
    let dir = match &cfg.data.dir {
        Some(dir) => {
            crate::paths::check_not_a_file(dir, "CIFAR-10 folder (--data-dir, [data] dir)")?;
            dir.clone()
        }
        None => data::download_cifar10(&data::default_cache_dir())?,
    };
    let mut data = Cifar10::load(&dir)?;
    if let Some(n) = cfg.data.train_limit {
        data.limit_train(n, cfg.training.seed)?;
    }
    if let Some(n) = cfg.data.test_limit {
        data.limit_test(n, cfg.training.seed)?;
    }
    Ok(data)
}

/// Opens the run's artifact directory ([`RunDir::open`]: the lock and every check that needs
/// no data). The CLI calls it before reading any data; [`train`] calls it itself.
///
/// # Errors
/// As [`RunDir::open`].
pub fn prepare(cfg: &TrainConfig, start: StartMode) -> Result<RunDir, TrainError> {
    RunDir::open(cfg, start)
}

/// Trains `cfg.model` on CIFAR-10 as configured: [`prepare`], then [`train_in`].
///
/// # Errors
/// As [`prepare`] and [`train_in`].
pub fn train(cfg: &TrainConfig, data: Cifar10, opts: &TrainOptions) -> Result<TrainSummary, TrainError> {
    let run_dir = prepare(cfg, opts.start)?;
    train_in(cfg, run_dir, data, opts)
}

/// Trains `cfg` in the directory [`prepare`] opened for it. The steps of a run, in order: the device; the
/// schedule for this run (the library's [`LearnerSchedule`]) and the optimizer; the model and its parameter
/// groups; where to start (a new run, `--overwrite`, or the newest intact checkpoint of the
/// directory's run, checked against this config and data) — all before any file is written;
/// then the run's `config.toml` and `run.toml`; the epoch hook; loaders over the epoch order;
/// Burn's `SupervisedTraining` + `Learner`; the outcome.
///
/// # Errors
/// [`TrainError`]: bad data or schedule parameters, an unavailable device, a parameter group
/// matching nothing, a resume that does not match its checkpoint, a non-finite loss, a
/// checkpoint that could not be written, an interruption, a plateau metric Burn does not have,
/// or a failure reported by Burn.
pub fn train_in(
    cfg: &TrainConfig,
    run_dir: RunDir,
    data: Cifar10,
    opts: &TrainOptions,
) -> Result<TrainSummary, TrainError> {
    let t = &cfg.training;
    let split = LearnerRun::new(data.train.len(), t.batch_size, t.epochs).with_devices(t.devices.len());
    t.strategy.check_split(&split)?;
    t.strategy.check_device(t.device, t.devices.len())?;
    let devices = devices(t.device, &t.devices)?;
    crate::device::configure(&devices, t.precision)?;
    let device = devices[0].clone();
    let mut schedule = schedule_for(cfg, data.train.len(), opts.momentum_cell.as_ref(), opts.quiet)?;
    device.seed(t.seed);
    let model = ResNet::seeded(cfg.model.arch, data::CLASSES.len(), t.seed, &device.clone().autodiff())
        .with_label_smoothing(t.label_smoothing)
        .with_conv_kernel(t.conv_kernel().map_err(TrainError::Settings)?);
    schedule.check_groups(&model)?;
    let (optimizer, schedule_free) = optimizer(&cfg.optimizer, &schedule, &model)?;
    let live = LiveValidation::default();
    let batches = data.train.len().div_ceil(t.batch_size);
    let weights = RunWeights::new(
        cfg,
        model,
        schedule_free,
        schedule.run().updates_per_epoch,
        batches,
        &live,
    )?;
    let facts = run_facts(&data, &schedule);
    let mut start = run_dir.start(cfg, &facts, &mut schedule)?;
    if let Some(from) = start.from {
        weights.check_resume(run_dir.path(), from)?;
    }
    let last_epoch = opts.stop_after_epoch.map_or(t.epochs, |n| n.min(t.epochs));
    start.refuse_short_of_kept(last_epoch)?;
    let leftovers = run_dir.begin(&mut start)?;
    if let (Some(from), None) = (start.from, &start.lr_csv) {
        // A run of a burn-lr before the seals: its checkpoint is sealed now, so that it stays
        // the resume point of this run, which seals its epochs.
        run_dir
            .commits(cfg, &facts)?
            .commit(from, &start.rows)
            .map_err(|what| TrainError::Checkpoint {
                what: format!(
                    "the checkpoint of epoch {from} (written before epochs were sealed) could not be sealed: {what}"
                ),
                resume: resume_note(Some(from), t.epochs),
            })?;
    }
    if !opts.quiet {
        report_start(&run_dir, &start, leftovers, cfg.data.num_workers);
    }
    if let Some(kind) = crate::out::stdout_failure() {
        return Err(TrainError::OutputClosed {
            kind,
            what: "before the first epoch".into(),
            resume: resume_note(run_dir.newest_intact(), t.epochs),
        });
    }
    let from = start.from.unwrap_or(0);
    let updates_per_epoch = schedule.run().updates_per_epoch;
    if from >= last_epoch {
        // The run's files as sealed with its last checkpoint (rebuilt where they were not).
        run_dir.record(cfg, &facts, &start.rows)?;
        if from == t.epochs {
            write_missing_kept(run_dir.path(), weights, from, opts.quiet)?;
        }
        if !opts.quiet {
            say!(
                "nothing to train: the run in {} already finished epoch {from} of {}",
                run_dir.path().display(),
                t.epochs
            );
        }
        return Ok(summary(cfg, updates_per_epoch, start.rows, None, start.from));
    }
    // The logs first: an `lr.csv` that is not this run's is refused before any file changes.
    let (schedule, logs) = monitoring::attach(run_dir.path(), schedule, from, &start.rows)?;
    run_dir.record(cfg, &facts, &start.rows)?;
    let launch = Launch {
        run_dir: &run_dir,
        commit: run_dir.commits(cfg, &facts)?,
        cfg,
        start: &start,
        last_epoch,
        opts,
        logs: &logs,
        live: short_name(cfg).map(|name| (live, name.to_string())),
    };
    // An earlier finish's kept weights are not this run's until it finishes again.
    remove_kept(run_dir.path())?;
    let launched = match weights {
        RunWeights::Stepped(model) => launch.run(schedule, Inputs::new(model, optimizer, data, devices)),
        RunWeights::Averaged(model) => launch.run(schedule, Inputs::new(model, optimizer, data, devices)),
        RunWeights::ScheduleFree(model) => launch.run(schedule, Inputs::new(model, optimizer, data, devices)),
    };
    monitoring::finish(run_dir.path(), &logs, opts.quiet);
    let (rows, model) = launched?;
    if rows.last().is_some_and(|r| r.epoch >= t.epochs) {
        save_kept(run_dir.path(), &model).map_err(|what| TrainError::KeptWeights {
            what,
            resume: resume_note(Some(t.epochs), t.epochs),
        })?;
    }
    Ok(summary(cfg, updates_per_epoch, rows, Some(model), start.from))
}

/// The model (on the autodiff device), its optimizer, the data and the devices of a run (the
/// first holds the model and runs validation).
struct Inputs<M> {
    model: M,
    optimizer: ModuleOptimizer,
    data: Cifar10,
    devices: Vec<Device>,
}

impl<M> Inputs<M> {
    fn new(model: M, optimizer: ModuleOptimizer, data: Cifar10, devices: Vec<Device>) -> Self {
        Self {
            model,
            optimizer,
            data,
            devices,
        }
    }
}

/// What a launch needs besides the schedule and the inputs: where, what, from and to which
/// epoch, and the run's logs.
struct Launch<'a> {
    run_dir: &'a RunDir,
    commit: EpochCommit,
    cfg: &'a TrainConfig,
    start: &'a Start,
    last_epoch: usize,
    opts: &'a TrainOptions,
    logs: &'a RunLogs,
    live: Option<(LiveValidation, String)>,
}

impl Launch<'_> {
    /// Burn's `SupervisedTraining` + `Learner` over the epoch order, from the start to the last
    /// epoch: the epoch hook, the non-finite loss guard (which forwards a stop request), the
    /// outcome. Returns the `metrics.csv` rows and the trained model.
    fn run<M: RunModel>(
        self,
        schedule: LearnerSchedule,
        Inputs {
            model,
            optimizer,
            data,
            devices,
        }: Inputs<M>,
    ) -> Result<(Vec<EpochRecord>, ResNet), TrainError> {
        let from = self.start.from.unwrap_or(0);
        let ledger = CheckpointLedger::default();
        let log_errors = MetricLogErrors::default();
        let hook = EpochHook::new(
            self.hook_settings(&schedule, &ledger, &log_errors, data.train.len()),
            self.start.rows.clone(),
        );
        let (train_loader, valid_loader, served) = loaders(self.cfg, data, &devices[0], from);
        let interrupter = Interrupter::new();
        let mut guard = NonFiniteLossGuard::new(interrupter.clone(), schedule.learner_run(), from)
            .with_policy(self.cfg.training.on_non_finite)
            .with_epoch_served_flag(served);
        let t = &self.cfg.training;
        if t.strategy.is_ddp(devices.len()) {
            guard = guard.with_ddp(devices.len());
        }
        if let Some(stop) = &self.opts.stop {
            guard = guard.with_stop_request(stop.clone());
        }
        let plan = TrainingPlan {
            epochs: self.last_epoch,
            checkpointing: schedule.checkpointing(None),
            hook: hook.clone(),
            resume_from: self.start.from,
            interrupter,
            ledger,
            guard: guard.clone(),
            logs: FileMetricLogs::new(self.run_dir.path(), log_errors),
        };
        let training = plan.build_with(self.cfg, self.run_dir, train_loader, valid_loader, devices);
        let watch = schedule.watch();
        let result = training.launch(Learner::new(model, optimizer, schedule.into_scheduler()));
        let outcome = Outcome {
            divergence: guard.divergence(),
            hook_stop: hook.stopped(),
            plateau: watch.error(),
            last_intact: self.run_dir.newest_intact(),
            last_epoch: self.last_epoch,
            epochs: self.cfg.training.epochs,
        };
        outcome.check(&result, &hook)?;
        Ok((hook.rows(), result.model.kept()))
    }

    /// The settings of the end-of-epoch hook (it waits for the sealed checkpoint, then prints
    /// the epoch line, writes `metrics.csv`, continuing the rows of a resumed run, feeds the
    /// plateau schedules and writes the epoch's TensorBoard scalars).
    fn hook_settings(
        &self,
        schedule: &LearnerSchedule,
        ledger: &CheckpointLedger,
        logs: &MetricLogErrors,
        train_images: usize,
    ) -> HookSettings {
        HookSettings {
            plateau: schedule.early_stopping(),
            scheduler: schedule.base().clone(),
            updates_per_epoch: schedule.run().updates_per_epoch,
            epochs: self.cfg.training.epochs,
            last_epoch: self.last_epoch,
            commit: self.commit.clone(),
            logs: logs.clone(),
            ledger: ledger.clone(),
            on_non_finite: self.cfg.training.on_non_finite,
            stop: self.opts.stop.clone(),
            print: !self.opts.quiet,
            train_images,
            tensorboard: Some(self.logs.tensorboard.clone()),
            live: self.live.clone(),
        }
    }
}

fn summary(
    cfg: &TrainConfig,
    updates_per_epoch: u64,
    rows: Vec<EpochRecord>,
    model: Option<ResNet>,
    resumed_from: Option<usize>,
) -> TrainSummary {
    TrainSummary {
        model,
        epochs: rows,
        updates_per_epoch,
        artifact_dir: cfg.training.artifact_dir.clone(),
        resumed_from,
    }
}

/// The lines a run prints before its first epoch: damaged checkpoints skipped, leftovers
/// removed, where it starts.
fn report_start(run_dir: &RunDir, start: &Start, leftovers: usize, workers: usize) {
    for line in &start.skipped {
        tell!("warning: {line}");
    }
    for line in &start.restored {
        tell!("note: {line}");
    }
    if workers > 1 {
        tell!(
            "warning: [data] num_workers = {workers}: Burn hands out batches in the order its threads finish them, \
             so this run is not bit-exact across a resume (num_workers = 1 is)"
        );
    }
    if leftovers > 0 {
        tell!(
            "note: removed {leftovers} temporary file(s) an interrupted run left in {}",
            run_dir.path().display()
        );
    }
    match start.from {
        Some(n) => say!(
            "resuming after epoch {n} (checkpoint {}/checkpoint)",
            run_dir.path().display()
        ),
        None => say!("artifacts: {}", run_dir.path().display()),
    };
}

/// How a finished `launch` is read: the first non-finite loss, Burn's own error, a stop by the
/// epoch hook, a missing plateau metric, an interruption; else success.
struct Outcome {
    divergence: Option<Divergence>,
    hook_stop: Option<HookStop>,
    plateau: Option<String>,
    /// The newest intact checkpoint once the run ended.
    last_intact: Option<usize>,
    last_epoch: usize,
    /// The run's `[training] epochs`.
    epochs: usize,
}

impl Outcome {
    fn check<M>(self, result: &LearningResult<M>, hook: &EpochHook) -> Result<(), TrainError> {
        let intact = || self.last_intact;
        if let Some(d) = self.divergence {
            return Err(TrainError::Diverged {
                what: d.to_string(),
                last_intact: intact(),
            });
        }
        // Before Burn's error: a failed checkpoint write is also reported to Burn's interrupter,
        // without the path.
        match self.hook_stop {
            Some(HookStop::NonFinite(what)) => {
                return Err(TrainError::Diverged {
                    what,
                    last_intact: intact(),
                })
            }
            Some(HookStop::Checkpoint(what)) => {
                return Err(TrainError::Checkpoint {
                    what,
                    resume: resume_note(intact(), self.epochs),
                })
            }
            Some(HookStop::OutputClosed(kind)) => {
                let done = hook.rows().last().map_or(0, |r| r.epoch);
                return Err(TrainError::OutputClosed {
                    kind,
                    what: format!("after epoch {done} (its checkpoint is written)"),
                    resume: resume_note(intact(), self.epochs),
                });
            }
            Some(HookStop::Logs(what)) => {
                return Err(TrainError::Logs {
                    what,
                    resume: resume_note(intact(), self.epochs),
                })
            }
            Some(HookStop::Requested) | None => {}
        }
        if let Some(err) = &result.error {
            return Err(TrainError::Burn(err.to_string()));
        }
        if let Some(err) = self.plateau {
            return Err(TrainError::Plateau(err));
        }
        let done = hook.rows().last().map_or(0, |r| r.epoch);
        if done < self.last_epoch {
            let what = match hook.stopped() {
                Some(HookStop::Requested) => format!("stopped after epoch {done} (its checkpoint is written)"),
                _ => format!("interrupted in epoch {}", done + 1),
            };
            return Err(TrainError::Interrupted {
                what,
                resume: resume_note(intact(), self.epochs),
            });
        }
        Ok(())
    }
}

/// The train loader (the epoch order and crops of [`EpochDataset`], continuing after epoch
/// `from`), the validation loader, and the flag raised with each epoch's last training batch.
fn loaders(
    cfg: &TrainConfig,
    data: Cifar10,
    device: &Device,
    from: usize,
) -> (TrainLoader, TrainLoader, Arc<std::sync::atomic::AtomicBool>) {
    let t = &cfg.training;
    let workers = cfg.data.num_workers;
    let augment = cfg.data.augment;
    let epochs = Arc::new(EpochDataset::new(data.train, t.seed, augment, from).with_cutout(cfg.data.cutout));
    let train = DataLoaderBuilder::new(CifarBatcher)
        .batch_size(t.batch_size)
        .num_workers(workers)
        .set_device(device.clone())
        .build(epochs.clone());
    let valid = DataLoaderBuilder::new(CifarBatcher)
        .batch_size(t.batch_size)
        .num_workers(workers)
        .set_device(device.clone())
        .build(data::dataset(data.test));
    let served = epochs.served_flag();
    (Arc::new(EpochLoader::new(train, epochs)), valid, served)
}

type TrainLoader = Arc<dyn burn::data::dataloader::DataLoader<data::CifarBatch>>;

/// `progress`, starting the epoch hook's clock when the first training split starts.
fn clocked_progress(mut progress: ProgressFn, hook: EpochHook) -> ProgressFn {
    let mut started = false;
    Box::new(move |event| {
        if !started && matches!(event, Progress::Start { split: "train", .. }) {
            started = true;
            hook.start_clock();
        }
        progress(event)
    })
}

/// What `SupervisedTraining` needs besides the config and the loaders, gathered so that
/// [`train`] reads as steps.
struct TrainingPlan {
    epochs: usize,
    checkpointing: Box<dyn CheckpointingStrategy>,
    hook: EpochHook,
    resume_from: Option<usize>,
    interrupter: Interrupter,
    ledger: CheckpointLedger,
    guard: NonFiniteLossGuard,
    logs: FileMetricLogs,
}

impl TrainingPlan {
    /// Burn's `SupervisedTraining`: loss and accuracy on both splits, the LR of every group per
    /// iteration, sealed checkpoints (fed to the plateau schedule first), the epoch hook, the
    /// non-finite loss guard, the interrupter, no per-iteration printing.
    fn build_with<M: RunModel>(
        self,
        cfg: &TrainConfig,
        run_dir: &RunDir,
        train: TrainLoader,
        valid: TrainLoader,
        devices: Vec<Device>,
    ) -> SupervisedTraining<M> {
        let sealed = |kind| run_dir.checkpointer(kind, &self.ledger);
        let clock = self.hook.clone();
        let mut training = SupervisedTraining::new(run_dir.path(), train, valid)
            .metrics((LossMetric::new(), AccuracyMetric::new()))
            .with_metric_logger(self.logs)
            .metric_train_numeric(LearningRateMetric::new())
            .with_custom_checkpointers(sealed(MODEL), sealed(OPTIM), sealed(SCHEDULER))
            .with_checkpointing_strategy(self.checkpointing)
            .early_stopping(self.hook)
            .with_interrupter(self.interrupter)
            .renderer(Box::new(QuietRenderer::with_progress(clocked_progress(
                progress_bar(self.epochs - self.resume_from.unwrap_or(0)),
                clock,
            ))))
            .num_epochs(self.epochs);
        if cfg.training.grad_accumulation > 1 {
            training = training.grads_accumulation(cfg.training.grad_accumulation);
        }
        if let Some(strategy) = cfg.training.strategy.execution(devices) {
            training = training.with_training_strategy(strategy.into());
        }
        for g in &cfg.param_groups {
            training = training.metric_train_numeric(GroupLearningRateMetric::new(g.params.clone()));
        }
        training = training.metric_train(self.guard);
        if let Some(n) = self.resume_from {
            training = training.checkpoint(n);
        }
        training
    }
}
