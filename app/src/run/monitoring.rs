//! What a run leaves to look at, through the library's [`burn_lr::monitor`]: `lr.csv` and a
//! TensorBoard event file written as the run goes (continued on `--resume`), and the PNG plots
//! drawn at its end or by `burn-lr plot <artifact-dir>`.

use crate::error::TrainError;
use crate::run::artifacts::{read_metrics_csv, EpochRecord};
use crate::run::hook::epoch_scalars;
use crate::run::layout::*;
use burn_lr::learner::{LearnerSchedule, LrObserver, LrUpdate};
use burn_lr::monitor::plot::{self, ACCURACY_PNG, LOSS_PNG, LR_SCHEDULE_PNG};
use burn_lr::monitor::{read_lr_csv, LrLog, Output, TensorBoardLog, LR_CSV};
use std::path::{Path, PathBuf};

/// The logs a run writes as it goes.
pub struct RunLogs {
    /// `lr.csv`.
    pub lr: LrLog,
    /// `tensorboard/events.out.tfevents.*`.
    pub tensorboard: TensorBoardLog,
}

impl RunLogs {
    /// The first write error of either log, as a warning line.
    pub fn errors(&self) -> Vec<String> {
        [self.lr.error(), self.tensorboard.error()]
            .into_iter()
            .flatten()
            .collect()
    }
}

/// Opens the logs of a run starting after epoch `from` (0 for a new run) in `dir`: `lr.csv`
/// keeps the updates before the first one this run makes; the TensorBoard file is started anew
/// with what the run keeps (`lr.csv`'s rows and the `metrics.csv` `rows`), so no step appears
/// twice. Returns `schedule` reporting to both.
///
/// # Errors
/// [`TrainError::Monitor`]: a log cannot be written, or an existing `lr.csv` is not this run's.
pub fn attach(
    dir: &Path,
    schedule: LearnerSchedule,
    from: usize,
    rows: &[EpochRecord],
) -> Result<(LearnerSchedule, RunLogs), TrainError> {
    let first_step = from as u64 * schedule.run().updates_per_epoch;
    let groups = schedule.group_params();
    let momentum = schedule.momentum().is_some();
    let lr = LrLog::create(&dir.join(LR_CSV), &groups, momentum, first_step)?;
    let mut tensorboard = TensorBoardLog::create(&dir.join(TENSORBOARD_DIR), &groups)?;
    for row in lr.kept_rows() {
        tensorboard.observe(&LrUpdate {
            step: row.step,
            epoch: row.epoch,
            lr: row.lr,
            group_lrs: &row.group_lrs,
            momentum: row.momentum,
        });
    }
    for row in rows {
        tensorboard.epoch(row.epoch as u64, &epoch_scalars(row));
    }
    let (mut to_csv, mut to_tb) = (lr.clone(), tensorboard.clone());
    let schedule = schedule.with_observer(move |u: &LrUpdate<'_>| {
        to_csv.observe(u);
        to_tb.observe(u);
    });
    Ok((schedule, RunLogs { lr, tensorboard }))
}

/// Draws `lr_schedule.png`, `loss.png` and `accuracy.png` in the artifact directory `dir` from
/// its `lr.csv` and `metrics.csv`. Returns the files drawn and why each other chart could not
/// be drawn (a run that stopped before its first epoch has no loss to draw yet).
pub fn draw_plots(dir: &Path) -> (Vec<PathBuf>, Vec<ChartProblem>) {
    let (mut drawn, mut problems) = (Vec::new(), Vec::new());
    let name = dir
        .file_name()
        .map_or(String::new(), |n| format!(" ({})", n.to_string_lossy()));
    let mut keep = |path: PathBuf, result: Result<(), ChartProblem>| match result {
        Ok(()) => drawn.push(path),
        Err(e) => problems.push(e),
    };
    // The charts are the run's own files: what is not a regular file there is refused right
    // before drawing (the library's chart functions write into a pipe at a path you give them).
    let own = |path: &Path| burn_lr::monitor::check_output(path, Output::Own);
    let lr_path = dir.join(LR_SCHEDULE_PNG);
    let lr = own(&lr_path)
        .and_then(|()| read_lr_csv(&dir.join(LR_CSV)))
        .and_then(|trace| plot::lr_schedule(&trace, &format!("Learning rate per optimizer update{name}"), &lr_path));
    keep(lr_path, lr.map_err(ChartProblem::from));
    let points: Result<Vec<_>, ChartProblem> = read_metrics_csv(&dir.join(METRICS_CSV))
        .map(|rows| rows.iter().map(EpochRecord::point).collect())
        .map_err(|e| ChartProblem {
            what: e.to_string(),
            nothing_yet: false,
        });
    for (file, chart, title) in [
        (LOSS_PNG, plot::losses as fn(&_, &_, &_) -> _, "Loss per epoch"),
        (ACCURACY_PNG, plot::accuracy, "Validation accuracy per epoch"),
    ] {
        let path = dir.join(file);
        let result = points.clone().and_then(|p| {
            own(&path)
                .and_then(|()| chart(&p, &format!("{title}{name}"), &path))
                .map_err(ChartProblem::from)
        });
        keep(path, result);
    }
    (drawn, problems)
}

/// A chart [`draw_plots`] could not draw.
#[derive(Debug, Clone)]
pub struct ChartProblem {
    /// Why, in one line.
    pub what: String,
    /// Nothing to draw yet (no update or no finished epoch): expected for a run that stopped
    /// early, not an error.
    pub nothing_yet: bool,
}

impl From<burn_lr::monitor::MonitorError> for ChartProblem {
    fn from(e: burn_lr::monitor::MonitorError) -> Self {
        Self {
            nothing_yet: matches!(e, burn_lr::monitor::MonitorError::Empty(_)),
            what: e.to_string(),
        }
    }
}

/// After a run, whatever its outcome: the log write errors as warnings, then the plots of what
/// the run did.
pub fn finish(dir: &Path, logs: &RunLogs, quiet: bool) {
    for e in logs.errors() {
        tell!("warning: {e}");
    }
    let (drawn, problems) = draw_plots(dir);
    if quiet {
        return;
    }
    for p in problems.iter().filter(|p| !p.nothing_yet) {
        tell!("warning: {}", p.what);
    }
    if !drawn.is_empty() {
        let names: Vec<String> = drawn
            .iter()
            .filter_map(|p| p.file_name().map(|n| n.to_string_lossy().into_owned()))
            .collect();
        let dir = dir.display();
        say!(
            "plots: {} in {dir} (redraw: burn-lr plot {dir}; TensorBoard: tensorboard --logdir {dir}/{})",
            names.join(", "),
            TENSORBOARD_DIR
        );
    }
}
