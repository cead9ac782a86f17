//! A full CIFAR-10 training run through Burn's `SupervisedTraining` + `Learner`, with a
//! `burn-lr` schedule stepped once per optimizer update, the plateau metric fed after each
//! validation epoch, per-epoch lines, `metrics.csv`, checkpoints and resume.
//!
//! The pieces a user's own Burn run needs live in the library module [`crate::learner`].

use super::artifacts::{latest_checkpoint, read_metrics_csv, write_atomic, EpochRecord};
use super::config::{OptimizerName, TrainConfig};
use super::data::{self, Cifar10, CifarBatcher};
use super::device::device;
use super::model::ResNet;
use crate::learner::{
    GroupLearningRateMetric, LearnerRun, LearnerSchedule, PlateauEarlyStopping, Progress, ProgressFn, QuietRenderer,
};
use crate::optim::MomentumCell;
use crate::schedule::{RunInfo, ScheduleError, SchedulerConfig, TrainingScheduler};
use burn::data::dataloader::DataLoaderBuilder;
use burn::lr_scheduler::LrScheduler;
use burn::optim::ModuleOptimizer;
use burn::tensor::Device;
use burn::train::checkpoint::CheckpointingStrategy;
use burn::train::metric::store::{Aggregate, EventStoreClient, Split};
use burn::train::metric::{AccuracyMetric, LearningRateMetric, LossMetric};
use burn::train::{EarlyStoppingStrategy, Learner, SupervisedTraining};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

/// Errors of a training run.
#[derive(Debug, thiserror::Error)]
pub enum TrainError {
    /// Bad data.
    #[error(transparent)]
    Data(#[from] data::DataError),
    /// Bad schedule parameters or a checkpoint of another schedule.
    #[error(transparent)]
    Schedule(#[from] ScheduleError),
    /// The requested device is not compiled in.
    #[error("device `{0}` is not available in this build: rebuild with `--features {0}`")]
    DeviceUnavailable(&'static str),
    /// `--resume` without a checkpoint.
    #[error("--resume: no complete checkpoint (model-N, optim-N and scheduler-N .bpk) in {0}")]
    NoCheckpoint(PathBuf),
    /// Writing artifacts failed.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The error.
        source: std::io::Error,
    },
    /// Burn reported a failure.
    #[error("training failed: {0}")]
    Burn(String),
    /// A plateau schedule's metric that Burn does not have (the run stopped at that epoch).
    #[error("{0}")]
    Plateau(String),
}

struct EpochLog {
    epochs: usize,
    rows: Vec<EpochRecord>,
    csv: Option<PathBuf>,
    print: bool,
}

/// Runs at the end of every epoch (as Burn's early-stopping hook, never stopping): feeds the
/// plateau metric, prints the epoch line and rewrites `metrics.csv`.
#[derive(Clone)]
pub struct EpochHook {
    plateau: PlateauEarlyStopping,
    scheduler: TrainingScheduler,
    updates_per_epoch: u64,
    log: Arc<Mutex<EpochLog>>,
}

impl EpochHook {
    fn record(&self, epoch: usize, store: &EventStoreClient) -> EpochRecord {
        let get = |name: &str, split: Split| {
            store
                .find_metric(name, epoch, Aggregate::Mean, &split)
                .unwrap_or(f64::NAN)
        };
        EpochRecord {
            epoch,
            train_loss: get("Loss", Split::Train),
            val_loss: get("Loss", Split::Valid),
            val_acc: get("Accuracy", Split::Valid),
            lr: self.scheduler.lr_in_epoch(epoch as u64, self.updates_per_epoch),
        }
    }

    /// The epochs logged so far.
    pub fn rows(&self) -> Vec<EpochRecord> {
        self.log.lock().expect("epoch log lock poisoned").rows.clone()
    }
}

impl EarlyStoppingStrategy for EpochHook {
    fn should_stop(&mut self, epoch: usize, store: &EventStoreClient) -> bool {
        let row = self.record(epoch, store);
        // Feeds the plateau schedules; stops the run when one's metric does not exist.
        if self.plateau.should_stop(epoch, store) {
            return true;
        }
        let mut log = self.log.lock().expect("epoch log lock poisoned");
        if log.print {
            println!("{}", row.line(log.epochs));
        }
        log.rows.retain(|r| r.epoch < epoch);
        log.rows.push(row);
        if let Some(path) = &log.csv {
            let mut text = String::from("epoch,train_loss,val_loss,val_acc,lr\n");
            for r in &log.rows {
                text += &format!("{},{},{},{},{}\n", r.epoch, r.train_loss, r.val_loss, r.val_acc, r.lr);
            }
            if let Err(err) = write_atomic(path, text.as_bytes()) {
                eprintln!("warning: {err}");
            }
        }
        false
    }
}

/// An `indicatif` progress bar per split when stderr is a terminal; nothing otherwise.
fn terminal_progress() -> ProgressFn {
    use std::io::IsTerminal;
    let tty = std::io::stderr().is_terminal();
    let mut bar: Option<indicatif::ProgressBar> = None;
    Box::new(move |event| match event {
        Progress::Start { split, total_items } if tty => {
            let b = indicatif::ProgressBar::new(total_items as u64);
            b.set_style(
                indicatif::ProgressStyle::with_template(
                    "{prefix:>6} [{bar:30}] {pos}/{len} images {elapsed_precise} eta {eta}",
                )
                .expect("valid progress template")
                .progress_chars("=> "),
            );
            b.set_prefix(split.to_string());
            bar = Some(b);
        }
        Progress::Update(n) => {
            if let Some(b) = &bar {
                b.set_position(n as u64);
            }
        }
        Progress::End => {
            if let Some(b) = bar.take() {
                b.finish_and_clear();
            }
        }
        Progress::Start { .. } => {}
    })
}

/// The optimizer of `[optimizer]`, as PyTorch defines it (SGD dampening 0, L2 weight decay;
/// AdamW decoupled decay). With a `momentum` cell (a schedule with `cycle_momentum`), SGD's
/// momentum or AdamW's `beta1` is read from it at every update, overriding the configured one,
/// as PyTorch's `cycle_momentum` overrides the optimizer's.
pub fn optimizer(cfg: &super::config::OptimizerConfig, schedule: &LearnerSchedule) -> ModuleOptimizer {
    match cfg.name {
        OptimizerName::Sgd => schedule.sgd(cfg.momentum, cfg.nesterov, cfg.weight_decay),
        OptimizerName::Adamw => schedule.adamw(cfg.beta1, cfg.beta2, cfg.eps, cfg.weight_decay),
    }
}

/// Images in CIFAR-10's training set.
const CIFAR10_TRAIN_IMAGES: usize = 50_000;

/// Checks every schedule of `cfg` (`[scheduler]` and each `[[param_groups]]` scheduler) before
/// any data is read, on the run the config describes (its `train_limit`, or CIFAR-10's 50,000
/// training images): a bad `pct_start` fails in milliseconds, not after loading the images. The
/// run checks again with the real image count.
///
/// # Errors
/// [`TrainError::Schedule`] naming the schedule, the field and what is allowed.
pub fn check_schedules(cfg: &TrainConfig) -> Result<(), TrainError> {
    let images = cfg
        .data
        .train_limit
        .unwrap_or(CIFAR10_TRAIN_IMAGES)
        .min(CIFAR10_TRAIN_IMAGES);
    let quiet = TrainOptions {
        quiet: true,
        ..TrainOptions::default()
    };
    schedule_for(cfg, images, &quiet).map(|_| ())
}

/// What [`train`] returns.
#[derive(Debug)]
pub struct TrainSummary {
    /// The trained model.
    pub model: ResNet,
    /// One row per epoch trained in this call (and the earlier ones on resume).
    pub epochs: Vec<EpochRecord>,
    /// Optimizer updates per epoch.
    pub updates_per_epoch: u64,
    /// Where the artifacts are.
    pub artifact_dir: PathBuf,
}

/// Options of [`train`] that are not part of the config.
#[derive(Debug, Clone, Default)]
pub struct TrainOptions {
    /// Continue from the newest checkpoint in the artifact directory.
    pub resume: bool,
    /// Do not print epoch lines.
    pub quiet: bool,
    /// Stop after this epoch (the schedule still spans `training.epochs`); continue later with
    /// `resume`.
    pub stop_after_epoch: Option<usize>,
    /// The cell a momentum-cycling schedule writes to and the optimizer reads (one is made when
    /// `None`); pass one made [`with_history`](MomentumCell::with_history) to see the momentum
    /// each update used.
    pub momentum_cell: Option<MomentumCell>,
}

/// Loads the data a config asks for (downloading CIFAR-10 when no `dir` is set).
///
/// # Errors
/// [`TrainError::Data`].
pub fn load_data(cfg: &TrainConfig) -> Result<Cifar10, TrainError> {
    let dir = match &cfg.data.dir {
        Some(dir) => dir.clone(),
        None => data::download_cifar10(&data::default_cache_dir())?,
    };
    let mut data = Cifar10::load(&dir)?;
    if let Some(n) = cfg.data.train_limit {
        data.limit_train(n, cfg.training.seed);
    }
    if let Some(n) = cfg.data.test_limit {
        data.limit_test(n, cfg.training.seed);
    }
    Ok(data)
}

/// Trains `cfg.model` on CIFAR-10 as configured; see the module documentation. The steps of a
/// run, in order: the device; the schedule for this run (the library's [`LearnerSchedule`]);
/// the checkpoint to resume from, checked before any file is touched; the resolved
/// `config.toml`; the epoch hook (lines, `metrics.csv`, plateau feed); data loaders and model;
/// Burn's `SupervisedTraining` + `Learner`.
///
/// # Errors
/// [`TrainError`] for bad data, schedule parameters, an unavailable device, a missing or
/// mismatched checkpoint on resume, a plateau metric Burn does not have, or a failure reported
/// by Burn.
pub fn train(cfg: &TrainConfig, data: Cifar10, opts: &TrainOptions) -> Result<TrainSummary, TrainError> {
    let t = &cfg.training;
    let device = device(t.device)?;
    let mut schedule = schedule_for(cfg, data.train.len(), opts)?;
    let resume_from = resume_point(&t.artifact_dir, &mut schedule, opts.resume)?;
    let config_text = toml::to_string_pretty(cfg).map_err(|e| TrainError::Burn(e.to_string()))?;
    write_atomic(&t.artifact_dir.join("config.toml"), config_text.as_bytes())?;
    let hook = epoch_hook(cfg, &schedule, resume_from, opts);
    let (train_loader, valid_loader) = loaders(cfg, data, &device);
    device.seed(t.seed);
    let model = ResNet::new(cfg.model.arch, data::CLASSES.len(), &device.clone().autodiff());
    let training = supervised_training(cfg, &schedule, &hook, resume_from, opts).build_with(train_loader, valid_loader);
    let optimizer = optimizer(&cfg.optimizer, &schedule);
    let watch = schedule.watch();
    let result = training.launch(Learner::new(model, optimizer, schedule.into_scheduler()));
    if let Some(err) = result.error {
        return Err(TrainError::Burn(err.to_string()));
    }
    if let Some(err) = watch.error() {
        return Err(TrainError::Plateau(err));
    }
    Ok(TrainSummary {
        model: result.model,
        epochs: hook.rows(),
        updates_per_epoch: hook.updates_per_epoch,
        artifact_dir: t.artifact_dir.clone(),
    })
}

/// The schedule of this run (and of each parameter group), with the optimizer updates per
/// epoch Burn will make; prints the length warnings once.
fn schedule_for(cfg: &TrainConfig, images: usize, opts: &TrainOptions) -> Result<LearnerSchedule, TrainError> {
    let t = &cfg.training;
    let run = LearnerRun::new(images, t.batch_size, t.epochs).with_grad_accumulation(t.grad_accumulation);
    let mut schedule = LearnerSchedule::new(&cfg.scheduler, cfg.optimizer.lr, &run)?;
    for g in &cfg.param_groups {
        let config = g.scheduler.as_ref().unwrap_or(&cfg.scheduler);
        schedule = schedule.with_group(&g.params, config, g.lr.unwrap_or(cfg.optimizer.lr))?;
    }
    if let Some(cell) = &opts.momentum_cell {
        schedule = schedule.with_momentum_cell(cell.clone());
    }
    if !opts.quiet {
        for warning in schedule.warnings() {
            eprintln!("warning: {warning}");
        }
    }
    Ok(schedule)
}

/// The epoch to resume from (`--resume`): the newest complete checkpoint, whose scheduler
/// record must belong to this schedule.
fn resume_point(
    artifact_dir: &Path,
    schedule: &mut LearnerSchedule,
    resume: bool,
) -> Result<Option<usize>, TrainError> {
    if !resume {
        return Ok(None);
    }
    let n = latest_checkpoint(artifact_dir).ok_or_else(|| TrainError::NoCheckpoint(artifact_dir.join("checkpoint")))?;
    schedule.check_resume(artifact_dir, n)?;
    Ok(Some(n))
}

/// The end-of-epoch hook: epoch lines, `metrics.csv` (continuing the rows of a resumed run),
/// the plateau feed.
fn epoch_hook(
    cfg: &TrainConfig,
    schedule: &LearnerSchedule,
    resume_from: Option<usize>,
    opts: &TrainOptions,
) -> EpochHook {
    let artifact_dir = &cfg.training.artifact_dir;
    let previous_rows = match resume_from {
        Some(n) => read_metrics_csv(&artifact_dir.join("metrics.csv"))
            .into_iter()
            .filter(|r| r.epoch <= n)
            .collect(),
        None => Vec::new(),
    };
    EpochHook {
        plateau: schedule.early_stopping(),
        scheduler: schedule.base().clone(),
        updates_per_epoch: schedule.run().updates_per_epoch,
        log: Arc::new(Mutex::new(EpochLog {
            epochs: cfg.training.epochs,
            rows: previous_rows,
            csv: Some(artifact_dir.join("metrics.csv")),
            print: !opts.quiet,
        })),
    }
}

/// The train loader (seeded shuffle, seeded augmentation) and the validation loader.
fn loaders(cfg: &TrainConfig, data: Cifar10, device: &Device) -> (TrainLoader, TrainLoader) {
    let t = &cfg.training;
    let workers = cfg.data.num_workers.unwrap_or(1);
    let train_batcher = if cfg.data.augment.unwrap_or(true) {
        CifarBatcher::train(t.seed)
    } else {
        CifarBatcher::eval()
    };
    let train = DataLoaderBuilder::new(train_batcher)
        .batch_size(t.batch_size)
        .shuffle(t.seed)
        .num_workers(workers)
        .set_device(device.clone())
        .build(data::dataset(data.train));
    let valid = DataLoaderBuilder::new(CifarBatcher::eval())
        .batch_size(t.batch_size)
        .num_workers(workers)
        .set_device(device.clone())
        .build(data::dataset(data.test));
    (train, valid)
}

type TrainLoader = Arc<dyn burn::data::dataloader::DataLoader<data::CifarBatch>>;

/// What `SupervisedTraining` needs besides the loaders, gathered so that [`train`] reads as
/// steps.
struct TrainingPlan {
    artifact_dir: PathBuf,
    epochs: usize,
    grad_accumulation: usize,
    groups: Vec<String>,
    checkpointing: Box<dyn CheckpointingStrategy>,
    hook: EpochHook,
    resume_from: Option<usize>,
}

fn supervised_training(
    cfg: &TrainConfig,
    schedule: &LearnerSchedule,
    hook: &EpochHook,
    resume_from: Option<usize>,
    opts: &TrainOptions,
) -> TrainingPlan {
    let t = &cfg.training;
    TrainingPlan {
        artifact_dir: t.artifact_dir.clone(),
        epochs: opts.stop_after_epoch.map_or(t.epochs, |n| n.min(t.epochs)),
        grad_accumulation: t.grad_accumulation,
        groups: cfg.param_groups.iter().map(|g| g.params.clone()).collect(),
        checkpointing: schedule.checkpointing(None),
        hook: hook.clone(),
        resume_from,
    }
}

impl TrainingPlan {
    /// Burn's `SupervisedTraining`: loss and accuracy on both splits, the LR of every group per
    /// iteration, checkpoints (fed to the plateau schedule first), the epoch hook, no
    /// per-iteration printing.
    fn build_with(self, train: TrainLoader, valid: TrainLoader) -> SupervisedTraining<ResNet> {
        let mut training = SupervisedTraining::new(&self.artifact_dir, train, valid)
            .metrics((LossMetric::new(), AccuracyMetric::new()))
            .metric_train_numeric(LearningRateMetric::new())
            .with_default_checkpointers()
            .with_checkpointing_strategy(self.checkpointing)
            .early_stopping(self.hook)
            .renderer(Box::new(QuietRenderer::with_progress(terminal_progress())))
            .num_epochs(self.epochs);
        if self.grad_accumulation > 1 {
            training = training.grads_accumulation(self.grad_accumulation);
        }
        for params in self.groups {
            training = training.metric_train_numeric(GroupLearningRateMetric::new(params));
        }
        if let Some(n) = self.resume_from {
            training = training.checkpoint(n);
        }
        training
    }
}

/// Evaluates a schedule without training: the LR (and momentum) of each of `steps` optimizer
/// updates, with `updates_per_epoch` updates per epoch. `metrics` feeds a plateau schedule one
/// value per epoch: the updates of epoch `e` (from 0) use the LR after `e` metrics.
///
/// # Errors
/// The schedule's [`ScheduleError`]; too few metrics for a plateau schedule.
pub fn preview(
    config: &SchedulerConfig,
    base_lr: f64,
    steps: u64,
    updates_per_epoch: u64,
    metrics: &[f64],
) -> Result<Vec<(f64, Option<f64>)>, ScheduleError> {
    let spe = updates_per_epoch.max(1);
    let mut scheduler = config.build(&RunInfo {
        base_lr,
        updates_per_epoch: spe,
        total_updates: steps.max(1),
    })?;
    let feed = scheduler.plateau_feed();
    if feed.is_some() {
        let needed = steps.saturating_sub(1) / spe;
        if (metrics.len() as u64) < needed {
            return Err(ScheduleError::invalid(
                "reduce_on_plateau",
                "metrics",
                format!("{} values", metrics.len()),
                format!("{steps} steps at {spe} per epoch need at least {needed} metrics (one per finished epoch)"),
            ));
        }
    }
    let mut out = Vec::with_capacity(steps.min(1 << 24) as usize);
    for k in 0..steps {
        if let Some(feed) = &feed {
            if k > 0 && k.is_multiple_of(spe) {
                let epoch = k / spe;
                feed.report(epoch, metrics[(epoch - 1) as usize]);
            }
        }
        out.push((scheduler.step(), scheduler.momentum()));
    }
    Ok(out)
}
