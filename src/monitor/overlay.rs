//! Charts of several runs on one set of axes (`burn-lr compare`): validation accuracy against
//! epoch, and the learning rate against the optimizer update on a log axis. Same format as
//! [`super::plot`] (1200x800 PNG, embedded font).

use super::chart::{draw, Axis, Chart, Line, Thinner};
use super::error::MonitorError;
use super::lr_log::LrTrace;
use super::plot::{EpochPoint, MAX_POINTS};
use std::path::Path;

/// Validation accuracy of every run against epoch.
pub const COMPARE_ACCURACY_PNG: &str = "compare_accuracy.png";
/// The learning rate of every run against the optimizer update.
pub const COMPARE_LR_PNG: &str = "compare_lr.png";

/// Validation accuracy (percent) against epoch, one line per `(name, epochs)` run; a
/// horizontal dashed line at `target` (percent) when given.
///
/// # Errors
/// [`MonitorError::Empty`] when no run has a finished epoch; [`MonitorError::Plot`] /
/// [`MonitorError::Io`].
pub fn accuracy(
    runs: &[(&str, &[EpochPoint])],
    target: Option<f64>,
    title: &str,
    path: &Path,
) -> Result<(), MonitorError> {
    let mut lines: Vec<Line> = runs
        .iter()
        .filter(|(_, points)| !points.is_empty())
        .map(|(name, points)| {
            Line::new(name, points.iter().map(|p| (p.epoch as f64, p.val_acc)).collect()).with_markers()
        })
        .collect();
    if lines.is_empty() {
        return Err(MonitorError::Empty(format!(
            "{}: no finished epoch to draw",
            path.display()
        )));
    }
    if let Some(t) = target {
        let last = runs
            .iter()
            .flat_map(|(_, p)| p.iter().map(|p| p.epoch))
            .max()
            .unwrap_or(1);
        lines.push(Line::new(&format!("target {t:.2}%"), vec![(1.0, t), (last as f64, t)]).dashed());
    }
    draw(
        &Chart {
            title: title.into(),
            x: Axis::integer("epoch"),
            y: Axis::linear("validation accuracy (%)"),
            lines,
            right: None,
            markers: Vec::new(),
        },
        path,
    )
}

/// The base learning rate of every optimizer update (from each run's `lr.csv`), one line per
/// `(name, trace)` run, on a log axis.
///
/// # Errors
/// [`MonitorError::Empty`] when no run has an update; [`MonitorError::Plot`] /
/// [`MonitorError::Io`].
pub fn learning_rate(runs: &[(&str, &LrTrace)], title: &str, path: &Path) -> Result<(), MonitorError> {
    let lines: Vec<Line> = runs
        .iter()
        .filter(|(_, trace)| !trace.rows.is_empty())
        .map(|(name, trace)| {
            let mut t = Thinner::new(trace.rows.len() as u64, MAX_POINTS);
            trace.rows.iter().for_each(|r| t.push((r.step as f64, r.lr)));
            Line::new(name, t.finish())
        })
        .collect();
    if lines.is_empty() {
        return Err(MonitorError::Empty(format!(
            "{}: no optimizer update to draw",
            path.display()
        )));
    }
    draw(
        &Chart {
            title: title.into(),
            x: Axis::linear("optimizer update (step)"),
            y: Axis::log("learning rate (log scale)"),
            lines,
            right: None,
            markers: Vec::new(),
        },
        path,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn points(accs: &[f64]) -> Vec<EpochPoint> {
        accs.iter()
            .enumerate()
            .map(|(i, &a)| EpochPoint {
                epoch: i as u64 + 1,
                train_loss: 1.0,
                val_loss: 1.0,
                val_acc: a,
                live: None,
            })
            .collect()
    }

    #[test]
    fn no_epoch_is_an_empty_chart_error_and_runs_draw() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(COMPARE_ACCURACY_PNG);
        let none: Vec<EpochPoint> = Vec::new();
        assert!(matches!(
            accuracy(&[("a", &none)], None, "t", &path),
            Err(MonitorError::Empty(_))
        ));
        let (a, b) = (points(&[40.0, 50.0]), points(&[45.0, 55.0, 60.0]));
        accuracy(&[("fixed", &a), ("one_cycle", &b)], Some(50.0), "t", &path).unwrap();
        let img = image::open(&path).unwrap();
        assert_eq!((img.width(), img.height()), (1200, 800));
    }
}
