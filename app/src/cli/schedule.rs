//! `burn-lr schedule`: a schedule's LR (and momentum) per optimizer update, as CSV or a chart,
//! without training.

use crate::config::ConfigPart;
use anyhow::{bail, Context, Result};
use burn_lr::schedule::RunInfo;
use clap::Args;
use std::io::Write;
use std::path::{Path, PathBuf};

/// `burn-lr schedule` options.
#[derive(Args)]
pub(super) struct ScheduleArgs {
    /// TOML with a [scheduler] table (and [optimizer] lr for schedules that scale it): a
    /// training config, or any part of one.
    #[arg(long)]
    config: PathBuf,
    /// Number of optimizer updates (rows).
    #[arg(
        long,
        allow_negative_numbers = true,
        required_unless_present = "epochs",
        conflicts_with = "epochs"
    )]
    steps: Option<u64>,
    /// Number of epochs (rows = epochs x --steps-per-epoch).
    #[arg(long, allow_negative_numbers = true)]
    epochs: Option<u64>,
    /// Optimizer updates per epoch (epoch-unit schedules change every K rows).
    #[arg(long, allow_negative_numbers = true, default_value_t = 1)]
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

/// The base LR a preview needs (`[optimizer] lr`; schedules that set an absolute LR need none).
fn base_lr(part: &ConfigPart, config: &Path) -> Result<f64> {
    match part.lr {
        Some(lr) => Ok(lr),
        None if part.scheduler.uses_base_lr() => bail!(
            "{}: [optimizer] lr is required for a `{}` schedule (it scales the base LR)",
            config.display(),
            part.scheduler.kind()
        ),
        None => Ok(0.0),
    }
}

pub(super) fn run(args: ScheduleArgs) -> Result<()> {
    let config = &args.config;
    crate::paths::check_existing_file(config, "--config")?;
    let part = ConfigPart::from_file(config)?;
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
    let base_lr = base_lr(&part, config)?;
    let steps = match (args.steps, args.epochs) {
        (Some(steps), _) => steps,
        (None, Some(epochs)) => epochs
            .checked_mul(args.steps_per_epoch)
            .context("--epochs x --steps-per-epoch overflows")?,
        (None, None) => bail!("give --steps or --epochs"),
    };
    let scheduler = &part.scheduler;
    let rows = crate::preview::preview_rows(scheduler, base_lr, steps, args.steps_per_epoch, &metrics)?;
    check_groups(&part, steps, args.steps_per_epoch)?;
    if let Some(png) = &args.plot {
        crate::paths::check_output_file(png, "--plot")?;
        if let Some(folder) = png.parent().filter(|p| !p.as_os_str().is_empty()) {
            burn_lr::monitor::remove_stale_temp_files(folder);
        }
        let name = config
            .file_name()
            .map_or(String::new(), |n| n.to_string_lossy().into_owned());
        let title = format!(
            "{name}: {}, {steps} updates ({} per epoch)",
            scheduler.kind(),
            args.steps_per_epoch
        );
        burn_lr::monitor::plot::schedule_preview(rows, steps, args.steps_per_epoch, &metrics, &title, png)?;
        say!("wrote {}", png.display());
        return Ok(());
    }
    if let Err(e) = write_csv(rows, scheduler.cycles_momentum()) {
        // `| head`, `> /dev/full`: the process ends quietly (cli::main), as when `say!` fails.
        crate::out::record_stdout_failure(e.kind());
    }
    Ok(())
}

/// Each `[[param_groups]]` schedule builds for the same rows (the preview shows the base one).
fn check_groups(part: &ConfigPart, steps: u64, steps_per_epoch: u64) -> Result<()> {
    for (i, group) in part.param_groups.iter().enumerate() {
        let schedule = group.scheduler.as_ref().unwrap_or(&part.scheduler);
        let run = RunInfo {
            base_lr: group.lr.or(part.lr).unwrap_or(0.0),
            updates_per_epoch: steps_per_epoch,
            total_updates: steps.max(1),
        };
        schedule
            .init(&run)
            .with_context(|| format!("[[param_groups]] #{} (in the file's order)", i + 1))?;
    }
    Ok(())
}

/// Streams `step,lr[,momentum]` rows to stdout; a row of a child that does not cycle momentum
/// leaves it empty (the optimizer's own momentum applies there).
fn write_csv(rows: impl Iterator<Item = (f64, Option<f64>)>, with_momentum: bool) -> std::io::Result<()> {
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
