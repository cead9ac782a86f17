//! `burn-lr plot`: redraw a run's charts from its `lr.csv` and `metrics.csv`.

use crate::error::TrainError;
use crate::run::layout::METRICS_CSV;
use anyhow::{bail, Result};
use burn_lr::monitor::plot::{ACCURACY_PNG, LOSS_PNG, LR_SCHEDULE_PNG};
use burn_lr::monitor::LR_CSV;
use clap::Args;
use std::path::PathBuf;

/// `burn-lr plot` options.
#[derive(Args)]
pub(super) struct PlotArgs {
    /// The run's artifact directory.
    dir: PathBuf,
}

pub(super) fn run(args: PlotArgs) -> Result<()> {
    crate::paths::check_existing_dir(&args.dir, "the run's artifact directory")?;
    if !args.dir.join(METRICS_CSV).is_file() && !args.dir.join(LR_CSV).is_file() {
        return Err(TrainError::Settings(format!(
            "{}: no {LR_CSV} or {METRICS_CSV} here; give a run's artifact directory",
            args.dir.display()
        ))
        .into());
    }
    for file in [METRICS_CSV, LR_CSV] {
        // Read whole: a pipe or a device there would block or never end.
        let path = args.dir.join(file);
        if std::fs::metadata(&path).is_ok_and(|m| !m.is_file()) {
            return Err(TrainError::Settings(format!(
                "{}: is not a regular file; `burn-lr plot` reads a run's {file} (give a run's artifact directory)",
                path.display()
            ))
            .into());
        }
    }
    for file in [LR_SCHEDULE_PNG, LOSS_PNG, ACCURACY_PNG] {
        crate::paths::check_own_file(&args.dir, file, "run directory", "plot")?;
    }
    burn_lr::monitor::remove_stale_temp_files(&args.dir);
    let (drawn, problems) = crate::run::monitoring::draw_plots(&args.dir);
    if drawn.is_empty() {
        let why: Vec<&str> = problems.iter().map(|p| p.what.as_str()).collect();
        bail!("{}: nothing to draw ({})", args.dir.display(), why.join("; "));
    }
    for p in &problems {
        tell!("note: {}", p.what);
    }
    for path in &drawn {
        say!("wrote {}", path.display());
    }
    Ok(())
}
