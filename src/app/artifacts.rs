//! What a run leaves on disk: the per-epoch rows of `metrics.csv`, atomic writes, the newest
//! complete checkpoint.

use super::run::TrainError;
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
    let mut tmp = tempfile::NamedTempFile::new_in(dir).map_err(io)?;
    tmp.write_all(contents).map_err(io)?;
    tmp.persist(path).map_err(|e| io(e.error))?;
    Ok(())
}

/// The newest epoch `N` with `model-N.bpk`, `optim-N.bpk` and `scheduler-N.bpk` in
/// `artifact_dir/checkpoint`.
pub fn latest_checkpoint(artifact_dir: &Path) -> Option<usize> {
    let dir = artifact_dir.join("checkpoint");
    std::fs::read_dir(&dir)
        .ok()?
        .filter_map(|e| e.ok())
        .filter_map(|e| {
            let name = e.file_name().into_string().ok()?;
            name.strip_prefix("model-")?.strip_suffix(".bpk")?.parse::<usize>().ok()
        })
        .filter(|n| {
            ["optim", "scheduler"]
                .iter()
                .all(|k| dir.join(format!("{k}-{n}.bpk")).is_file())
        })
        .max()
}

/// Reads `metrics.csv` rows (an unreadable file gives none).
pub fn read_metrics_csv(path: &Path) -> Vec<EpochRecord> {
    let Ok(text) = std::fs::read_to_string(path) else {
        return Vec::new();
    };
    text.lines()
        .skip(1)
        .filter_map(|line| {
            let f: Vec<&str> = line.split(',').collect();
            Some(EpochRecord {
                epoch: f.first()?.parse().ok()?,
                train_loss: f.get(1)?.parse().ok()?,
                val_loss: f.get(2)?.parse().ok()?,
                val_acc: f.get(3)?.parse().ok()?,
                lr: f.get(4)?.parse().ok()?,
            })
        })
        .collect()
}
