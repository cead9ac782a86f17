//! Where a run starts: a new run into an empty (or `--overwrite`-cleared) directory, or
//! `--resume` from the newest intact checkpoint of the run that owns the directory, after
//! checking that nothing the checkpoint depends on has changed.

use super::artifacts::{read_metrics_csv, EpochRecord};
use super::checkpoint::{file_path, newest_intact};
use super::config::TrainConfig;
use super::data::Cifar10;
use super::error::TrainError;
use super::run_dir::{config_changes, fact_changes, RunDir, RunFacts};
use burn_lr::learner::LearnerSchedule;
use md5::{Digest, Md5};

/// How a run treats its artifact directory.
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
    /// One warning line for each newer checkpoint that was not usable (and for epochs without
    /// a `metrics.csv` row).
    pub skipped: Vec<String>,
}

/// The facts of this run: data and stepping.
pub fn run_facts(data: &Cifar10, schedule: &LearnerSchedule) -> RunFacts {
    let mut hasher = Md5::new();
    for item in &data.train {
        hasher.update([item.label]);
        hasher.update(&item.pixels);
    }
    RunFacts {
        burn_lr_version: env!("CARGO_PKG_VERSION").to_string(),
        train_images: data.train.len(),
        test_images: data.test.len(),
        train_data_md5: format!("{:x}", hasher.finalize()),
        updates_per_epoch: schedule.run().updates_per_epoch,
    }
}

/// Decides where the run starts and checks it, before any file is written.
///
/// # Errors
/// [`TrainError::HasRun`] for a new run over another; on resume [`TrainError::NotARun`],
/// [`TrainError::NoCheckpoint`], [`TrainError::ResumeMismatch`] (every changed setting),
/// [`TrainError::Schedule`] (a scheduler record of another schedule), [`TrainError::Metrics`].
pub fn start(
    dir: &RunDir,
    mode: StartMode,
    cfg: &TrainConfig,
    facts: &RunFacts,
    schedule: &mut LearnerSchedule,
) -> Result<Start, TrainError> {
    let fresh = Start {
        from: None,
        rows: Vec::new(),
        skipped: Vec::new(),
    };
    match mode {
        StartMode::Overwrite => {
            dir.clear()?;
            Ok(fresh)
        }
        StartMode::New => precheck(dir, mode, cfg).map(|()| fresh),
        StartMode::Resume => resume(dir, cfg, facts, schedule),
    }
}

/// The checks that need no data, run before any data is read: a new run into a directory
/// holding another; on resume, a directory without a run, without an intact checkpoint, or whose
/// config differs from this one (`epochs` is checked later, with the schedule).
///
/// # Errors
/// As [`start`].
pub fn precheck(dir: &RunDir, mode: StartMode, cfg: &TrainConfig) -> Result<(), TrainError> {
    if let Some(what) = dir.foreign() {
        return Err(TrainError::NotOurs {
            dir: dir.path().to_path_buf(),
            what,
        });
    }
    match mode {
        StartMode::Overwrite => Ok(()),
        StartMode::New => match dir.previous_run() {
            Some(what) => Err(TrainError::HasRun {
                dir: dir.path().to_path_buf(),
                what,
            }),
            None => Ok(()),
        },
        StartMode::Resume => {
            if dir.previous_run().is_none() {
                return Err(TrainError::NoCheckpoint(dir.checkpoints()));
            }
            let (then, _) = dir.read_run()?;
            if newest_intact(&dir.checkpoints()).0.is_none() {
                return Err(TrainError::NoCheckpoint(dir.checkpoints()));
            }
            mismatch(dir, config_changes(&then, cfg, true))
        }
    }
}

fn mismatch(dir: &RunDir, changes: Vec<String>) -> Result<(), TrainError> {
    if changes.is_empty() {
        Ok(())
    } else {
        Err(TrainError::ResumeMismatch {
            dir: dir.path().to_path_buf(),
            changes,
        })
    }
}

fn resume(
    dir: &RunDir,
    cfg: &TrainConfig,
    facts: &RunFacts,
    schedule: &mut LearnerSchedule,
) -> Result<Start, TrainError> {
    if dir.previous_run().is_none() {
        return Err(TrainError::NoCheckpoint(dir.checkpoints()));
    }
    let (then, then_facts) = dir.read_run()?;
    let (from, skipped) = newest_intact(&dir.checkpoints());
    let from = from.ok_or_else(|| TrainError::NoCheckpoint(dir.checkpoints()))?;
    // The scheduler record says whether the resolved schedule is the same; only then may
    // `epochs` change (a schedule whose length depends on it is another schedule).
    let schedule_check = schedule.check_resume(dir.path(), from);
    let mut changes = config_changes(&then, cfg, schedule_check.is_ok());
    changes.extend(fact_changes(&then_facts, facts));
    if let (Err(e), true) = (&schedule_check, changes.is_empty()) {
        // Same config and data, yet another schedule record: name the versions that wrote it.
        changes.push(format!(
            "{e} (burn-lr {} wrote the checkpoint, {} now)",
            then_facts.burn_lr_version, facts.burn_lr_version
        ));
    }
    mismatch(dir, changes)?;
    readable(dir, from)?;
    let rows: Vec<EpochRecord> = read_metrics_csv(&dir.path().join(super::artifacts::METRICS_CSV))?
        .into_iter()
        .filter(|r| r.epoch <= from)
        .collect();
    let mut skipped = skipped;
    let missing: Vec<String> = (1..=from)
        .filter(|e| !rows.iter().any(|r| r.epoch == *e))
        .map(|e| e.to_string())
        .collect();
    if !missing.is_empty() {
        skipped.push(format!(
            "metrics.csv has no row for epoch(s) {} (the run was stopped between a checkpoint and its row); \
             Burn's logs of those epochs are in train/ and valid/",
            missing.join(", ")
        ));
    }
    Ok(Start {
        from: Some(from),
        rows,
        skipped,
    })
}

/// Reads the model and optimizer records of `epoch` (sealed, so whole) before Burn loads them,
/// which it does with `expect`: a record this version cannot decode is a one-line error.
fn readable(dir: &RunDir, epoch: usize) -> Result<(), TrainError> {
    let ckpt = dir.checkpoints();
    let unreadable = |kind: &str, e: String| TrainError::NotARun {
        dir: dir.path().to_path_buf(),
        why: format!(
            "{}: {e} (sealed, so not damaged: written by another burn-lr or Burn version?)",
            file_path(&ckpt, kind, epoch).display()
        ),
    };
    burn::store::ModuleRecord::load(file_path(&ckpt, "model", epoch))
        .map_err(|e| unreadable("model", e.to_string()))?;
    burn::optim::OptimizerRecord::load(file_path(&ckpt, "optim", epoch))
        .map_err(|e| unreadable("optim", e.to_string()))?;
    Ok(())
}
