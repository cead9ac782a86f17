//! A full CIFAR-10 training run through Burn's `SupervisedTraining` + `Learner`, with a
//! `burn-lr` schedule stepped once per optimizer update, the plateau metric fed after each
//! validation epoch, per-epoch lines, `metrics.csv`, checkpoints and resume.
//!
//! The pieces a user's own Burn run needs live in the library module [`crate::learner`].

use crate::config::{DeviceName, OptimizerName, TrainConfig};
use crate::data::{self, Cifar10, CifarBatcher};
use crate::learner::{
    default_checkpointing, GroupLearningRateMetric, PlateauCheckpointing, PlateauMonitor, Progress, ProgressFn,
    QuietRenderer,
};
use crate::model::ResNet;
use crate::optim::{CycledAdamW, CycledSgd, MomentumCell};
use crate::schedule::{RunInfo, ScheduleError, SchedulerConfig, TrainingScheduler};
use burn::data::dataloader::DataLoaderBuilder;
use burn::lr_scheduler::module_lr_scheduler::ModuleLrScheduler;
use burn::lr_scheduler::{LrScheduler, LrSchedulerRecord};
use burn::module::ParamGroup;
use burn::optim::decay::WeightDecayConfig;
use burn::optim::momentum::MomentumConfig;
use burn::optim::{AdamWConfig, ModuleOptimizer, SgdConfig};
use burn::tensor::Device;
use burn::train::checkpoint::CheckpointingStrategy;
use burn::train::metric::store::{Aggregate, EventStoreClient, Split};
use burn::train::metric::{AccuracyMetric, LearningRateMetric, LossMetric};
use burn::train::{EarlyStoppingStrategy, Learner, SupervisedTraining};
use std::io::Write;
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
}

/// One finished epoch, as printed and written to `metrics.csv`.
#[derive(Debug, Clone, PartialEq)]
pub struct EpochRecord {
    /// Epoch number, from 1.
    pub epoch: usize,
    /// Mean training loss over the epoch.
    pub train_loss: f64,
    /// Mean validation loss.
    pub val_loss: f64,
    /// Validation accuracy, percent.
    pub val_acc: f64,
    /// Learning rate of the epoch's last optimizer update.
    pub lr: f64,
}

impl EpochRecord {
    /// `epoch 3/30  train_loss 1.234  val_loss 1.102  val_acc 61.2%  lr 0.0841`.
    pub fn line(&self, epochs: usize) -> String {
        format!(
            "epoch {}/{}  train_loss {:.3}  val_loss {:.3}  val_acc {:.1}%  lr {:.4e}",
            self.epoch, epochs, self.train_loss, self.val_loss, self.val_acc, self.lr
        )
    }
}

/// Writes `contents` to `path` through a temporary file in the same folder and a rename, so the
/// file is either the old or the new version, never half-written.
///
/// # Errors
/// [`TrainError::Io`].
pub fn write_atomic(path: &Path, contents: &[u8]) -> Result<(), TrainError> {
    let dir = path
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let io = |source| TrainError::Io {
        path: path.to_path_buf(),
        source,
    };
    std::fs::create_dir_all(dir).map_err(io)?;
    let mut tmp = tempfile::NamedTempFile::new_in(dir).map_err(io)?;
    tmp.write_all(contents).map_err(io)?;
    tmp.persist(path).map_err(|e| io(e.error))?;
    Ok(())
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
    plateau: Vec<PlateauMonitor>,
    scheduler: TrainingScheduler,
    steps_per_epoch: u64,
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
            lr: self.scheduler.lr_during_epoch(epoch as u64, self.steps_per_epoch),
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
        for monitor in &self.plateau {
            monitor.report(epoch, store);
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

/// Resolves a device name to a Burn device.
///
/// # Errors
/// [`TrainError::DeviceUnavailable`] for `wgpu` / `cuda` without their cargo feature.
#[allow(deprecated, unreachable_code)]
pub fn device(name: DeviceName) -> Result<Device, TrainError> {
    Ok(match name {
        DeviceName::Auto => {
            #[cfg(feature = "cuda")]
            return Ok(Device::cuda(0));
            #[cfg(all(feature = "wgpu", not(feature = "cuda")))]
            return Ok(Device::wgpu(burn::tensor::DeviceKind::DefaultDevice));
            Device::flex()
        }
        DeviceName::Cpu => Device::flex(),
        DeviceName::Ndarray => Device::ndarray(),
        DeviceName::Wgpu => {
            #[cfg(feature = "wgpu")]
            return Ok(Device::wgpu(burn::tensor::DeviceKind::DefaultDevice));
            return Err(TrainError::DeviceUnavailable("wgpu"));
        }
        DeviceName::Cuda => {
            #[cfg(feature = "cuda")]
            return Ok(Device::cuda(0));
            return Err(TrainError::DeviceUnavailable("cuda"));
        }
    })
}

/// The optimizer of `[optimizer]`, as PyTorch defines it (SGD dampening 0, L2 weight decay;
/// AdamW decoupled decay). With a `momentum` cell (a schedule with `cycle_momentum`), SGD's
/// momentum or AdamW's `beta1` is read from it at every update, overriding the configured one,
/// as PyTorch's `cycle_momentum` overrides the optimizer's.
pub fn optimizer(cfg: &crate::config::OptimizerConfig, momentum: Option<MomentumCell>) -> ModuleOptimizer {
    if let Some(cell) = momentum {
        return match cfg.name {
            OptimizerName::Sgd => CycledSgd::new(cell, cfg.nesterov, cfg.weight_decay).init(),
            OptimizerName::Adamw => CycledAdamW::new(cell, cfg.beta2, cfg.eps, cfg.weight_decay).init(),
        };
    }
    match cfg.name {
        OptimizerName::Sgd => {
            let mut sgd = SgdConfig::new();
            if cfg.momentum > 0.0 {
                sgd = sgd.with_momentum(Some(
                    MomentumConfig::new()
                        .with_momentum(cfg.momentum)
                        .with_dampening(0.0)
                        .with_nesterov(cfg.nesterov),
                ));
            }
            if cfg.weight_decay > 0.0 {
                sgd = sgd.with_weight_decay(Some(WeightDecayConfig::new(cfg.weight_decay as f32)));
            }
            sgd.init()
        }
        OptimizerName::Adamw => AdamWConfig::new()
            .with_beta_1(cfg.beta1 as f32)
            .with_beta_2(cfg.beta2 as f32)
            .with_epsilon(cfg.eps as f32)
            .with_weight_decay(cfg.weight_decay as f32)
            .init(),
    }
}

/// Optimizer updates per epoch: `ceil(ceil(images / batch_size) / grad_accumulation)` (Burn
/// steps once per accumulation window plus once for the epoch's leftover batches).
pub fn steps_per_epoch(images: usize, batch_size: usize, grad_accumulation: usize) -> u64 {
    images.div_ceil(batch_size).div_ceil(grad_accumulation.max(1)) as u64
}

/// The newest epoch `N` with `model-N.bpk`, `optim-N.bpk` and `scheduler-N.bpk` in
/// `artifact_dir/checkpoint`.
pub fn latest_checkpoint(artifact_dir: &Path) -> Option<usize> {
    let dir = artifact_dir.join("checkpoint");
    std::fs::read_dir(&dir)
        .ok()?
        .filter_map(|e| e.ok())
        .filter_map(|e| {
            let name = e.file_name().into_string().ok()?;
            name.strip_prefix("model-")?.strip_suffix(".bpk")?.parse::<usize>().ok()
        })
        .filter(|n| {
            ["optim", "scheduler"]
                .iter()
                .all(|k| dir.join(format!("{k}-{n}.bpk")).is_file())
        })
        .max()
}

/// What [`train`] returns.
#[derive(Debug)]
pub struct TrainSummary {
    /// The trained model.
    pub model: ResNet,
    /// One row per epoch trained in this call (and the earlier ones on resume).
    pub epochs: Vec<EpochRecord>,
    /// Optimizer updates per epoch.
    pub steps_per_epoch: u64,
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

/// Trains `cfg.model` on CIFAR-10 as configured; see the module documentation.
///
/// # Errors
/// [`TrainError`] for bad data, schedule parameters, an unavailable device, a missing or
/// mismatched checkpoint on resume, or a failure reported by Burn.
pub fn train(cfg: &TrainConfig, data: Cifar10, opts: &TrainOptions) -> Result<TrainSummary, TrainError> {
    let t = &cfg.training;
    let device = device(t.device)?;
    let artifact_dir = t.artifact_dir.clone();
    let spe = steps_per_epoch(data.train.len(), t.batch_size, t.grad_accumulation);
    let run = RunInfo {
        base_lr: cfg.optimizer.lr,
        steps_per_epoch: spe,
        total_steps: spe.checked_mul(t.epochs as u64).ok_or_else(|| {
            ScheduleError::invalid(
                "training",
                "epochs",
                t.epochs,
                "epochs x updates per epoch overflows u64",
            )
        })?,
    };
    let mut scheduler = cfg.scheduler.build(&run)?;
    if !opts.quiet {
        for warning in cfg.scheduler.length_warnings(&run) {
            eprintln!("warning: {warning}");
        }
    }

    let mut groups = Vec::with_capacity(cfg.param_groups.len());
    for g in &cfg.param_groups {
        let group_run = RunInfo {
            base_lr: g.lr.unwrap_or(run.base_lr),
            ..run
        };
        groups.push((
            g.params.clone(),
            g.scheduler.as_ref().unwrap_or(&cfg.scheduler).build(&group_run)?,
        ));
    }

    let resume_from = if opts.resume {
        let n = latest_checkpoint(&artifact_dir)
            .ok_or_else(|| TrainError::NoCheckpoint(artifact_dir.join("checkpoint")))?;
        let path = artifact_dir.join("checkpoint").join(format!("scheduler-{n}.bpk"));
        let record =
            LrSchedulerRecord::load(&path).map_err(|e| TrainError::Burn(format!("{}: {e:?}", path.display())))?;
        // Burn nests group i's record under "i" (0 = the base group); refuse a foreign record
        // here, with a clear error, before Burn would load it.
        scheduler.try_load_record(&record.record("0"))?;
        for (i, (_, group)) in groups.iter_mut().enumerate() {
            group.try_load_record(&record.record(&(i + 1).to_string()))?;
        }
        Some(n)
    } else {
        None
    };

    write_atomic(
        &artifact_dir.join("config.toml"),
        toml::to_string_pretty(cfg)
            .map_err(|e| TrainError::Burn(e.to_string()))?
            .as_bytes(),
    )?;

    let previous_rows = match resume_from {
        Some(n) => read_metrics_csv(&artifact_dir.join("metrics.csv"))
            .into_iter()
            .filter(|r| r.epoch <= n)
            .collect(),
        None => Vec::new(),
    };
    let log = Arc::new(Mutex::new(EpochLog {
        epochs: t.epochs,
        rows: previous_rows,
        csv: Some(artifact_dir.join("metrics.csv")),
        print: !opts.quiet,
    }));
    let monitor = |config: &SchedulerConfig, s: &TrainingScheduler| match (config, s.plateau_feed()) {
        (SchedulerConfig::ReduceOnPlateau(c), Some(feed)) => Some(PlateauMonitor::new(feed, c.burn_metric_name())),
        _ => None,
    };
    let mut plateau: Vec<PlateauMonitor> = monitor(&cfg.scheduler, &scheduler).into_iter().collect();
    for (g, (_, s)) in cfg.param_groups.iter().zip(&groups) {
        plateau.extend(monitor(g.scheduler.as_ref().unwrap_or(&cfg.scheduler), s));
    }
    let hook = EpochHook {
        plateau: plateau.clone(),
        scheduler: scheduler.clone(),
        steps_per_epoch: spe,
        log,
    };

    let augment = cfg.data.augment.unwrap_or(true);
    let workers = cfg.data.num_workers.unwrap_or(1);
    let train_batcher = if augment {
        CifarBatcher::train(t.seed)
    } else {
        CifarBatcher::eval()
    };
    let train_loader = DataLoaderBuilder::new(train_batcher)
        .batch_size(t.batch_size)
        .shuffle(t.seed)
        .num_workers(workers)
        .set_device(device.clone())
        .build(data::dataset(data.train));
    let valid_loader = DataLoaderBuilder::new(CifarBatcher::eval())
        .batch_size(t.batch_size)
        .num_workers(workers)
        .set_device(device.clone())
        .build(data::dataset(data.test));

    device.seed(t.seed);
    let model = ResNet::new(cfg.model.arch, data::CLASSES.len(), &device.clone().autodiff());

    let checkpointing: Box<dyn CheckpointingStrategy> = if plateau.is_empty() {
        default_checkpointing()
    } else {
        Box::new(PlateauCheckpointing::with_monitors(
            default_checkpointing(),
            plateau.clone(),
        ))
    };
    let mut training = SupervisedTraining::new(&artifact_dir, train_loader, valid_loader)
        .metrics((LossMetric::new(), AccuracyMetric::new()))
        .metric_train_numeric(LearningRateMetric::new())
        .with_default_checkpointers()
        .with_checkpointing_strategy(checkpointing)
        .early_stopping(hook.clone())
        .renderer(Box::new(QuietRenderer::with_progress(terminal_progress())))
        .num_epochs(opts.stop_after_epoch.map_or(t.epochs, |n| n.min(t.epochs)));
    if t.grad_accumulation > 1 {
        training = training.grads_accumulation(t.grad_accumulation);
    }
    for (params, _) in &groups {
        training = training.metric_train_numeric(GroupLearningRateMetric::new(params.clone()));
    }
    if let Some(n) = resume_from {
        training = training.checkpoint(n);
    }
    // A schedule that cycles momentum anywhere (even in a later child of a sequential) drives
    // the optimizer; until it first sets a value, the configured momentum / beta1 applies.
    let (scheduler, momentum) = if cfg.scheduler.cycles_momentum() {
        let configured = match cfg.optimizer.name {
            OptimizerName::Sgd => cfg.optimizer.momentum,
            OptimizerName::Adamw => cfg.optimizer.beta1,
        };
        let cell = opts
            .momentum_cell
            .clone()
            .unwrap_or_else(|| MomentumCell::new(configured));
        (scheduler.with_momentum_cell(cell.clone()), Some(cell))
    } else {
        (scheduler, None)
    };
    let mut module_scheduler = ModuleLrScheduler::new(scheduler);
    // The optimizer's momentum follows the base schedule (one momentum for all groups).
    for (params, group) in groups {
        module_scheduler = module_scheduler.with_group(ParamGroup::from_predicate(params), group);
    }
    let result = training.launch(Learner::new(
        model,
        optimizer(&cfg.optimizer, momentum),
        module_scheduler,
    ));
    if let Some(err) = result.error {
        return Err(TrainError::Burn(err.to_string()));
    }
    Ok(TrainSummary {
        model: result.model,
        epochs: hook.rows(),
        steps_per_epoch: spe,
        artifact_dir,
    })
}

/// Reads `metrics.csv` rows (an unreadable file gives none).
pub fn read_metrics_csv(path: &Path) -> Vec<EpochRecord> {
    let Ok(text) = std::fs::read_to_string(path) else {
        return Vec::new();
    };
    text.lines()
        .skip(1)
        .filter_map(|line| {
            let f: Vec<&str> = line.split(',').collect();
            Some(EpochRecord {
                epoch: f.first()?.parse().ok()?,
                train_loss: f.get(1)?.parse().ok()?,
                val_loss: f.get(2)?.parse().ok()?,
                val_acc: f.get(3)?.parse().ok()?,
                lr: f.get(4)?.parse().ok()?,
            })
        })
        .collect()
}

/// Evaluates a schedule without training: the LR (and momentum) of each of `steps` optimizer
/// updates, with `steps_per_epoch` updates per epoch. `metrics` feeds a plateau schedule one
/// value per epoch: the updates of epoch `e` (from 0) use the LR after `e` metrics.
///
/// # Errors
/// The schedule's [`ScheduleError`]; too few metrics for a plateau schedule.
pub fn preview(
    config: &SchedulerConfig,
    base_lr: f64,
    steps: u64,
    steps_per_epoch: u64,
    metrics: &[f64],
) -> Result<Vec<(f64, Option<f64>)>, ScheduleError> {
    let spe = steps_per_epoch.max(1);
    let mut scheduler = config.build(&RunInfo {
        base_lr,
        steps_per_epoch: spe,
        total_steps: steps.max(1),
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
