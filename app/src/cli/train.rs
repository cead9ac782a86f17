//! `burn-lr train`: one training run (also what `burn-lr` runs without a subcommand).

use crate::config::TrainConfig;
use crate::device::{DeviceName, Devices};
use crate::error::TrainError;
use crate::run::dir::StartMode;
use crate::run::{self as training, TrainOptions};
use anyhow::{Context, Result};
use burn_lr::learner::StopRequest;
use clap::Args;
use std::path::PathBuf;

/// What `burn-lr` trains without `--config`: on a build with a GPU backend the full recipe
/// (ResNet-20, 30 epochs, OneCycle), on a CPU-only build the quick-cpu recipe (ResNet-8, 40,000
/// images, 3 epochs), so that a first `cargo run --release` finishes in minutes.
#[cfg(any(feature = "wgpu", feature = "cuda"))]
const DEFAULT_CONFIG: (&str, &str, &str) = (
    "configs/resnet20-onecycle.toml",
    include_str!("../../../configs/resnet20-onecycle.toml"),
    "the full recipe on the GPU: ResNet-20, 50,000 images, 30 epochs, OneCycle",
);
#[cfg(not(any(feature = "wgpu", feature = "cuda")))]
const DEFAULT_CONFIG: (&str, &str, &str) = (
    "configs/quick-cpu.toml",
    include_str!("../../../configs/quick-cpu.toml"),
    "the quick CPU recipe: ResNet-8, 40,000 images, 3 epochs, OneCycle; about 3 minutes on 2 cores \
     with oneDNN (apt-get install libdnnl-dev), 7 without (build with --features wgpu or cuda for the full recipe)",
);

/// `burn-lr train` options (each overrides the config's value).
#[derive(Args, Default)]
pub(super) struct TrainArgs {
    /// TOML config (see configs/); default: configs/quick-cpu.toml on a CPU-only build,
    /// configs/resnet20-onecycle.toml with --features wgpu or cuda.
    #[arg(long)]
    pub config: Option<PathBuf>,
    /// CIFAR-10 folder: binary batches (cifar-10-batches-bin/) or train/<class>/*.jpg|png + test/.
    #[arg(long)]
    pub data_dir: Option<PathBuf>,
    /// Device.
    #[arg(long, value_enum)]
    pub device: Option<DeviceName>,
    /// How many devices of that kind (`2`) or which (`0,1`); more than one trains with Burn's
    /// multi-device strategy.
    #[arg(long)]
    pub devices: Option<Devices>,
    /// The CPU convolution (`[training] cpu_conv`): auto (oneDNN when libdnnl.so.2 opens, else
    /// Burn's), onednn or burn.
    #[arg(long, value_enum)]
    pub cpu_conv: Option<crate::conv::CpuConv>,
    /// Number of epochs.
    #[arg(long, allow_negative_numbers = true)]
    pub epochs: Option<usize>,
    /// Batch size.
    #[arg(long, allow_negative_numbers = true)]
    pub batch_size: Option<usize>,
    /// Train on a class-balanced subset of this many images.
    #[arg(long, allow_negative_numbers = true)]
    pub train_limit: Option<usize>,
    /// Evaluate on a class-balanced subset of this many test images.
    #[arg(long, allow_negative_numbers = true)]
    pub test_limit: Option<usize>,
    /// Where checkpoints, logs and metrics.csv go.
    #[arg(long)]
    pub artifact_dir: Option<PathBuf>,
    /// Continue the run in the artifact directory from its newest intact checkpoint (refused
    /// when the config, data or schedule differ from that run's).
    #[arg(long, conflicts_with = "overwrite")]
    pub resume: bool,
    /// Delete the run already in the artifact directory (checkpoints, logs, metrics.csv) and
    /// start a new one there.
    #[arg(long)]
    pub overwrite: bool,
    /// Stop after this epoch, >= 1 (the schedule still spans all epochs); continue with
    /// --resume.
    #[arg(long, allow_negative_numbers = true, value_parser = clap::value_parser!(u32).range(1..))]
    pub stop_after_epoch: Option<u32>,
}

/// The config of a command: the file (or the built-in default), then the flags that override
/// it, then every check that needs no data (schedules, parameter groups, devices).
pub(super) fn train_config(args: &TrainArgs, command: &str) -> Result<TrainConfig> {
    let (mut cfg, source) = match &args.config {
        Some(path) => {
            crate::paths::check_existing_file(path, "--config")?;
            let cfg = TrainConfig::from_file(path)?;
            (
                cfg,
                (
                    path.display().to_string(),
                    std::fs::read_to_string(path).unwrap_or_default(),
                ),
            )
        }
        None => {
            let (path, text, what) = DEFAULT_CONFIG;
            if command == "train" {
                say!("no --config given: training {path}, {what}");
            } else {
                say!("no --config given: {command} on {path}");
            }
            let cfg = TrainConfig::from_toml(text).context("built-in default config")?;
            (cfg, (path.to_string(), text.to_string()))
        }
    };
    let (data, t) = (&mut cfg.data, &mut cfg.training);
    data.dir = args.data_dir.clone().or(data.dir.take());
    data.train_limit = args.train_limit.or(data.train_limit);
    data.test_limit = args.test_limit.or(data.test_limit);
    t.device = args.device.unwrap_or(t.device);
    t.cpu_conv = args.cpu_conv.unwrap_or(t.cpu_conv);
    if let Some(d) = &args.devices {
        t.devices = d.clone();
    }
    t.epochs = args.epochs.unwrap_or(t.epochs);
    t.batch_size = args.batch_size.unwrap_or(t.batch_size);
    if let Some(a) = &args.artifact_dir {
        t.artifact_dir = a.clone();
    }
    cfg.validate()?;
    // The whole config, schedules and device included, before any data is read or downloaded.
    training::check_schedules(&cfg).map_err(|e| match e {
        // Where in the file: the schedule's key (or its table).
        TrainError::Schedule(e) => {
            let line =
                crate::config::schedule_line(&source.1, &e).map_or(String::new(), |line| format!(", line {line}"));
            TrainError::Settings(format!("invalid config {}{line}: {e}", source.0))
        }
        other => other,
    })?;
    let t = &cfg.training;
    t.strategy.check_device(t.device, t.devices.len())?;
    let devices = crate::device::devices(t.device, &t.devices)?;
    crate::device::configure(&devices, t.precision)?;
    t.conv_kernel().map_err(TrainError::Settings)?;
    Ok(cfg)
}

/// Ctrl-C ends the run after the current training update (during validation: once that epoch
/// is checkpointed); `--resume` continues from the last checkpoint. A second Ctrl-C quits at
/// once.
pub(super) fn stop_on_ctrl_c() -> Option<StopRequest> {
    let stop = StopRequest::new();
    let handle = stop.clone();
    let installed = ctrlc::set_handler(move || {
        if handle.is_requested() {
            std::process::exit(130);
        }
        tell!(
            "\nCtrl-C: stopping after the current update (during validation, or with strategy = \"ddp\": once this epoch \
             is checkpointed); Ctrl-C again to quit at once"
        );
        handle.request();
    });
    installed.ok().map(|()| stop)
}

pub(super) fn run(args: TrainArgs) -> Result<()> {
    let cfg = train_config(&args, "train")?;
    let stop_after_epoch = args.stop_after_epoch.map(|n| n as usize);
    if let Some(n) = stop_after_epoch.filter(|n| *n > cfg.training.epochs) {
        let epochs = cfg.training.epochs;
        let plural = if epochs == 1 { "" } else { "s" };
        return Err(TrainError::Settings(format!(
            "--stop-after-epoch {n}: the run has {epochs} epoch{plural} ([training] epochs, --epochs); give at most {epochs}"
        ))
        .into());
    }
    let start_mode = StartMode::from_flags(args.resume, args.overwrite);
    // The directory's lock and every check that needs no data, before the data is read.
    let run_dir = training::prepare(&cfg, start_mode)?;
    let start = std::time::Instant::now();
    let data = training::load_data(&cfg)?;
    say!(
        "{:?} on {}{}: {} train / {} test images, {} epochs, batch {}, scheduler {} (loaded in {:.1}s)\nconvolution: {}",
        cfg.model.arch,
        crate::device::describe_all(cfg.training.device, &cfg.training.devices, cfg.training.strategy),
        match cfg.training.precision {
            crate::device::Precision::F32 => String::new(),
            p => format!(" in {p}"),
        },
        data.train.len(),
        data.test.len(),
        cfg.training.epochs,
        cfg.training.batch_size,
        cfg.scheduler.kind(),
        start.elapsed().as_secs_f64(),
        cfg.training.conv_kernel().map_or_else(|e| e, |k| k.describe())
    );
    if let Some(kept) = crate::run::weights::evaluated_weights(&cfg) {
        say!("validated and kept: {kept}; the stepped model is validated beside it");
    }
    let options = TrainOptions {
        stop_after_epoch,
        stop: stop_on_ctrl_c(),
        ..TrainOptions::default()
    };
    let summary = training::train_in(&cfg, run_dir, data, &options)?;
    let (Some(last), Some(_)) = (summary.epochs.last(), &summary.model) else {
        return Ok(());
    };
    let (seconds, where_) = (start.elapsed().as_secs_f64(), summary.artifact_dir.display());
    if last.epoch < cfg.training.epochs {
        say!(
            "stopped after epoch {} of {} (--stop-after-epoch) in {seconds:.1}s: val_acc {:.2}%; continue with --resume (artifacts in {where_})",
            last.epoch, cfg.training.epochs, last.val_acc,
        );
    } else {
        match (crate::run::weights::evaluated_weights(&cfg), last.live) {
            (Some(kept), Some((loss, acc))) => say!(
                "done in {seconds:.1}s: val_acc {:.2}%  val_loss {:.4} of {kept}, the weights validated and kept in \
                 model.bpk (the stepped model: val_acc {acc:.2}%  val_loss {loss:.4}); artifacts in {where_}",
                last.val_acc,
                last.val_loss,
            ),
            _ => say!(
                "done in {seconds:.1}s: val_acc {:.2}%  val_loss {:.4}; artifacts (the trained weights in model.bpk) in {where_}",
                last.val_acc,
                last.val_loss,
            ),
        };
    }
    Ok(())
}
