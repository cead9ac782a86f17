//! The errors of a training run, each one line naming what, where, and what to do.

use burn_lr::schedule::ScheduleError;
use std::path::PathBuf;

/// Errors of a training run.
#[derive(Debug, thiserror::Error)]
pub enum TrainError {
    /// Bad data.
    #[error(transparent)]
    Data(#[from] super::data::DataError),
    /// Bad schedule parameters, a parameter group matching nothing, or a checkpoint of another
    /// schedule.
    #[error(transparent)]
    Schedule(#[from] ScheduleError),
    /// Optimizer settings outside what PyTorch allows.
    #[error(transparent)]
    Optimizer(#[from] burn_lr::optim::InvalidOptimizerParam),
    /// A weight average or schedule-free optimizer that cannot be set up or resumed.
    #[error(transparent)]
    Averaging(#[from] burn_lr::averaging::AveragingError),
    /// A device, strategy or precision the run cannot use.
    #[error(transparent)]
    Device(#[from] crate::device::DeviceError),
    /// Another process trains into the artifact directory.
    #[error("{}: another burn-lr run is using this artifact directory ({holder}); wait for it to finish or choose another --artifact-dir", dir.display())]
    Busy {
        /// The directory.
        dir: PathBuf,
        /// The lock file's text (`pid N on HOST`).
        holder: String,
    },
    /// A new run into a directory that holds another run.
    #[error("{}: holds another run ({what}); continue it with --resume, choose another --artifact-dir, or pass --overwrite to delete that run first", dir.display())]
    HasRun {
        /// The directory.
        dir: PathBuf,
        /// What is there.
        what: String,
    },
    /// The artifact directory holds files no run wrote where a run writes (e.g. an image folder).
    #[error("{}: holds {what}, which no burn-lr run wrote; remove it or choose another --artifact-dir (a run writes train/, valid/, checkpoint/ and its files there)", dir.display())]
    NotOurs {
        /// The directory.
        dir: PathBuf,
        /// The first such file or folder.
        what: String,
    },
    /// `--resume` into a directory whose run is not readable.
    #[error("--resume: {} is not a burn-lr run that can be continued ({why})", dir.display())]
    NotARun {
        /// The directory.
        dir: PathBuf,
        /// What is missing or unreadable.
        why: String,
    },
    /// `--resume` without an intact checkpoint.
    #[error("--resume: no complete checkpoint (model-N, optim-N and scheduler-N .bpk with their .md5 seals) in {}: nothing to continue; start a new run (with --overwrite if the folder holds one)", .0.display())]
    NoCheckpoint(PathBuf),
    /// `--resume` with settings the checkpoint was not written with.
    #[error("--resume: this run differs from the one in {}: {}; resume with the run's own config ({}/config.toml) or start a new run", dir.display(), changes.join("; "), dir.display())]
    ResumeMismatch {
        /// The directory.
        dir: PathBuf,
        /// One entry per changed setting.
        changes: Vec<String>,
    },
    /// A garbled `metrics.csv` on resume.
    #[error("{}: line {line}: {why}", path.display())]
    Metrics {
        /// The file.
        path: PathBuf,
        /// The line (from 1).
        line: usize,
        /// What is wrong with it.
        why: String,
    },
    /// The loss stopped being finite (`on_non_finite = "stop"`).
    #[error("{what}; the run stopped. {}", diverged_advice(*last_intact))]
    Diverged {
        /// Where and how.
        what: String,
        /// The newest intact checkpoint (finite weights), if any.
        last_intact: Option<usize>,
    },
    /// A checkpoint could not be written (the run stopped after that epoch).
    #[error("checkpoint not written: {what}. {resume}")]
    Checkpoint {
        /// The write error.
        what: String,
        /// Which checkpoint `--resume` continues from.
        resume: String,
    },
    /// Stdout could not be written (closed by its reader, or full): the run ended after the
    /// epoch in progress, committed.
    #[error("{}: the run stopped {what}. {resume}", crate::out::describe(*kind))]
    OutputClosed {
        /// What failed.
        kind: std::io::ErrorKind,
        /// `after epoch 2 (its checkpoint is written)`.
        what: String,
        /// Which checkpoint `--resume` continues from.
        resume: String,
    },
    /// Burn's metric logs (`train/`, `valid/`) or `metrics.csv` could not be written; the run
    /// stopped after that epoch's commit (its seal).
    #[error("metric logs not written: {what}; the run stopped. {resume}")]
    Logs {
        /// The write error.
        what: String,
        /// Which checkpoint `--resume` continues from.
        resume: String,
    },
    /// The weights a finished run keeps (`model.bpk`) could not be written (its epochs are all
    /// checkpointed).
    #[error("the kept weights were not written: {what}. {resume}")]
    KeptWeights {
        /// The write error, naming the file.
        what: String,
        /// What `--resume` does.
        resume: String,
    },
    /// Ctrl-C (or another stop request) ended the run before its last epoch.
    #[error("{what}. {resume}")]
    Interrupted {
        /// `interrupted in epoch 3` or `stopped after epoch 2 (its checkpoint is written)`.
        what: String,
        /// Which checkpoint `--resume` continues from.
        resume: String,
    },
    /// Writing artifacts failed.
    #[error("{}: {}", path.display(), source)]
    Io {
        /// The file.
        path: PathBuf,
        /// The error (shown in the message, so not chained again).
        source: std::io::Error,
    },
    /// Burn reported a failure.
    #[error("training failed: {0}")]
    Burn(String),
    /// A plateau schedule's metric that Burn does not have (the run stopped at that epoch).
    #[error("{0}")]
    Plateau(String),
    /// A monitor file (`lr.csv`, TensorBoard, a chart) that could not be written or read.
    #[error(transparent)]
    Monitor(#[from] burn_lr::monitor::MonitorError),
    /// A command-line setting out of range (what, its value, what is allowed).
    #[error("{0}")]
    Settings(String),
}

impl TrainError {
    /// The process exit code for this error: 130 for an interruption, 1 for a run that failed
    /// while training (divergence, I/O, Burn), 2 for bad input (config, data, resume checks).
    pub fn exit_code(&self) -> i32 {
        match self {
            Self::Interrupted { .. } => 130,
            Self::OutputClosed { kind, .. } => crate::out::exit_code(*kind),
            Self::Diverged { .. }
            | Self::Checkpoint { .. }
            | Self::Logs { .. }
            | Self::KeptWeights { .. }
            | Self::Io { .. }
            | Self::Burn(_)
            | Self::Plateau(_) => 1,
            Self::Monitor(e) if e.is_io() => 1,
            _ => 2,
        }
    }
}

/// The sentence saying which checkpoint `--resume` continues from, in a run of `epochs` epochs:
/// after its last one (the kept weights not written), what writes them.
pub fn resume_note(last_intact: Option<usize>, epochs: usize) -> String {
    match last_intact {
        Some(n) if n == epochs => format!(
            "Every epoch is checkpointed, not the kept weights (model.bpk): `--resume` writes them from the \
             checkpoint of epoch {n}, or, where their BatchNorm statistics need the epoch's training batches, \
             trains epoch {n} again from the checkpoint before it (a one-epoch run: --overwrite)."
        ),
        Some(n) => format!("`--resume` continues from the checkpoint of epoch {n}."),
        None => "No epoch finished, so there is nothing to resume: rerun with --overwrite.".into(),
    }
}

/// What to do after a divergence: a new run with a lower LR (a resume keeps every setting, so
/// it would diverge again at the same update).
fn diverged_advice(last_intact: Option<usize>) -> String {
    let kept = match last_intact {
        Some(n) => {
            format!("The checkpoint of epoch {n} (finite weights) is kept (what `--resume` would continue from).")
        }
        None => "No epoch finished with finite losses.".into(),
    };
    format!(
        "Lower [optimizer] lr (max_lr for one_cycle and cyclic; `burn-lr find-lr --config <it>` suggests one) \
         or add a warmup, in a new run (--overwrite, or another --artifact-dir). {kept}"
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn after_the_last_epoch_resume_says_what_writes_the_kept_weights() {
        assert_eq!(
            resume_note(Some(2), 5),
            "`--resume` continues from the checkpoint of epoch 2."
        );
        let last = resume_note(Some(5), 5);
        assert!(
            last.contains("writes them from the checkpoint of epoch 5")
                && last.contains("trains epoch 5 again from the checkpoint before it"),
            "{last}"
        );
        let kept = TrainError::KeptWeights {
            what: "run/model.bpk: No space left on device".into(),
            resume: last,
        };
        assert_eq!(kept.exit_code(), 1);
        assert!(
            kept.to_string()
                .starts_with("the kept weights were not written: run/model.bpk"),
            "{kept}"
        );
    }
}
