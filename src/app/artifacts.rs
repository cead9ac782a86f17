//! What a run leaves on disk: the per-epoch rows of `metrics.csv`, atomic writes, the newest
//! complete checkpoint.

use super::run::TrainError;

/// Temporary files of an unfinished [`write_atomic`] start with this (a killed run's leftovers
/// are removed when the next run locks the directory).
pub const TMP_PREFIX: &str = ".burn-lr-tmp-";
use std::io::Write;
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
}

impl EpochRecord {
    /// `epoch 3/30  train_loss 1.234  val_loss 1.102  val_acc 61.2%  lr 0.0841`.
    pub fn line(&self, epochs: usize) -> String {
        format!(
            "epoch {}/{}  train_loss {:.3}  val_loss {:.3}  val_acc {:.1}%  lr {:.4e}",
            self.epoch, epochs, self.train_loss, self.val_loss, self.val_acc, self.lr
        )
    }
}

/// Writes `contents` to `path` through a temporary file in the same folder and a rename, so the
/// file is either the old or the new version, never half-written.
///
/// # Errors
/// [`TrainError::Io`].
pub fn write_atomic(path: &Path, contents: &[u8]) -> Result<(), TrainError> {
    let dir = path
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let io = |source| TrainError::Io {
        path: path.to_path_buf(),
        source,
    };
    std::fs::create_dir_all(dir).map_err(io)?;
    let mut tmp = tempfile::Builder::new()
        .prefix(TMP_PREFIX)
        .tempfile_in(dir)
        .map_err(io)?;
    tmp.write_all(contents).map_err(io)?;
    tmp.as_file().sync_all().map_err(io)?;
    // A temporary file is private (0600); the artifact is an ordinary file (0644).
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        tmp.as_file()
            .set_permissions(std::fs::Permissions::from_mode(0o644))
            .map_err(io)?;
    }
    tmp.persist(path).map_err(|e| io(e.error))?;
    Ok(())
}

/// The header of `metrics.csv`.
pub const METRICS_HEADER: &str = "epoch,train_loss,val_loss,val_acc,lr";

/// Reads the rows of `metrics.csv`; a missing file has none.
///
/// # Errors
/// [`TrainError::Metrics`] naming the line that is not a row of five numbers (a garbled file
/// is never silently shortened).
pub fn read_metrics_csv(path: &Path) -> Result<Vec<EpochRecord>, TrainError> {
    let text = match std::fs::read_to_string(path) {
        Ok(text) => text,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(source) => {
            return Err(TrainError::Io {
                path: path.to_path_buf(),
                source,
            })
        }
    };
    let bad = |line: usize, why: String| TrainError::Metrics {
        path: path.to_path_buf(),
        line,
        why,
    };
    let mut lines = text.lines().enumerate();
    match lines.next() {
        Some((_, header)) if header.trim() == METRICS_HEADER => {}
        Some((_, header)) => return Err(bad(1, format!("header `{header}` is not `{METRICS_HEADER}`"))),
        None => return Ok(Vec::new()),
    }
    lines
        .filter(|(_, l)| !l.trim().is_empty())
        .map(|(i, line)| parse_row(line).map_err(|why| bad(i + 1, why)))
        .collect()
}

fn parse_row(line: &str) -> Result<EpochRecord, String> {
    let f: Vec<&str> = line.split(',').map(str::trim).collect();
    if f.len() != 5 {
        return Err(format!(
            "`{line}` has {} fields, expected 5 ({METRICS_HEADER})",
            f.len()
        ));
    }
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
    })
}

/// `metrics.csv` text for `rows`.
pub fn metrics_csv(rows: &[EpochRecord]) -> String {
    let mut text = format!("{METRICS_HEADER}\n");
    for r in rows {
        text += &format!("{},{},{},{},{}\n", r.epoch, r.train_loss, r.val_loss, r.val_acc, r.lr);
    }
    text
}
