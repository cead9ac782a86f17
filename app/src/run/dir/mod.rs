//! An artifact directory belongs to one run. Its whole life, in the order a run goes through it:
//!
//! 1. [`RunDir::open`] (before any data is read): the path is a directory (or can be one), the
//!    OS lock is taken ([`Lock`]: another process on it is refused, naming it), and the checks
//!    that need no data: a new run over another run's files, files no run wrote, or on
//!    `--resume` a directory without a run, without an intact checkpoint, or whose
//!    `config.toml` differs from this config.
//! 2. [`RunDir::start`] (data loaded, schedule built, nothing written yet): where the run
//!    starts ([`Start`]): `--overwrite` clears the previous run; `--resume` checks the config,
//!    the data (`run.toml`), the scheduler record and the sealed model and optimizer files of
//!    the newest intact checkpoint against the copies sealed with it ([`seal`]) and takes the
//!    `metrics.csv` and `lr.csv` rows before it from there (a finished run whose kept weights
//!    are missing and need its last epoch's batches starts from the checkpoint before).
//! 3. [`RunDir::begin`]: removes what a killed process left (temporary files, the epochs after
//!    the one resumed from) and rebuilds `lr.csv` from the seal where it lacks rows, then
//!    [`RunDir::record`] writes `config.toml`, `run.toml` and `metrics.csv` (the kept rows).
//! 4. During the run: Burn's checkpointers ([`RunDir::checkpointer`], sealed files reporting to
//!    a [`CheckpointLedger`]); the end-of-epoch hook commits each epoch ([`RunDir::commits`]:
//!    the run's seal of the epoch, then `metrics.csv`); `lr.csv` and TensorBoard go to
//!    [`RunDir::path`].
//! 5. After it: [`RunDir::newest_intact`], the checkpoint `--resume` would continue from.
//!
//! The lock is released when the [`RunDir`] is dropped.

mod ownership;
mod resume;
pub mod seal;
mod state;

pub use ownership::Lock;
pub use resume::{config_changes, fact_changes, RunFacts};
pub use seal::{CommitError, EpochCommit, EpochSeal};
pub use state::{RunDir, Start, StartMode};

use crate::config::TrainConfig;
use crate::data::Cifar10;
use crate::error::TrainError;
use crate::run::artifacts::{metrics_csv, write_atomic, EpochRecord};
use crate::run::checkpoint::{self, CheckpointLedger, SealedFileCheckpointer};
use crate::run::layout::*;
use burn_lr::learner::LearnerSchedule;
use std::path::Path;

impl RunDir {
    /// Step 1: checks the path, takes the lock and makes the checks that need no data.
    ///
    /// # Errors
    /// [`TrainError::Settings`] (the path is a file), [`TrainError::Busy`],
    /// [`TrainError::HasRun`], [`TrainError::NotOurs`], [`TrainError::NoCheckpoint`],
    /// [`TrainError::NotARun`], [`TrainError::ResumeMismatch`], [`TrainError::Io`].
    pub fn open(cfg: &TrainConfig, mode: StartMode) -> Result<Self, TrainError> {
        let path = &cfg.training.artifact_dir;
        crate::paths::check_output_dir(path, "artifact directory (--artifact-dir, [training] artifact_dir)")?;
        if mode == StartMode::Resume && !path.is_dir() {
            return Err(TrainError::NoCheckpoint(path.join(CHECKPOINT_DIR)));
        }
        let dir = Self {
            lock: Lock::take(path)?,
            mode,
        };
        dir.lock.refuse_foreign()?;
        match mode {
            StartMode::Overwrite => {}
            StartMode::New => dir.lock.refuse_previous_run()?,
            StartMode::Resume => resume::precheck(&dir, cfg)?,
        }
        Ok(dir)
    }

    /// Step 2: where the run starts, checked against this run's data (`facts`) and schedule
    /// (on resume the schedule is positioned at the checkpoint's record), before any file is
    /// written; `--overwrite` clears the previous run here.
    ///
    /// # Errors
    /// As [`Self::open`]; on resume also [`TrainError::Schedule`] (a scheduler record of
    /// another schedule) and [`TrainError::Metrics`] (a garbled `metrics.csv`).
    pub fn start(
        &self,
        cfg: &TrainConfig,
        facts: &RunFacts,
        schedule: &mut LearnerSchedule,
    ) -> Result<Start, TrainError> {
        let fresh = Start {
            from: None,
            rows: Vec::new(),
            skipped: Vec::new(),
            restored: Vec::new(),
            lr_csv: None,
            kept_after: None,
        };
        match self.mode {
            StartMode::Overwrite => self.lock.clear().map(|()| fresh),
            StartMode::New => self.lock.refuse_previous_run().map(|()| fresh),
            StartMode::Resume => resume::start(self, cfg, facts, schedule),
        }
    }

    /// Step 3: removes what a killed process left (temporary files; the checkpoints of epochs
    /// after the one resumed from, which are trained again) and, on resume, brings `lr.csv`
    /// back to the rows sealed with the checkpoint when they are not all there (a note in
    /// `start.restored`); returns how many temporary files were removed.
    ///
    /// # Errors
    /// [`TrainError::Io`] naming a checkpoint that could not be removed; a failed write of
    /// `lr.csv`.
    pub fn begin(&self, start: &mut Start) -> Result<usize, TrainError> {
        if let Some(sealed) = &start.lr_csv {
            // The sealed rows, and none after them (an interrupted epoch's, trained again).
            let path = self.path().join(burn_lr::monitor::LR_CSV);
            let rows = sealed.lines().count().saturating_sub(1) as u64;
            if seal::lr_rows_text(&path, rows).as_ref() != Ok(sealed) {
                start.restored.push(format!(
                    "{}: rebuilt with the rows of its first {rows} updates sealed with the checkpoint (they were \
                     missing, truncated or edited)",
                    path.display()
                ));
            }
            if std::fs::read_to_string(&path).ok().as_ref() != Some(sealed) {
                write_atomic(&path, sealed.as_bytes())?;
            }
        }
        let leftovers = self.lock.remove_leftovers() + checkpoint::remove_partial_files(&self.checkpoints());
        if let Some(from) = start.from {
            for epoch in checkpoint::epochs_on_disk(&self.checkpoints())
                .into_iter()
                .filter(|e| *e > from)
            {
                checkpoint::remove_epoch(&self.checkpoints(), epoch).map_err(|source| TrainError::Io {
                    path: self.checkpoints(),
                    source,
                })?;
            }
        }
        Ok(leftovers)
    }

    /// Step 3, once the logs are attached: writes the run's `config.toml`, `run.toml` and the
    /// `metrics.csv` rows it keeps (atomically).
    ///
    /// # Errors
    /// [`TrainError::Io`].
    pub fn record(&self, cfg: &TrainConfig, facts: &RunFacts, rows: &[EpochRecord]) -> Result<(), TrainError> {
        let (config, facts) = texts(cfg, facts)?;
        write_atomic(&self.path().join(CONFIG_TOML), config.as_bytes())?;
        write_atomic(&self.path().join(RUN_TOML), facts.as_bytes())?;
        write_atomic(&self.metrics_csv(), metrics_csv(rows).as_bytes())
    }

    /// Step 4: the commits of this run's epochs ([`EpochCommit`]: each epoch's seal, then its
    /// `metrics.csv`).
    ///
    /// # Errors
    /// As [`Self::record`].
    pub fn commits(&self, cfg: &TrainConfig, facts: &RunFacts) -> Result<EpochCommit, TrainError> {
        let (config, facts_text) = texts(cfg, facts)?;
        Ok(EpochCommit::new(
            self.path(),
            config,
            facts_text,
            facts.updates_per_epoch,
        ))
    }

    /// Step 4: Burn's checkpointer of `kind` (`model`, `optim` or `scheduler`), writing sealed
    /// files into [`CHECKPOINT_DIR`] and reporting them to `ledger`.
    pub fn checkpointer(&self, kind: &'static str, ledger: &CheckpointLedger) -> SealedFileCheckpointer {
        SealedFileCheckpointer::new(&self.checkpoints(), kind, ledger.clone())
    }

    /// Step 5: the newest epoch whose checkpoint is whole (what `--resume` continues from,
    /// unless the run finished without its kept weights: see `Start::kept_after`).
    pub fn newest_intact(&self) -> Option<usize> {
        checkpoint::newest_intact(&self.checkpoints()).0
    }
}

/// The texts of `config.toml` and `run.toml` of a run.
fn texts(cfg: &TrainConfig, facts: &RunFacts) -> Result<(String, String), TrainError> {
    let text = |r: Result<String, toml::ser::Error>| r.map_err(|e| TrainError::Burn(e.to_string()));
    Ok((text(toml::to_string_pretty(cfg))?, text(toml::to_string_pretty(facts))?))
}

/// The facts of this run's data and stepping (`run.toml`).
pub fn run_facts(data: &Cifar10, schedule: &LearnerSchedule) -> RunFacts {
    resume::facts(data, schedule)
}

/// The newest intact checkpoint epoch in the artifact directory `dir` (without locking it).
pub fn newest_intact_in(dir: &Path) -> Option<usize> {
    checkpoint::newest_intact(&dir.join(CHECKPOINT_DIR)).0
}
