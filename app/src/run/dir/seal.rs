//! An epoch's commit. A run's files move together: when an epoch ends, after Burn's three
//! checkpoint files are on disk and sealed, [`EpochCommit::commit`] writes the run's own seal
//! `checkpoint/run-N.toml` ([`EpochSeal`]: the config and data facts the run was started with,
//! and `metrics.csv` and `lr.csv` as they stand at the end of epoch N), sealed by its MD5 like
//! Burn's files, then `metrics.csv`; only then is the epoch line printed. A checkpoint without its
//! seal is not resumed from (the epoch is trained again), and a resume rebuilds `metrics.csv`
//! and `lr.csv` from the seal and compares the config with the sealed one (not with the
//! `config.toml` next to it, which anyone may edit). So a crash, a signal, a full disk or a closed
//! stdout at any instant leaves a run that `--resume` brings back to the straight run's files.

use crate::error::TrainError;
use crate::run::artifacts::{metrics_csv, parse_metrics_csv, write_atomic, EpochRecord};
use crate::run::checkpoint;
use crate::run::layout::*;
use burn_lr::monitor::LR_CSV;
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};

/// The content of `checkpoint/run-N.toml`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EpochSeal {
    /// The epoch it seals (from 1).
    pub epoch: usize,
    /// The run's `config.toml`, as the run wrote it.
    pub config: String,
    /// The run's `run.toml`, as the run wrote it.
    pub facts: String,
    /// `metrics.csv` with the rows of epochs 1..=N.
    pub metrics_csv: String,
    /// `lr.csv` with the rows of the updates of epochs 1..=N.
    pub lr_csv: String,
}

impl EpochSeal {
    /// The `metrics.csv` rows of the seal.
    ///
    /// # Errors
    /// [`TrainError::Metrics`] naming the seal (a seal that matches its MD5 was written by a
    /// burn-lr whose rows this one cannot read).
    pub fn rows(&self, dir: &Path) -> Result<Vec<EpochRecord>, TrainError> {
        parse_metrics_csv(&self.metrics_csv, &dir.join(checkpoint::seal_name(self.epoch)))
    }
}

/// Reads the seal of `epoch` in the checkpoint folder `dir`.
///
/// # Errors
/// Why it cannot be used, in words (missing, damaged, not a seal).
pub fn read(dir: &Path, epoch: usize) -> Result<EpochSeal, String> {
    let text = checkpoint::read_seal(dir, epoch)?;
    let seal: EpochSeal =
        toml::from_str(&text).map_err(|e| format!("{}: {}", checkpoint::seal_name(epoch), e.message()))?;
    if seal.epoch != epoch {
        return Err(format!("{} seals epoch {}", checkpoint::seal_name(epoch), seal.epoch));
    }
    Ok(seal)
}

/// What the end-of-epoch hook commits with: where the run is and what it was started with.
#[derive(Debug, Clone)]
pub struct EpochCommit {
    dir: PathBuf,
    config: String,
    facts: String,
    updates_per_epoch: u64,
}

impl EpochCommit {
    /// The commits of the run in the artifact directory `dir`, started with `config` and
    /// `facts` (the texts of its `config.toml` and `run.toml`).
    pub fn new(dir: &Path, config: String, facts: String, updates_per_epoch: u64) -> Self {
        Self {
            dir: dir.to_path_buf(),
            config,
            facts,
            updates_per_epoch,
        }
    }

    /// `metrics.csv`.
    pub fn metrics_csv(&self) -> PathBuf {
        self.dir.join(METRICS_CSV)
    }

    /// The checkpoint folder.
    pub fn checkpoints(&self) -> PathBuf {
        self.dir.join(CHECKPOINT_DIR)
    }

    /// Commits epoch `epoch` (its checkpoint already sealed on disk) with the `metrics.csv`
    /// `rows` of epochs 1..=epoch: the seal, then `metrics.csv`.
    ///
    /// # Errors
    /// Why the epoch could not be committed, in one line (`lr.csv` lacks rows because its writes
    /// failed, a full disk): [`CommitError::Seal`] before the seal is whole, which leaves the
    /// epoch unresumable (the one before is resumed from); [`CommitError::Metrics`] writing
    /// `metrics.csv` after it, which leaves the epoch resumable, its rows rebuilt from the seal.
    pub fn commit(&self, epoch: usize, rows: &[EpochRecord]) -> Result<(), CommitError> {
        let end = epoch as u64 * self.updates_per_epoch;
        let lr_csv = lr_rows_text(&self.dir.join(LR_CSV), end).map_err(CommitError::Seal)?;
        let seal = EpochSeal {
            epoch,
            config: self.config.clone(),
            facts: self.facts.clone(),
            metrics_csv: metrics_csv(rows),
            lr_csv,
        };
        let text = toml::to_string(&seal).map_err(|e| CommitError::Seal(e.to_string()))?;
        let ckpt = self.checkpoints();
        checkpoint::write_seal(&ckpt, epoch, text.as_bytes())
            .map_err(|e| CommitError::Seal(format!("{}: {e}", ckpt.join(checkpoint::seal_name(epoch)).display())))?;
        write_atomic(&self.metrics_csv(), seal.metrics_csv.as_bytes()).map_err(|e| {
            CommitError::Metrics(format!(
                "{e} (epoch {epoch} is committed: its checkpoint and seal are written, and `--resume` rebuilds \
                 metrics.csv from them)"
            ))
        })
    }
}

/// Why an epoch could not be committed ([`EpochCommit::commit`]), in one line.
#[derive(Debug, Clone, PartialEq)]
pub enum CommitError {
    /// The seal was not written: the epoch is not resumed from.
    Seal(String),
    /// `metrics.csv` was not written after the seal: the epoch is resumed from.
    Metrics(String),
}

impl std::fmt::Display for CommitError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Seal(why) | Self::Metrics(why) => f.write_str(why),
        }
    }
}

/// The header and the first `end` rows of `lr.csv` (the updates 0..end), checked to be exactly
/// those updates.
///
/// # Errors
/// The file cannot be read or does not hold those rows.
pub fn lr_rows_text(path: &Path, end: u64) -> Result<String, String> {
    let text = std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))?;
    let mut lines = text.split_inclusive('\n');
    let mut out = lines
        .next()
        .filter(|h| h.ends_with('\n'))
        .unwrap_or_default()
        .to_string();
    let mut rows = 0u64;
    for line in lines.take(end as usize) {
        let step = line.split(',').next().and_then(|s| s.trim().parse::<u64>().ok());
        if step != Some(rows) || !line.ends_with('\n') {
            break;
        }
        out += line;
        rows += 1;
    }
    if out.is_empty() || rows != end {
        return Err(format!(
            "{}: holds the rows of {rows} optimizer update(s), the epoch ended after update {end} (its writes failed?)",
            path.display()
        ));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_commit_seals_the_rows_and_reads_back() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path();
        std::fs::write(dir.join(LR_CSV), "step,epoch,lr\n0,1,0.5\n1,1,0.25\n2,2,0.125\n3,2,0.1").unwrap();
        let commit = EpochCommit::new(dir, "[model]\n".into(), "epoch_seals = true\n".into(), 2);
        let row = EpochRecord {
            epoch: 1,
            train_loss: 2.0,
            val_loss: 1.5,
            val_acc: 40.0,
            lr: 0.25,
            seconds: 1.5,
            images_per_s: 10.0,
            live: None,
        };
        commit.commit(1, std::slice::from_ref(&row)).unwrap();
        let seal = read(&commit.checkpoints(), 1).unwrap();
        assert_eq!(seal.lr_csv, "step,epoch,lr\n0,1,0.5\n1,1,0.25\n");
        assert_eq!(seal.rows(dir).unwrap(), vec![row.clone()]);
        assert_eq!(std::fs::read_to_string(commit.metrics_csv()).unwrap(), seal.metrics_csv);
        // Epoch 2's last row has no newline yet (a write in progress): not committed.
        let err = commit.commit(2, std::slice::from_ref(&row)).unwrap_err();
        assert!(
            matches!(&err, CommitError::Seal(why) if why.contains("holds the rows of 3")),
            "{err}"
        );
        assert!(read(&commit.checkpoints(), 2).is_err());
        // metrics.csv not writable after the seal: the epoch is committed, and said so.
        std::fs::remove_file(commit.metrics_csv()).unwrap();
        std::fs::create_dir(commit.metrics_csv()).unwrap();
        let err = commit.commit(1, std::slice::from_ref(&row)).unwrap_err();
        assert!(
            matches!(&err, CommitError::Metrics(why) if why.contains("epoch 1 is committed")),
            "{err}"
        );
        assert!(read(&commit.checkpoints(), 1).is_ok());
    }
}
