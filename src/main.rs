//! `burn-lr`: train a CIFAR-10 ResNet with an exact LR schedule, or preview a schedule.

use anyhow::{bail, Context, Result};
use burn_lr::app::config::{DeviceName, TrainConfig};
use burn_lr::app::run::{self as training, TrainOptions};
use burn_lr::schedule::SchedulerConfig;
use clap::{Args, Parser, Subcommand};
use serde::Deserialize;
use std::path::PathBuf;

/// The configuration `cargo run --release` trains when no arguments are given.
const DEFAULT_CONFIG: &str = include_str!("../configs/resnet20-onecycle.toml");

#[derive(Parser)]
#[command(
    name = "burn-lr",
    version,
    about = "Exact PyTorch-style LR schedulers for Burn; CIFAR-10 ResNet training"
)]
struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Subcommand)]
enum Command {
    /// Train a ResNet on CIFAR-10 (prints one line per epoch, writes checkpoints and metrics.csv).
    Train(TrainArgs),
    /// Print a schedule as CSV `step,lr[,momentum]` without training (row k = optimizer update k).
    Schedule(ScheduleArgs),
}

/// `burn-lr train` options (each overrides the config's value).
#[derive(Args, Default)]
struct TrainArgs {
    /// TOML config (see configs/); default: configs/resnet20-onecycle.toml.
    #[arg(long)]
    config: Option<PathBuf>,
    /// CIFAR-10 folder: binary batches (cifar-10-batches-bin/) or train/<class>/*.jpg|png + test/.
    #[arg(long)]
    data_dir: Option<PathBuf>,
    /// Device.
    #[arg(long, value_enum)]
    device: Option<DeviceName>,
    /// Number of epochs.
    #[arg(long)]
    epochs: Option<usize>,
    /// Batch size.
    #[arg(long)]
    batch_size: Option<usize>,
    /// Train on a class-balanced subset of this many images.
    #[arg(long)]
    train_limit: Option<usize>,
    /// Evaluate on a class-balanced subset of this many test images.
    #[arg(long)]
    test_limit: Option<usize>,
    /// Where checkpoints, logs and metrics.csv go.
    #[arg(long)]
    artifact_dir: Option<PathBuf>,
    /// Continue from the newest checkpoint in the artifact directory.
    #[arg(long)]
    resume: bool,
    /// Stop after this epoch (the schedule still spans all epochs); continue with --resume.
    #[arg(long)]
    stop_after_epoch: Option<usize>,
}

/// `burn-lr schedule` options.
#[derive(Args)]
struct ScheduleArgs {
    /// TOML with a [scheduler] table (and [optimizer] lr for schedules that scale it).
    #[arg(long)]
    config: PathBuf,
    /// Number of optimizer updates (rows).
    #[arg(long)]
    steps: u64,
    /// Optimizer updates per epoch (epoch-unit schedules change every K rows).
    #[arg(long, default_value_t = 1)]
    steps_per_epoch: u64,
    /// Plateau metrics, one per epoch, comma-separated (`nan` allowed; negative values
    /// such as `-0.70,-0.75` too).
    #[arg(long, value_delimiter = ',', allow_hyphen_values = true)]
    metrics: Vec<String>,
}

#[derive(Deserialize)]
struct LrOnly {
    lr: Option<f64>,
}

#[derive(Deserialize)]
struct ScheduleFile {
    scheduler: SchedulerConfig,
    optimizer: Option<LrOnly>,
}

fn main() {
    if let Err(err) = run(Cli::parse()) {
        eprintln!("error: {err:#}");
        std::process::exit(2);
    }
}

fn run(cli: Cli) -> Result<()> {
    match cli.command.unwrap_or(Command::Train(TrainArgs::default())) {
        Command::Train(args) => train(args),
        Command::Schedule(args) => schedule(args),
    }
}

/// The config of a `train` command: the file (or the built-in default), then the overrides.
fn train_config(args: &TrainArgs) -> Result<TrainConfig> {
    let mut cfg = match &args.config {
        Some(path) => TrainConfig::from_file(path)?,
        None => TrainConfig::from_toml(DEFAULT_CONFIG).context("built-in default config")?,
    };
    let (data, t) = (&mut cfg.data, &mut cfg.training);
    data.dir = args.data_dir.clone().or(data.dir.take());
    data.train_limit = args.train_limit.or(data.train_limit);
    data.test_limit = args.test_limit.or(data.test_limit);
    t.device = args.device.unwrap_or(t.device);
    t.epochs = args.epochs.unwrap_or(t.epochs);
    t.batch_size = args.batch_size.unwrap_or(t.batch_size);
    if let Some(a) = &args.artifact_dir {
        t.artifact_dir = a.clone();
    }
    cfg.validate()?;
    // The whole config, schedules included, before any data is read or downloaded.
    training::check_schedules(&cfg)?;
    Ok(cfg)
}

fn train(args: TrainArgs) -> Result<()> {
    let cfg = train_config(&args)?;
    let start = std::time::Instant::now();
    let data = training::load_data(&cfg)?;
    println!(
        "{:?} on {:?}: {} train / {} test images, {} epochs, batch {}, scheduler {} (loaded in {:.1}s)",
        cfg.model.arch,
        cfg.training.device,
        data.train.len(),
        data.test.len(),
        cfg.training.epochs,
        cfg.training.batch_size,
        cfg.scheduler.kind(),
        start.elapsed().as_secs_f64()
    );
    let options = TrainOptions {
        resume: args.resume,
        quiet: false,
        stop_after_epoch: args.stop_after_epoch,
        momentum_cell: None,
    };
    let summary = training::train(&cfg, data, &options)?;
    if let Some(last) = summary.epochs.last() {
        println!(
            "done in {:.1}s: val_acc {:.2}%  val_loss {:.4}; artifacts in {}",
            start.elapsed().as_secs_f64(),
            last.val_acc,
            last.val_loss,
            summary.artifact_dir.display()
        );
    }
    Ok(())
}

/// The base LR a preview needs (`[optimizer] lr`; schedules that set an absolute LR need none).
fn preview_base_lr(file: &ScheduleFile, config: &std::path::Path) -> Result<f64> {
    let uses_base_lr = !matches!(
        file.scheduler,
        SchedulerConfig::OneCycle(_) | SchedulerConfig::Cyclic(_) | SchedulerConfig::Noam(_)
    );
    match file.optimizer.as_ref().and_then(|o| o.lr) {
        Some(lr) => Ok(lr),
        None if uses_base_lr => bail!(
            "{}: [optimizer] lr is required for a `{}` schedule (it scales the base LR)",
            config.display(),
            file.scheduler.kind()
        ),
        None => Ok(0.0),
    }
}

fn schedule(args: ScheduleArgs) -> Result<()> {
    let config = &args.config;
    let text = std::fs::read_to_string(config).with_context(|| format!("cannot read {}", config.display()))?;
    let file: ScheduleFile = burn_lr::app::config::parse_toml(&text)
        .map_err(|message| anyhow::anyhow!("invalid config {}: {message}", config.display()))?;
    if args.steps_per_epoch == 0 {
        bail!("--steps-per-epoch must be >= 1");
    }
    let metrics = args
        .metrics
        .iter()
        .map(|m| {
            m.trim()
                .parse::<f64>()
                .with_context(|| format!("--metrics: `{m}` is not a number (nan is allowed)"))
        })
        .collect::<Result<Vec<_>>>()?;
    let base_lr = preview_base_lr(&file, config)?;
    let rows = training::preview(&file.scheduler, base_lr, args.steps, args.steps_per_epoch, &metrics)?;
    print!("{}", schedule_csv(&rows));
    Ok(())
}

/// `step,lr[,momentum]` rows; a row of a child that does not cycle momentum leaves it empty
/// (the optimizer's own momentum applies there).
fn schedule_csv(rows: &[(f64, Option<f64>)]) -> String {
    let with_momentum = rows.iter().any(|(_, m)| m.is_some());
    let mut out = String::from(if with_momentum {
        "step,lr,momentum\n"
    } else {
        "step,lr\n"
    });
    for (k, (lr, m)) in rows.iter().enumerate() {
        match (with_momentum, m) {
            (true, Some(m)) => out += &format!("{k},{lr:?},{m:?}\n"),
            (true, None) => out += &format!("{k},{lr:?},\n"),
            (false, _) => out += &format!("{k},{lr:?}\n"),
        }
    }
    out
}
