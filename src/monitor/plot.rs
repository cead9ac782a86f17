//! The PNG charts (1200x800, DejaVu Sans embedded, so no system font is needed): what a run
//! used and how it went, a schedule before training, the LR range test.
//!
//! | file | x | y |
//! |---|---|---|
//! | [`LR_SCHEDULE_PNG`] | optimizer update | LR (log), one line per group; momentum (right) |
//! | [`LOSS_PNG`] | epoch | training and validation loss |
//! | [`ACCURACY_PNG`] | epoch | validation accuracy, % |
//! | [`LR_FIND_PNG`] | LR (log) | smoothed loss; the suggestions marked |

use super::chart::{draw, Axis, Chart, Line, Marker, Thinner};
use super::error::MonitorError;
use super::lr_find::LrFindResult;
use super::lr_log::LrTrace;
use std::path::Path;

/// The LR schedule a run used (from `lr.csv`).
pub const LR_SCHEDULE_PNG: &str = "lr_schedule.png";
/// Training and validation loss per epoch.
pub const LOSS_PNG: &str = "loss.png";
/// Validation accuracy per epoch.
pub const ACCURACY_PNG: &str = "accuracy.png";
/// The LR range test.
pub const LR_FIND_PNG: &str = "lr_find.png";

/// Buckets per series at most (a long run is thinned to each bucket's extremes: at most two
/// points per bucket, fewer than the chart's pixels).
pub(super) const MAX_POINTS: u64 = 800;
/// Epoch boundaries marked at most (every k-th beyond that).
const MAX_BOUNDARIES: u64 = 60;

/// One epoch's results, for [`losses`] and [`accuracy`].
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct EpochPoint {
    /// Epoch, from 1.
    pub epoch: u64,
    /// Mean training loss.
    pub train_loss: f64,
    /// Mean validation loss.
    pub val_loss: f64,
    /// Validation accuracy, percent.
    pub val_acc: f64,
    /// The stepped model's validation loss and accuracy (percent) in a run that evaluates other
    /// weights (a weight average, schedule-free's `x`); `None` elsewhere.
    pub live: Option<(f64, f64)>,
}

/// Epoch boundary markers: the first update of epochs 2, 3, ... (every k-th when there are
/// many).
fn boundaries(starts: impl Iterator<Item = u64>, count: u64) -> Vec<Marker> {
    let every = count.div_ceil(MAX_BOUNDARIES).max(1);
    let label = if every == 1 {
        "epoch boundary".to_string()
    } else {
        format!("epoch boundary (every {every} epochs)")
    };
    starts
        .enumerate()
        .filter(|(i, _)| (*i as u64 + 1).is_multiple_of(every))
        .enumerate()
        .map(|(n, (_, x))| Marker {
            x: x as f64,
            label: (n == 0).then(|| label.clone()),
            strong: false,
        })
        .collect()
}

/// `lr_schedule.png`: the learning rate of every optimizer update of `trace` (an `lr.csv`) on
/// a log axis, one line per parameter group, the epoch boundaries, and the momentum on a second
/// axis where the schedule cycles it.
///
/// # Errors
/// [`MonitorError::Empty`] without rows; [`MonitorError::Plot`] / [`MonitorError::Io`].
pub fn lr_schedule(trace: &LrTrace, title: &str, path: &Path) -> Result<(), MonitorError> {
    if trace.rows.is_empty() {
        return Err(MonitorError::Empty(format!(
            "{}: no optimizer update to draw",
            path.display()
        )));
    }
    let total = trace.rows.len() as u64;
    let series = |f: &dyn Fn(&super::lr_log::LrRow) -> f64| {
        let mut t = Thinner::new(total, MAX_POINTS);
        trace.rows.iter().for_each(|r| t.push((r.step as f64, f(r))));
        t.finish()
    };
    let base = if trace.groups.is_empty() {
        "learning rate"
    } else {
        "base"
    };
    let mut lines = vec![Line::new(base, series(&|r| r.lr))];
    for (i, g) in trace.groups.iter().enumerate() {
        lines.push(Line::new(&format!("group \"{g}\""), series(&|r| r.group_lrs[i])));
    }
    let right = trace.momentum.then(|| {
        let m = Line::new("momentum", series(&|r| r.momentum.unwrap_or(f64::NAN))).dashed();
        (Axis::linear("momentum (SGD) / beta1 (Adam)"), vec![m])
    });
    let starts: Vec<u64> = trace
        .rows
        .windows(2)
        .filter(|w| w[1].epoch != w[0].epoch)
        .map(|w| w[1].step)
        .collect();
    let markers = boundaries(starts.iter().copied(), starts.len() as u64);
    draw(
        &Chart {
            title: title.into(),
            x: Axis::linear("optimizer update (step)"),
            y: Axis::log("learning rate (log scale)"),
            lines,
            right,
            markers,
        },
        path,
    )
}

/// A schedule before training (`burn-lr schedule --plot`): `rows` are the `(lr, momentum)` of
/// updates 0..`steps` (streamed, thinned to the extremes of 800 buckets), `updates_per_epoch` marks
/// the epochs, and `metrics` (a plateau schedule's feed, one per epoch) go on a second axis
/// (else the momentum, where cycled).
///
/// # Errors
/// As [`lr_schedule`].
pub fn schedule_preview(
    rows: impl Iterator<Item = (f64, Option<f64>)>,
    steps: u64,
    updates_per_epoch: u64,
    metrics: &[f64],
    title: &str,
    path: &Path,
) -> Result<(), MonitorError> {
    let (mut lr, mut momentum) = (Thinner::new(steps, MAX_POINTS), Thinner::new(steps, MAX_POINTS));
    let mut cycled = false;
    for (k, (l, m)) in rows.enumerate() {
        lr.push((k as f64, l));
        if let Some(m) = m {
            cycled = true;
            momentum.push((k as f64, m));
        }
    }
    let upe = updates_per_epoch.max(1);
    let epochs = steps.div_ceil(upe);
    let right = if !metrics.is_empty() {
        let fed = metrics
            .iter()
            .take(epochs as usize)
            .enumerate()
            .map(|(e, v)| (((e as u64 + 1) * upe) as f64, *v))
            .collect();
        Some((
            Axis::linear("metric fed at each epoch's end"),
            vec![Line::new("plateau metric", fed).with_markers()],
        ))
    } else {
        cycled.then(|| {
            let m = Line::new("momentum", momentum.finish()).dashed();
            (Axis::linear("momentum (SGD) / beta1 (Adam)"), vec![m])
        })
    };
    let markers = if epochs > 1 {
        boundaries((1..epochs).map(|e| e * upe), epochs - 1)
    } else {
        Vec::new()
    };
    draw(
        &Chart {
            title: title.into(),
            x: Axis::linear("optimizer update (step)"),
            y: Axis::log("learning rate (log scale)"),
            lines: vec![Line::new("learning rate", lr.finish())],
            right,
            markers,
        },
        path,
    )
}

fn per_epoch(points: &[EpochPoint], f: fn(&EpochPoint) -> f64) -> Vec<(f64, f64)> {
    points.iter().map(|p| (p.epoch as f64, f(p))).collect()
}

/// The label of the validation series: `validation loss`, or `validation loss (evaluated
/// weights)` beside the stepped weights' series.
fn validation(what: &str, points: &[EpochPoint]) -> String {
    match points.iter().any(|p| p.live.is_some()) {
        true => format!("validation {what} (evaluated weights)"),
        false => format!("validation {what}"),
    }
}

/// The stepped weights' series (`pick` from `(loss, accuracy)`), where any epoch has one.
fn live(points: &[EpochPoint], pick: fn((f64, f64)) -> f64) -> Option<Vec<(f64, f64)>> {
    let series: Vec<(f64, f64)> = points
        .iter()
        .filter_map(|p| p.live.map(|l| (p.epoch as f64, pick(l))))
        .collect();
    (!series.is_empty()).then_some(series)
}

/// `loss.png`: mean training and validation loss per epoch (and the stepped weights'
/// validation loss where [`EpochPoint::live`] has it).
///
/// # Errors
/// [`MonitorError::Empty`] without epochs; [`MonitorError::Plot`] / [`MonitorError::Io`].
pub fn losses(points: &[EpochPoint], title: &str, path: &Path) -> Result<(), MonitorError> {
    if points.is_empty() {
        return Err(MonitorError::Empty(format!(
            "{}: no finished epoch to draw",
            path.display()
        )));
    }
    let mut lines = vec![
        Line::new("training loss (epoch mean)", per_epoch(points, |p| p.train_loss)).with_markers(),
        Line::new(&validation("loss", points), per_epoch(points, |p| p.val_loss)).with_markers(),
    ];
    if let Some(live) = live(points, |(loss, _)| loss) {
        lines.push(Line::new("validation loss (stepped weights)", live).with_markers());
    }
    draw(
        &Chart {
            title: title.into(),
            x: Axis::integer("epoch"),
            y: Axis::linear("cross-entropy loss"),
            lines,
            right: None,
            markers: Vec::new(),
        },
        path,
    )
}

/// `accuracy.png`: validation accuracy per epoch, percent (and the stepped weights' where
/// [`EpochPoint::live`] has it).
///
/// # Errors
/// As [`losses`].
pub fn accuracy(points: &[EpochPoint], title: &str, path: &Path) -> Result<(), MonitorError> {
    if points.is_empty() {
        return Err(MonitorError::Empty(format!(
            "{}: no finished epoch to draw",
            path.display()
        )));
    }
    let mut lines = vec![Line::new(&validation("accuracy", points), per_epoch(points, |p| p.val_acc)).with_markers()];
    if let Some(live) = live(points, |(_, acc)| acc) {
        lines.push(Line::new("validation accuracy (stepped weights)", live).with_markers());
    }
    draw(
        &Chart {
            title: title.into(),
            x: Axis::integer("epoch"),
            y: Axis::linear("accuracy (%)"),
            lines,
            right: None,
            markers: Vec::new(),
        },
        path,
    )
}

/// `lr_find.png`: the smoothed loss of the range test against the learning rate (log axis),
/// the raw loss faint, each suggestion a vertical line.
///
/// # Errors
/// As [`losses`].
pub fn lr_find(result: &LrFindResult, path: &Path) -> Result<(), MonitorError> {
    if result.points.is_empty() {
        return Err(MonitorError::Empty(format!(
            "{}: the range test made no step",
            path.display()
        )));
    }
    let finite = |v: f64| v.is_finite().then_some(v);
    let smoothed = result
        .points
        .iter()
        .filter_map(|p| Some((p.lr, finite(p.smoothed_loss)?)))
        .collect();
    let raw = result
        .points
        .iter()
        .filter_map(|p| Some((p.lr, finite(p.loss)?)))
        .collect();
    let s = &result.suggestions;
    let markers = [
        ("steepest", s.steepest),
        ("valley", s.valley),
        ("minimum / 10", s.minimum),
    ]
    .into_iter()
    .filter_map(|(name, lr)| {
        lr.map(|lr| Marker {
            x: lr,
            label: Some(format!("{name}: {lr:.2e}")),
            strong: true,
        })
    })
    .collect();
    draw(
        &Chart {
            title: "LR range test (Smith 2017)".into(),
            x: Axis::log("learning rate (log scale)"),
            y: Axis::linear("training loss"),
            lines: vec![
                Line::new(
                    &format!("smoothed loss (EMA {}, bias-corrected)", result.beta),
                    smoothed,
                ),
                Line::new("loss of the batch", raw).dashed(),
            ],
            right: None,
            markers,
        },
        path,
    )
}
