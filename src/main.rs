//! `burn-lr`: train a CIFAR-10 ResNet with an exact LR schedule, or preview a schedule.

use anyhow::{bail, Context, Result};
use burn_lr::app::config::{DeviceName, TrainConfig};
use burn_lr::app::device::Devices;
use burn_lr::app::run::{self as training, StartMode, TrainError, TrainOptions};
use burn_lr::learner::StopRequest;
use burn_lr::schedule::SchedulerConfig;
use clap::{Args, Parser, Subcommand};
use serde::Deserialize;
use std::io::Write;
use std::path::PathBuf;

/// mimalloc: quick-cpu trains ~1.4x faster than with glibc's `malloc` (same numbers; README,
/// "Speed"), where tensors are allocated on one thread and dropped on another (Burn's data
/// loader and metric threads).
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// What `burn-lr` trains without `--config`: on a build with a GPU backend the full recipe
/// (ResNet-20, 30 epochs, OneCycle), on a CPU-only build the quick-cpu recipe (ResNet-8, 40,000
/// images, 3 epochs), so that a first `cargo run --release` finishes in minutes.
#[cfg(any(feature = "wgpu", feature = "cuda"))]
const DEFAULT_CONFIG: (&str, &str, &str) = (
    "configs/resnet20-onecycle.toml",
    include_str!("../configs/resnet20-onecycle.toml"),
    "the full recipe on the GPU: ResNet-20, 50,000 images, 30 epochs, OneCycle",
);
#[cfg(not(any(feature = "wgpu", feature = "cuda")))]
const DEFAULT_CONFIG: (&str, &str, &str) = (
    "configs/quick-cpu.toml",
    include_str!("../configs/quick-cpu.toml"),
    "the quick CPU recipe: ResNet-8, 40,000 images, 3 epochs, OneCycle; about 7 minutes on 2 cores \
     (build with --features wgpu or cuda for the full recipe)",
);

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
    /// Print a schedule as CSV `step,lr[,momentum]` without training (row k = optimizer update
    /// k), or draw it with --plot.
    Schedule(ScheduleArgs),
    /// Redraw a run's plots (lr_schedule.png, loss.png, accuracy.png) from its lr.csv and
    /// metrics.csv.
    Plot(PlotArgs),
    /// LR range test (Smith; fastai's lr_find): suggests a learning rate and OneCycle's max_lr
    /// for a config's model and data; writes lr_find.csv and lr_find.png.
    FindLr(FindLrArgs),
    /// Train several configs on the same data with the same seed, one after the other; write
    /// summary.md (best and final accuracy, epochs and time to a target accuracy) and overlay
    /// charts (validation accuracy per epoch, LR per update) to --out.
    Compare(CompareArgs),
}

/// `burn-lr compare` options (the data, device and epoch flags apply to every config).
#[derive(Args)]
struct CompareArgs {
    /// The configs, the baseline first (its final accuracy is the default target).
    #[arg(long, num_args = 2.., required = true)]
    configs: Vec<PathBuf>,
    /// Directory for summary.md, compare_accuracy.png, compare_lr.png and one run directory
    /// per config (named by the config's file stem).
    #[arg(long)]
    out: PathBuf,
    /// CIFAR-10 folder for every run.
    #[arg(long)]
    data_dir: Option<PathBuf>,
    /// Device for every run.
    #[arg(long, value_enum)]
    device: Option<DeviceName>,
    /// Epochs for every run (default: each config's own).
    #[arg(long)]
    epochs: Option<usize>,
    /// Train every run on a class-balanced subset of this many images.
    #[arg(long)]
    train_limit: Option<usize>,
    /// Evaluate every run on a class-balanced subset of this many test images.
    #[arg(long)]
    test_limit: Option<usize>,
    /// Seed of every run (default: the first config's [training] seed).
    #[arg(long)]
    seed: Option<u64>,
    /// Target validation accuracy in percent, in (0, 100] (default: the first run's final
    /// accuracy).
    #[arg(long)]
    target_accuracy: Option<f64>,
    /// Continue an interrupted comparison (the same command): runs with a checkpoint resume
    /// (finished ones are kept), the others start.
    #[arg(long, conflicts_with = "overwrite")]
    resume: bool,
    /// Delete runs already in the run directories under --out first.
    #[arg(long)]
    overwrite: bool,
}

/// `burn-lr plot` options.
#[derive(Args)]
struct PlotArgs {
    /// The run's artifact directory.
    dir: PathBuf,
}

/// `burn-lr find-lr` options.
#[derive(Args)]
struct FindLrArgs {
    /// TOML config (model, optimizer, batch size, data); default as for `train`.
    #[arg(long)]
    config: Option<PathBuf>,
    /// CIFAR-10 folder (as for `train`).
    #[arg(long)]
    data_dir: Option<PathBuf>,
    /// Device.
    #[arg(long, value_enum)]
    device: Option<DeviceName>,
    /// Train on a class-balanced subset of this many images.
    #[arg(long)]
    train_limit: Option<usize>,
    /// Batch size.
    #[arg(long)]
    batch_size: Option<usize>,
    /// Learning rate of the first update.
    #[arg(long, default_value_t = 1e-7)]
    start_lr: f64,
    /// Learning rate of the last update.
    #[arg(long, default_value_t = 10.0)]
    end_lr: f64,
    /// Optimizer updates (one batch each) at most.
    #[arg(long, default_value_t = 100)]
    num_iter: usize,
    /// How the LR grows.
    #[arg(long, value_enum, default_value = "exp")]
    mode: FindMode,
    /// Where lr_find.csv and lr_find.png go (default: the config's artifact directory).
    #[arg(long)]
    out: Option<PathBuf>,
}

#[derive(Clone, Copy, clap::ValueEnum)]
enum FindMode {
    Exp,
    Linear,
}

/// `burn-lr train` options (each overrides the config's value).
#[derive(Args, Default)]
struct TrainArgs {
    /// TOML config (see configs/); default: configs/quick-cpu.toml on a CPU-only build,
    /// configs/resnet20-onecycle.toml with --features wgpu or cuda.
    #[arg(long)]
    config: Option<PathBuf>,
    /// CIFAR-10 folder: binary batches (cifar-10-batches-bin/) or train/<class>/*.jpg|png + test/.
    #[arg(long)]
    data_dir: Option<PathBuf>,
    /// Device.
    #[arg(long, value_enum)]
    device: Option<DeviceName>,
    /// How many devices of that kind (`2`) or which (`0,1`); more than one trains with Burn's
    /// multi-device strategy.
    #[arg(long)]
    devices: Option<Devices>,
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
    /// Continue the run in the artifact directory from its newest intact checkpoint (refused
    /// when the config, data or schedule differ from that run's).
    #[arg(long, conflicts_with = "overwrite")]
    resume: bool,
    /// Delete the run already in the artifact directory (checkpoints, logs, metrics.csv) and
    /// start a new one there.
    #[arg(long)]
    overwrite: bool,
    /// Stop after this epoch, >= 1 (the schedule still spans all epochs); continue with
    /// --resume.
    #[arg(long, value_parser = clap::value_parser!(u32).range(1..))]
    stop_after_epoch: Option<u32>,
}

/// `burn-lr schedule` options.
#[derive(Args)]
struct ScheduleArgs {
    /// TOML with a [scheduler] table (and [optimizer] lr for schedules that scale it).
    #[arg(long)]
    config: PathBuf,
    /// Number of optimizer updates (rows).
    #[arg(long, required_unless_present = "epochs", conflicts_with = "epochs")]
    steps: Option<u64>,
    /// Number of epochs (rows = epochs x --steps-per-epoch).
    #[arg(long)]
    epochs: Option<u64>,
    /// Optimizer updates per epoch (epoch-unit schedules change every K rows).
    #[arg(long, default_value_t = 1)]
    steps_per_epoch: u64,
    /// Plateau metrics, one per epoch, comma-separated (`nan` allowed; negative values
    /// such as `-0.70,-0.75` too).
    #[arg(long, value_delimiter = ',', allow_hyphen_values = true)]
    metrics: Vec<String>,
    /// Draw the schedule (and momentum, or the plateau metrics) to this PNG instead of
    /// printing CSV.
    #[arg(long)]
    plot: Option<PathBuf>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct LrOnly {
    lr: Option<f64>,
}

/// A schedule-only file: `[scheduler]` and an optional `[optimizer] lr`, nothing else. A file
/// with `[model]` or `[training]` is read as a whole training config instead.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ScheduleFile {
    scheduler: SchedulerConfig,
    optimizer: Option<LrOnly>,
}

fn main() {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(err) if !err.use_stderr() => err.exit(), // --help, --version
        Err(err) => {
            // clap's own message, on one line, without the usage block.
            let text = err.render().to_string();
            let first = text.lines().next().unwrap_or_default().trim_start_matches("error: ");
            eprintln!("error: {first} (see --help)");
            std::process::exit(2);
        }
    };
    if let Err(err) = run(cli) {
        eprintln!("error: {}", one_line(&err));
        let code = err.downcast_ref::<TrainError>().map_or(2, TrainError::exit_code);
        std::process::exit(code);
    }
}

/// The error and its causes on one line, each cause only when the text so far does not
/// already say it (many errors print their source themselves).
fn one_line(err: &anyhow::Error) -> String {
    let mut text = String::new();
    for cause in err.chain() {
        let part = cause.to_string();
        if !text.contains(&part) {
            if !text.is_empty() {
                text += ": ";
            }
            text += &part;
        }
    }
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

fn run(cli: Cli) -> Result<()> {
    match cli.command.unwrap_or(Command::Train(TrainArgs::default())) {
        Command::Train(args) => train(args),
        Command::Schedule(args) => schedule(args),
        Command::Plot(args) => plot(args),
        Command::FindLr(args) => find_lr(args),
        Command::Compare(args) => compare(args),
    }
}

/// The config of a `train` command: the file (or the built-in default), then the overrides.
fn train_config(args: &TrainArgs, command: &str) -> Result<TrainConfig> {
    let mut cfg = match &args.config {
        Some(path) => TrainConfig::from_file(path)?,
        None => {
            let (path, text, what) = DEFAULT_CONFIG;
            match command {
                "train" => println!("no --config given: training {path}, {what}"),
                _ => println!("no --config given: {command} on {path}"),
            }
            TrainConfig::from_toml(text).context("built-in default config")?
        }
    };
    let (data, t) = (&mut cfg.data, &mut cfg.training);
    data.dir = args.data_dir.clone().or(data.dir.take());
    data.train_limit = args.train_limit.or(data.train_limit);
    data.test_limit = args.test_limit.or(data.test_limit);
    t.device = args.device.unwrap_or(t.device);
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
    training::check_schedules(&cfg)?;
    burn_lr::app::device::devices(cfg.training.device, &cfg.training.devices)?;
    Ok(cfg)
}

/// Ctrl-C ends the run after the current training update (during validation: once that epoch
/// is checkpointed); `--resume` continues from the last checkpoint. A second Ctrl-C quits at
/// once.
fn stop_on_ctrl_c() -> Option<StopRequest> {
    let stop = StopRequest::new();
    let handle = stop.clone();
    let installed = ctrlc::set_handler(move || {
        if handle.is_requested() {
            std::process::exit(130);
        }
        eprintln!(
            "\nCtrl-C: stopping after the current update (during validation: once this epoch is checkpointed); \
             Ctrl-C again to quit at once"
        );
        handle.request();
    });
    installed.ok().map(|()| stop)
}

fn train(args: TrainArgs) -> Result<()> {
    let cfg = train_config(&args, "train")?;
    let start_mode = match (args.resume, args.overwrite) {
        (true, _) => StartMode::Resume,
        (false, true) => StartMode::Overwrite,
        (false, false) => StartMode::New,
    };
    let stop_after_epoch = args.stop_after_epoch.map(|n| n as usize);
    let mut options = TrainOptions {
        start: start_mode,
        quiet: false,
        stop_after_epoch,
        momentum_cell: None,
        stop: None,
    };
    // The directory's lock and every check that needs no data, before the data is read.
    let run_dir = training::prepare(&cfg, &options)?;
    let start = std::time::Instant::now();
    let data = training::load_data(&cfg)?;
    println!(
        "{:?} on {}: {} train / {} test images, {} epochs, batch {}, scheduler {} (loaded in {:.1}s)",
        cfg.model.arch,
        burn_lr::app::device::describe_all(cfg.training.device, &cfg.training.devices),
        data.train.len(),
        data.test.len(),
        cfg.training.epochs,
        cfg.training.batch_size,
        cfg.scheduler.kind(),
        start.elapsed().as_secs_f64()
    );
    options.stop = stop_on_ctrl_c();
    let summary = training::train_in(run_dir, &cfg, data, &options)?;
    let Some(last) = summary.epochs.last() else {
        return Ok(());
    };
    if summary.model.is_none() {
        return Ok(());
    }
    let where_ = summary.artifact_dir.display();
    if last.epoch < cfg.training.epochs {
        println!(
            "stopped after epoch {} of {} (--stop-after-epoch) in {:.1}s: val_acc {:.2}%; continue with --resume (artifacts in {where_})",
            last.epoch,
            cfg.training.epochs,
            start.elapsed().as_secs_f64(),
            last.val_acc,
        );
    } else {
        println!(
            "done in {:.1}s: val_acc {:.2}%  val_loss {:.4}; artifacts in {where_}",
            start.elapsed().as_secs_f64(),
            last.val_acc,
            last.val_loss,
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
    let file = schedule_file(config)?;
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
    let steps = match (args.steps, args.epochs) {
        (Some(steps), _) => steps,
        (None, Some(epochs)) => epochs
            .checked_mul(args.steps_per_epoch)
            .context("--epochs x --steps-per-epoch overflows")?,
        (None, None) => bail!("give --steps or --epochs"),
    };
    let rows = burn_lr::app::preview::preview_rows(&file.scheduler, base_lr, steps, args.steps_per_epoch, &metrics)?;
    if let Some(png) = &args.plot {
        let name = config
            .file_name()
            .map_or(String::new(), |n| n.to_string_lossy().into_owned());
        let title = format!(
            "{name}: {}, {steps} updates ({} per epoch)",
            file.scheduler.kind(),
            args.steps_per_epoch
        );
        burn_lr::monitor::plot::schedule_preview(rows, steps, args.steps_per_epoch, &metrics, &title, png)?;
        println!("wrote {}", png.display());
        return Ok(());
    }
    match write_schedule_csv(rows, file.scheduler.cycles_momentum()) {
        // `| head`: the reader has what it wanted.
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Ok(()),
        other => other.context("writing the schedule to stdout"),
    }
}

fn plot(args: PlotArgs) -> Result<()> {
    if !args.dir.join("metrics.csv").is_file() && !args.dir.join("lr.csv").is_file() {
        return Err(TrainError::Settings(format!(
            "{}: no lr.csv or metrics.csv here; give a run's artifact directory",
            args.dir.display()
        ))
        .into());
    }
    let (drawn, problems) = burn_lr::app::monitoring::draw_plots(&args.dir);
    if drawn.is_empty() {
        let why: Vec<&str> = problems.iter().map(|p| p.what.as_str()).collect();
        bail!("{}: nothing to draw ({})", args.dir.display(), why.join("; "));
    }
    for p in &problems {
        eprintln!("note: {}", p.what);
    }
    for path in &drawn {
        println!("wrote {}", path.display());
    }
    Ok(())
}

fn find_lr(args: FindLrArgs) -> Result<()> {
    use burn_lr::monitor::{LrFindConfig, LrFindMode};
    let settings = LrFindConfig {
        start_lr: args.start_lr,
        end_lr: args.end_lr,
        num_iter: args.num_iter,
        mode: match args.mode {
            FindMode::Exp => LrFindMode::Exp,
            FindMode::Linear => LrFindMode::Linear,
        },
        ..LrFindConfig::default()
    };
    settings.validate().map_err(|e| {
        // The settings by their flag names: `--end-lr = 0.5: ... greater than --start-lr`.
        let flags = ["start_lr", "end_lr", "num_iter"];
        TrainError::Settings(flags.iter().fold(e.to_string(), |m, k| {
            m.replace(k, &format!("--{}", k.replace('_', "-")))
        }))
    })?;
    let args_as_train = TrainArgs {
        config: args.config,
        data_dir: args.data_dir,
        device: args.device,
        train_limit: args.train_limit,
        batch_size: args.batch_size,
        ..TrainArgs::default()
    };
    let cfg = train_config(&args_as_train, "find-lr")?;
    let out = args.out.unwrap_or_else(|| cfg.training.artifact_dir.clone());
    let start = std::time::Instant::now();
    let data = training::load_data(&cfg)?;
    println!(
        "{:?} on {}: {} training images, batch {} (loaded in {:.1}s)",
        cfg.model.arch,
        burn_lr::app::device::describe(cfg.training.device),
        data.train.len(),
        cfg.training.batch_size,
        start.elapsed().as_secs_f64()
    );
    let found = burn_lr::app::find_lr::find_lr(&cfg, data, &settings, &out)?;
    for line in burn_lr::app::find_lr::report(&found, &settings) {
        println!("{line}");
    }
    println!("in {:.1}s", start.elapsed().as_secs_f64());
    Ok(())
}

/// The `[scheduler]` (and `[optimizer] lr`) of a schedule file or of a whole training config;
/// unknown keys and tables are errors in both.
fn schedule_file(config: &std::path::Path) -> Result<ScheduleFile> {
    let text = std::fs::read_to_string(config).with_context(|| format!("cannot read {}", config.display()))?;
    let tables: toml::Table = burn_lr::app::config::parse_toml(&text)
        .map_err(|message| anyhow::anyhow!("invalid config {}: {message}", config.display()))?;
    if tables.contains_key("model") || tables.contains_key("training") {
        let cfg = TrainConfig::from_file(config)?;
        return Ok(ScheduleFile {
            scheduler: cfg.scheduler,
            optimizer: Some(LrOnly {
                lr: Some(cfg.optimizer.lr),
            }),
        });
    }
    burn_lr::app::config::parse_toml(&text).map_err(|message| {
        anyhow::anyhow!(
            "invalid config {}: {message} (a schedule file has [scheduler] and an optional [optimizer] lr; \
             a training config also has [model] and [training])",
            config.display()
        )
    })
}

/// Streams `step,lr[,momentum]` rows to stdout; a row of a child that does not cycle momentum
/// leaves it empty (the optimizer's own momentum applies there).
fn write_schedule_csv(rows: impl Iterator<Item = (f64, Option<f64>)>, with_momentum: bool) -> std::io::Result<()> {
    let mut out = std::io::BufWriter::new(std::io::stdout().lock());
    writeln!(out, "{}", if with_momentum { "step,lr,momentum" } else { "step,lr" })?;
    for (k, (lr, m)) in rows.enumerate() {
        match (with_momentum, m) {
            (true, Some(m)) => writeln!(out, "{k},{lr:?},{m:?}")?,
            (true, None) => writeln!(out, "{k},{lr:?},")?,
            (false, _) => writeln!(out, "{k},{lr:?}")?,
        }
    }
    out.flush()
}

/// The command line as typed, for summary.md.
fn command_line() -> String {
    let quote = |a: String| if a.contains(' ') { format!("'{a}'") } else { a };
    let mut args: Vec<String> = std::env::args().map(quote).collect();
    if let Some(first) = args.first_mut() {
        *first = "burn-lr".into();
    }
    args.join(" ")
}

fn compare(args: CompareArgs) -> Result<()> {
    use burn_lr::app::compare::{self, Contender};
    if let Some(t) = args.target_accuracy {
        if !(t > 0.0 && t <= 100.0) {
            return Err(TrainError::Settings(format!("--target-accuracy = {t}: a percentage in (0, 100]")).into());
        }
    }
    let mut contenders = Vec::new();
    for path in &args.configs {
        let name = path
            .file_stem()
            .map(|s| s.to_string_lossy().into_owned())
            .unwrap_or_default();
        let per_run = TrainArgs {
            config: Some(path.clone()),
            data_dir: args.data_dir.clone(),
            device: args.device,
            epochs: args.epochs,
            train_limit: args.train_limit,
            test_limit: args.test_limit,
            artifact_dir: Some(args.out.join(&name)),
            ..TrainArgs::default()
        };
        let config = train_config(&per_run, "compare")?;
        contenders.push(Contender { name, config });
    }
    let seed = args.seed.unwrap_or(contenders[0].config.training.seed);
    for c in &mut contenders {
        c.config.training.seed = seed;
    }
    let start = match (args.resume, args.overwrite) {
        (true, _) => StartMode::Resume,
        (false, true) => StartMode::Overwrite,
        (false, false) => StartMode::New,
    };
    let options = TrainOptions {
        start,
        quiet: false,
        stop_after_epoch: None,
        momentum_cell: None,
        stop: stop_on_ctrl_c(),
    };
    let (runs, stopped) = match compare::train_all(&contenders, &options) {
        Ok(runs) => (runs, None),
        Err(compare::Stopped { runs, error }) if !runs.is_empty() => (runs, Some(error)),
        Err(compare::Stopped { error, .. }) => return Err(error.into()),
    };
    let first = &contenders[0].config;
    let data = format!(
        "Data: {} (train_limit {}, test_limit {}), seed {seed}, device {}.",
        first
            .data
            .dir
            .as_ref()
            .map_or("CIFAR-10 (downloaded)".into(), |d| d.display().to_string()),
        first.data.train_limit.map_or("all".into(), |n| n.to_string()),
        first.data.test_limit.map_or("all".into(), |n| n.to_string()),
        burn_lr::app::device::describe_all(first.training.device, &first.training.devices),
    );
    let target = compare::target(&runs, args.target_accuracy);
    // The comparison's command; a continued one says so after it.
    let mut command = command_line().replace(" --resume", "");
    if args.resume {
        command += "\n# continued with --resume";
    }
    let files = compare::write(&args.out, &runs, target, &command, &data)?;
    println!(
        "{}",
        compare::summary(&runs, target, &command, &data)
            .lines()
            .filter(|l| l.starts_with('|'))
            .collect::<Vec<_>>()
            .join("\n")
    );
    for f in files {
        println!("wrote {}", f.display());
    }
    match stopped {
        // The runs so far are summarized; the rest continue with --resume.
        Some(error) => Err(anyhow::Error::new(error).context(format!(
            "compare: stopped after {} of {} runs (summary of those written; the same command with --resume continues)",
            runs.len(),
            contenders.len()
        ))),
        None => Ok(()),
    }
}
