//! `burn-lr find-lr`: the LR range test on a config's model and data.

use super::train::{train_config, TrainArgs};
use crate::device::DeviceName;
use crate::error::TrainError;
use crate::run as training;
use anyhow::Result;
use burn_lr::monitor::{LrFindConfig, LrFindMode};
use clap::Args;
use std::path::PathBuf;

/// `burn-lr find-lr` options.
#[derive(Args)]
pub(super) struct FindLrArgs {
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
    #[arg(long, allow_negative_numbers = true)]
    train_limit: Option<usize>,
    /// Batch size.
    #[arg(long, allow_negative_numbers = true)]
    batch_size: Option<usize>,
    /// Learning rate of the first update.
    #[arg(long, allow_negative_numbers = true, default_value_t = 1e-7)]
    start_lr: f64,
    /// Learning rate of the last update.
    #[arg(long, allow_negative_numbers = true, default_value_t = 10.0)]
    end_lr: f64,
    /// Optimizer updates (one batch each) at most.
    #[arg(long, allow_negative_numbers = true, default_value_t = 100)]
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

/// The range test's settings, checked, with errors by their flag names.
fn settings(args: &FindLrArgs) -> Result<LrFindConfig, TrainError> {
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
    Ok(settings)
}

pub(super) fn run(args: FindLrArgs) -> Result<()> {
    let settings = settings(&args)?;
    let args_as_train = TrainArgs {
        config: args.config,
        data_dir: args.data_dir,
        device: args.device,
        train_limit: args.train_limit,
        batch_size: args.batch_size,
        ..TrainArgs::default()
    };
    let mut cfg = train_config(&args_as_train, "find-lr")?;
    // The range test reads no test image: the config's test subset does not apply.
    cfg.data.test_limit = None;
    let (out, what) = match args.out {
        Some(out) => (out, "--out"),
        None => (
            cfg.training.artifact_dir.clone(),
            "--out (default: the config's artifact directory)",
        ),
    };
    crate::paths::check_output_dir(&out, what)?;
    for file in [crate::run::layout::LR_FIND_CSV, crate::run::layout::LR_FIND_PNG] {
        crate::paths::check_own_file(&out, file, what, "find-lr")?;
    }
    burn_lr::monitor::remove_stale_temp_files(&out);
    let start = std::time::Instant::now();
    let data = training::load_data(&cfg)?;
    say!(
        "{:?} on {}: {} training images, batch {} (loaded in {:.1}s)",
        cfg.model.arch,
        crate::device::describe(cfg.training.device),
        data.train.len(),
        cfg.training.batch_size,
        start.elapsed().as_secs_f64()
    );
    let found = crate::find_lr::find_lr(&cfg, data, &settings, &out)?;
    for line in crate::find_lr::report(&found, &settings) {
        say!("{line}");
    }
    say!("in {:.1}s", start.elapsed().as_secs_f64());
    Ok(())
}
