//! `burn-lr compare`: several configs trained on the same data with the same seed, one after
//! the other; `summary.md` and overlay charts.

use super::train::{stop_on_ctrl_c, train_config, TrainArgs};
use crate::compare::{self, Contender};
use crate::device::DeviceName;
use crate::error::TrainError;
use crate::run::dir::StartMode;
use crate::run::TrainOptions;
use anyhow::Result;
use clap::Args;
use std::path::PathBuf;

/// `burn-lr compare` options (the data, device and epoch flags apply to every config).
#[derive(Args)]
pub(super) struct CompareArgs {
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
    #[arg(long, allow_negative_numbers = true)]
    epochs: Option<usize>,
    /// Train every run on a class-balanced subset of this many images.
    #[arg(long, allow_negative_numbers = true)]
    train_limit: Option<usize>,
    /// Evaluate every run on a class-balanced subset of this many test images.
    #[arg(long, allow_negative_numbers = true)]
    test_limit: Option<usize>,
    /// Seed of every run (default: the first config's [training] seed).
    #[arg(long, allow_negative_numbers = true)]
    seed: Option<u64>,
    /// Target validation accuracy in percent, in (0, 100] (default: the first run's final
    /// accuracy).
    #[arg(long, allow_negative_numbers = true)]
    target_accuracy: Option<f64>,
    /// Continue an interrupted comparison (the same command): runs with a checkpoint resume
    /// (finished ones are kept), the others start.
    #[arg(long, conflicts_with = "overwrite")]
    resume: bool,
    /// Delete runs already in the run directories under --out first.
    #[arg(long)]
    overwrite: bool,
}

fn command_line() -> String {
    let quote = |a: String| if a.contains(' ') { format!("'{a}'") } else { a };
    let mut args: Vec<String> = std::env::args().map(quote).collect();
    if let Some(first) = args.first_mut() {
        *first = "burn-lr".into();
    }
    args.join(" ")
}

pub(super) fn run(args: CompareArgs) -> Result<()> {
    crate::paths::check_output_dir(&args.out, "--out")?;
    for file in compare::OWN_FILES {
        crate::paths::check_own_file(&args.out, file, "--out", "compare")?;
    }
    if let Some(t) = args.target_accuracy {
        if !(t > 0.0 && t <= 100.0) {
            return Err(TrainError::Settings(format!("--target-accuracy = {t}: a percentage in (0, 100]")).into());
        }
    }
    let names = args
        .configs
        .iter()
        .map(|path| compare::run_name(path))
        .collect::<Result<Vec<_>, _>>()?;
    compare::check_names(&names)?;
    // A killed comparison's temporary files (summary.md, charts) go now.
    burn_lr::monitor::remove_stale_temp_files(&args.out);
    let mut contenders = Vec::new();
    for (path, name) in args.configs.iter().zip(names) {
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
    let options = TrainOptions {
        start: StartMode::from_flags(args.resume, args.overwrite),
        stop: stop_on_ctrl_c(),
        ..TrainOptions::default()
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
        crate::device::describe_all(first.training.device, &first.training.devices, first.training.strategy),
    );
    let target = compare::target(&runs, args.target_accuracy);
    // The comparison's command; a continued one says so after it.
    let mut command = command_line().replace(" --resume", "");
    if args.resume {
        command += "\n# continued with --resume";
    }
    let files = compare::write(&args.out, &runs, target, &command, &data)?;
    say!(
        "{}",
        compare::summary(&runs, target, &command, &data)
            .lines()
            .filter(|l| l.starts_with('|'))
            .collect::<Vec<_>>()
            .join("\n")
    );
    for f in files {
        say!("wrote {}", f.display());
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
