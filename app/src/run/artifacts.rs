//! What a run leaves on disk: the per-epoch rows of `metrics.csv`, atomic writes, the newest
//! complete checkpoint.

use crate::error::TrainError;

use burn_lr::monitor::plot::EpochPoint;
use burn_lr::monitor::Output;
use std::path::Path;

/// One finished epoch, as printed and written to `metrics.csv`.
#[derive(Debug, Clone, PartialEq)]
pub struct EpochRecord {
    /// Epoch number, from 1.
    pub epoch: usize,
    /// Mean training loss over the epoch.
    pub train_loss: f64,
    /// Mean validation loss.
    pub val_loss: f64,
    /// Validation accuracy, percent.
    pub val_acc: f64,
    /// Learning rate of the epoch's last optimizer update.
    pub lr: f64,
    /// Wall time of the epoch (training, validation, checkpoint), seconds.
    pub seconds: f64,
    /// Training images of the epoch per second of its wall time.
    pub images_per_s: f64,
    /// In a run that validates other weights than it steps (`[averaging]`, a schedule-free
    /// optimizer): the stepped model's validation loss and accuracy (percent), equal to
    /// `val_loss`/`val_acc` while the average holds no model yet. `None` elsewhere.
    pub live: Option<(f64, f64)>,
}

impl EpochRecord {
    /// `epoch 3/30  train_loss 1.234  val_loss 1.102  val_acc 61.2%  lr 0.0841`; in a run that
    /// validates other weights (`evaluated`: their name, e.g. `swa`, and whether the stepped
    /// model was validated apart from them), `val_loss 1.102  val_acc 61.2% (swa; stepped 1.150
    /// 59.8%)`, or `(the stepped model: no swa yet)` before the average holds a model.
    pub fn line(&self, epochs: usize, evaluated: Option<(&str, bool)>) -> String {
        let live = match (self.live, evaluated) {
            (Some(_), Some((name, false))) => format!(" (the stepped model: no {name} yet)"),
            (Some((loss, acc)), Some((name, true))) => format!(" ({name}; stepped {loss:.3} {acc:.1}%)"),
            _ => String::new(),
        };
        format!(
            "epoch {}/{}  train_loss {:.3}  val_loss {:.3}  val_acc {:.1}%{live}  lr {:.4e}",
            self.epoch, epochs, self.train_loss, self.val_loss, self.val_acc, self.lr
        )
    }

    /// The row without its timing (`epoch, train_loss, val_loss, val_acc, lr`): what two runs
    /// of the same config and seed share bit for bit.
    pub fn results(&self) -> (usize, f64, f64, f64, f64) {
        (self.epoch, self.train_loss, self.val_loss, self.val_acc, self.lr)
    }

    /// The epoch's point of `loss.png` / `accuracy.png`.
    pub fn point(&self) -> EpochPoint {
        EpochPoint {
            epoch: self.epoch as u64,
            train_loss: self.train_loss,
            val_loss: self.val_loss,
            val_acc: self.val_acc,
            live: self.live,
        }
    }
}

/// Writes `contents` to `path`, a file burn-lr names itself, through the library's one writer
/// ([`burn_lr::monitor::write_file`] with [`Output::Own`]): a temporary file in the same folder
/// and a rename, so the file is either the old or the new version, never half-written; a path
/// where something other than a regular file stands (a link, a pipe, a device, a folder) is
/// refused, never replaced.
///
/// # Errors
/// [`TrainError::Monitor`] naming the path.
pub fn write_atomic(path: &Path, contents: &[u8]) -> Result<(), TrainError> {
    Ok(burn_lr::monitor::write_file(path, contents, Output::Own)?)
}

/// The header of `metrics.csv`.
pub const METRICS_HEADER: &str = "epoch,train_loss,val_loss,val_acc,lr,seconds,images_per_s";

/// The header of `metrics.csv` in a run that validates other weights than it steps: the
/// stepped model's validation loss and accuracy after the usual columns.
pub const METRICS_HEADER_LIVE: &str =
    "epoch,train_loss,val_loss,val_acc,lr,seconds,images_per_s,live_val_loss,live_val_acc";

/// Reads the rows of `metrics.csv`; a missing file has none.
///
/// # Errors
/// [`TrainError::Metrics`] naming the line that is not a row of seven numbers (a garbled file
/// is never silently shortened).
pub fn read_metrics_csv(path: &Path) -> Result<Vec<EpochRecord>, TrainError> {
    match std::fs::read_to_string(path) {
        Ok(text) => parse_metrics_csv(&text, path),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(Vec::new()),
        Err(source) => Err(TrainError::Io {
            path: path.to_path_buf(),
            source,
        }),
    }
}

/// The rows of a `metrics.csv` text (`path` names it in errors).
///
/// # Errors
/// As [`read_metrics_csv`].
pub fn parse_metrics_csv(text: &str, path: &Path) -> Result<Vec<EpochRecord>, TrainError> {
    let bad = |line: usize, why: String| TrainError::Metrics {
        path: path.to_path_buf(),
        line,
        why,
    };
    let mut lines = text.lines().enumerate();
    let header = match lines.next() {
        Some((_, header)) if [METRICS_HEADER, METRICS_HEADER_V1, METRICS_HEADER_LIVE].contains(&header.trim()) => {
            header.trim()
        }
        Some((_, header)) => return Err(bad(1, format!("header `{header}` is not `{METRICS_HEADER}`"))),
        None => return Ok(Vec::new()),
    };
    lines
        .filter(|(_, l)| !l.trim().is_empty())
        .map(|(i, line)| parse_row(line, header).map_err(|why| bad(i + 1, why)))
        .collect()
}

/// The header of runs written before the timing columns (read with NaN timings).
const METRICS_HEADER_V1: &str = "epoch,train_loss,val_loss,val_acc,lr";

fn parse_row(line: &str, header: &str) -> Result<EpochRecord, String> {
    let mut f: Vec<&str> = line.split(',').map(str::trim).collect();
    let width = header.split(',').count();
    if f.len() != width {
        return Err(format!("`{line}` has {} fields, expected {width} ({header})", f.len()));
    }
    let live = f.len() == 9;
    f.resize(9, "NaN");
    let num = |i: usize, name: &str| {
        f[i].parse::<f64>()
            .map_err(|_| format!("`{line}`: {name} `{}` is not a number", f[i]))
    };
    Ok(EpochRecord {
        epoch: f[0]
            .parse()
            .map_err(|_| format!("`{line}`: epoch `{}` is not a whole number", f[0]))?,
        train_loss: num(1, "train_loss")?,
        val_loss: num(2, "val_loss")?,
        val_acc: num(3, "val_acc")?,
        lr: num(4, "lr")?,
        seconds: num(5, "seconds")?,
        images_per_s: num(6, "images_per_s")?,
        live: match live {
            true => Some((num(7, "live_val_loss")?, num(8, "live_val_acc")?)),
            false => None,
        },
    })
}

/// `metrics.csv` text for `rows`.
/// (with the `live_val_loss,live_val_acc` columns when any row has them).
pub fn metrics_csv(rows: &[EpochRecord]) -> String {
    let live = rows.iter().any(|r| r.live.is_some());
    let mut text = format!("{}\n", if live { METRICS_HEADER_LIVE } else { METRICS_HEADER });
    for r in rows {
        text += &format!(
            "{},{},{},{},{},{},{}",
            r.epoch, r.train_loss, r.val_loss, r.val_acc, r.lr, r.seconds, r.images_per_s
        );
        if live {
            let (loss, acc) = r.live.unwrap_or((r.val_loss, r.val_acc));
            text += &format!(",{loss},{acc}");
        }
        text += "\n";
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rows_read_back_equal_and_an_older_header_reads_without_timing() {
        let tmp = tempfile::tempdir().unwrap();
        let path = tmp.path().join("metrics.csv");
        let row = EpochRecord {
            epoch: 1,
            train_loss: 2.25,
            val_loss: 2.0,
            val_acc: 31.5,
            lr: 0.1,
            seconds: 7.441,
            images_per_s: 172.3,
            live: None,
        };
        std::fs::write(&path, metrics_csv(std::slice::from_ref(&row))).unwrap();
        assert_eq!(read_metrics_csv(&path).unwrap(), vec![row.clone()]);
        let averaged = EpochRecord {
            live: Some((2.5, 28.25)),
            ..row.clone()
        };
        let text = metrics_csv(std::slice::from_ref(&averaged));
        assert!(text.starts_with(METRICS_HEADER_LIVE), "{text}");
        std::fs::write(&path, text).unwrap();
        assert_eq!(read_metrics_csv(&path).unwrap(), vec![averaged.clone()]);
        assert!(averaged
            .line(3, Some(("swa", true)))
            .contains("val_acc 31.5% (swa; stepped 2.500 28.2%)"));
        assert!(averaged
            .line(3, Some(("swa", false)))
            .contains("val_acc 31.5% (the stepped model: no swa yet)"));
        assert!(!row.line(3, None).contains("stepped"));
        std::fs::write(&path, "epoch,train_loss,val_loss,val_acc,lr\n1,2.25,2,31.5,0.1\n").unwrap();
        let old = read_metrics_csv(&path).unwrap();
        assert_eq!(old[0].results(), row.results());
        assert!(old[0].seconds.is_nan() && old[0].images_per_s.is_nan());
        std::fs::write(&path, "epoch,train_loss,val_loss,val_acc,lr\n1,2.25,2,31.5,0.1,7,8\n").unwrap();
        assert!(read_metrics_csv(&path).unwrap_err().to_string().contains("line 2"));
    }
}
