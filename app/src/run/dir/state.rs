//! The types of a run's directory: how the run treats it ([`StartMode`]), where the run starts
//! ([`Start`]), and the locked directory itself ([`RunDir`]) with what it names.

use super::ownership::Lock;
use crate::error::TrainError;
use crate::run::artifacts::EpochRecord;
use crate::run::layout::{CHECKPOINT_DIR, METRICS_CSV};
use std::path::{Path, PathBuf};

/// How a run treats its artifact directory (`--resume`, `--overwrite`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum StartMode {
    /// A new run; refused when the directory holds another run's artifacts.
    #[default]
    New,
    /// A new run after deleting the previous run's artifacts.
    Overwrite,
    /// Continue the run the directory holds.
    Resume,
}

impl StartMode {
    /// The mode of the `--resume` and `--overwrite` flags (clap refuses both at once).
    pub fn from_flags(resume: bool, overwrite: bool) -> Self {
        match (resume, overwrite) {
            (true, _) => Self::Resume,
            (false, true) => Self::Overwrite,
            (false, false) => Self::New,
        }
    }
}

/// Where a run starts.
#[derive(Debug, Clone, PartialEq)]
pub struct Start {
    /// The checkpoint epoch resumed from (`None`: from scratch).
    pub from: Option<usize>,
    /// The `metrics.csv` rows of the epochs before it.
    pub rows: Vec<EpochRecord>,
    /// One warning line for each newer checkpoint that was not usable or is trained again (and
    /// for epochs without a `metrics.csv` row).
    pub skipped: Vec<String>,
    /// One note for each of the run's files rebuilt from the checkpoint's seal.
    pub restored: Vec<String>,
    /// `lr.csv` as sealed with the checkpoint resumed from (the rows of its epochs).
    pub lr_csv: Option<String>,
    /// The finished run's last epoch, when the resume starts before it to train up to it again:
    /// its kept weights (`model.bpk`) are missing and need that epoch's training batches.
    pub kept_after: Option<usize>,
}

/// An artifact directory locked by this process for one run (the run's config is passed to each
/// step that needs it, never kept here).
#[derive(Debug)]
pub struct RunDir {
    pub(super) lock: Lock,
    pub(super) mode: StartMode,
}

impl RunDir {
    /// The directory.
    pub fn path(&self) -> &Path {
        self.lock.path()
    }

    /// The checkpoint folder.
    pub fn checkpoints(&self) -> PathBuf {
        self.path().join(CHECKPOINT_DIR)
    }

    /// `metrics.csv`.
    pub fn metrics_csv(&self) -> PathBuf {
        self.path().join(METRICS_CSV)
    }
}

impl Start {
    /// A resume that starts before a finished run's last epoch to write its kept weights
    /// ([`Self::kept_after`]) but would stop short of that epoch (`--stop-after-epoch`) is refused
    /// before any file changes: it would drop sealed epochs and not train them all again.
    ///
    /// # Errors
    /// [`TrainError::Settings`] naming `--stop-after-epoch` and the epochs it would drop.
    pub fn refuse_short_of_kept(&self, last_epoch: usize) -> Result<(), TrainError> {
        match (self.kept_after, self.from) {
            (Some(epoch), Some(from)) if last_epoch < epoch => Err(TrainError::Settings(format!(
                "--stop-after-epoch {last_epoch}: the run finished epoch {epoch} but its model.bpk is missing, and \
                 writing it trains epochs {}..={epoch} again, past epoch {last_epoch}; resume without \
                 --stop-after-epoch",
                from + 1
            ))),
            _ => Ok(()),
        }
    }
}
