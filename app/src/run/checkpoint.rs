//! Checkpoints that are either complete or ignored: Burn's three checkpoint files per epoch
//! (`checkpoint/{model,optim,scheduler}-N.bpk`, burnpack), each written to a temporary file,
//! flushed to disk and renamed into place, then sealed by an `md5sum`-format sidecar
//! (`model-N.bpk.md5`). A file without its sidecar (a kill -9 mid-write) or whose bytes no longer
//! match it (a disk fault, a truncation) is never resumed from: [`newest_intact`] names it in one
//! line and falls back to the previous intact epoch.

use crate::run::layout::*;
use burn::train::checkpoint::{Checkpoint, Checkpointer, CheckpointerError};
use burn_lr::monitor::{MonitorError, Output};
use md5::{Digest, Md5};
use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Condvar, Mutex};
use std::time::Duration;

/// Which checkpoint files of each epoch have been written completely (or failed), shared between
/// Burn's checkpointer threads and the end-of-epoch hook that waits for them.
#[derive(Clone, Default)]
pub struct CheckpointLedger {
    state: Arc<(Mutex<BTreeMap<usize, Saved>>, Condvar)>,
}

#[derive(Default)]
struct Saved {
    files: usize,
    failure: Option<String>,
}

impl CheckpointLedger {
    fn finished(&self, epoch: usize, failure: Option<String>) {
        let (lock, changed) = &*self.state;
        let mut saved = lock.lock().unwrap_or_else(|e| e.into_inner());
        let entry = saved.entry(epoch).or_default();
        entry.files += 1;
        if entry.failure.is_none() {
            entry.failure = failure;
        }
        changed.notify_all();
    }

    /// Waits until the three files of `epoch` are on disk and sealed.
    ///
    /// # Errors
    /// The first write error of that epoch, or a note that the writes did not finish within
    /// `timeout`.
    pub fn wait(&self, epoch: usize, timeout: Duration) -> Result<(), String> {
        let (lock, changed) = &*self.state;
        let saved = lock.lock().unwrap_or_else(|e| e.into_inner());
        let (saved, result) = changed
            .wait_timeout_while(saved, timeout, |s| {
                s.get(&epoch)
                    .is_none_or(|e| e.files < KINDS.len() && e.failure.is_none())
            })
            .unwrap_or_else(|e| e.into_inner());
        match saved.get(&epoch) {
            Some(Saved { failure: Some(f), .. }) => Err(f.clone()),
            _ if result.timed_out() => Err(format!(
                "the checkpoint of epoch {epoch} was not written within {}s",
                timeout.as_secs()
            )),
            _ => Ok(()),
        }
    }
}

/// A Burn [`Checkpointer`] writing `dir/<name>-N.bpk` atomically and sealing it with
/// `dir/<name>-N.bpk.md5`; restores through Burn's own reader.
pub struct SealedFileCheckpointer {
    dir: PathBuf,
    name: &'static str,
    ledger: CheckpointLedger,
}

impl SealedFileCheckpointer {
    /// The checkpointer of `name` (`model`, `optim` or `scheduler`) in `dir`, reporting finished
    /// writes to `ledger`.
    pub fn new(dir: &Path, name: &'static str, ledger: CheckpointLedger) -> Self {
        Self {
            dir: dir.to_path_buf(),
            name,
            ledger,
        }
    }

    fn path(&self, epoch: usize) -> PathBuf {
        file_path(&self.dir, self.name, epoch)
    }

    fn write<R: Checkpoint>(&self, epoch: usize, record: R) -> Result<(), CheckpointerError> {
        std::fs::create_dir_all(&self.dir).map_err(CheckpointerError::IOError)?;
        let file_name = file_name(self.name, epoch);
        let tmp = self.dir.join(format!("{PARTIAL_PREFIX}{file_name}"));
        record.save(tmp.clone())?;
        std::fs::OpenOptions::new()
            .write(true)
            .open(&tmp)
            .and_then(|f| f.sync_all())
            .and_then(|()| seal_in_place(&self.dir, &tmp, &file_name))
            .map_err(CheckpointerError::IOError)
    }
}

/// Moves the flushed temporary file `tmp` (Burn's record) to `dir/name` and seals it
/// (`name.md5`, through the one atomic writer of both crates), then flushes the folder's
/// entries.
fn seal_in_place(dir: &Path, tmp: &Path, name: &str) -> std::io::Result<()> {
    let digest = md5_of(tmp)?;
    let path = dir.join(name);
    std::fs::rename(tmp, &path)?;
    let line = format!("{digest}  {name}\n");
    burn_lr::monitor::write_file(&sidecar(&path), line.as_bytes(), Output::Own).map_err(|e| match e {
        MonitorError::Io { source, .. } => source,
        other => std::io::Error::other(other.to_string()),
    })?;
    sync_dir(dir);
    Ok(())
}

/// `run-N.toml`, the run's seal of epoch `epoch` ([`SEAL`]).
pub fn seal_name(epoch: usize) -> String {
    seal_file(epoch)
}

/// Writes the run's seal of `epoch` ([`SEAL`]) into the checkpoint folder `dir`, as Burn's
/// files are written: a temporary file, flushed, renamed, sealed by its MD5.
///
/// # Errors
/// The write error (a full disk).
pub fn write_seal(dir: &Path, epoch: usize, contents: &[u8]) -> std::io::Result<()> {
    std::fs::create_dir_all(dir)?;
    let name = seal_name(epoch);
    let tmp = dir.join(format!("{PARTIAL_PREFIX}{name}"));
    let mut f = std::fs::File::create(&tmp)?;
    f.write_all(contents)?;
    f.sync_all()?;
    seal_in_place(dir, &tmp, &name)
}

/// The run's seal of `epoch` in `dir`, if it is whole (matches its MD5).
///
/// # Errors
/// Why it cannot be used (missing, unsealed, damaged).
pub fn read_seal(dir: &Path, epoch: usize) -> Result<String, String> {
    let name = seal_name(epoch);
    if let Some(why) = damage_of(dir, &name) {
        return Err(why);
    }
    std::fs::read_to_string(dir.join(&name)).map_err(|e| format!("{name} cannot be read: {e}"))
}

impl<R: Checkpoint> Checkpointer<R> for SealedFileCheckpointer {
    fn save(&self, epoch: usize, record: R) -> Result<(), CheckpointerError> {
        let result = self.write(epoch, record);
        let failure = result
            .as_ref()
            .err()
            .map(|e| format!("{}: {e}", self.path(epoch).display()));
        self.ledger.finished(epoch, failure);
        result
    }

    fn restore(&self, epoch: usize) -> Result<R, CheckpointerError> {
        R::load(self.path(epoch))
    }

    fn delete(&self, epoch: usize) -> Result<(), CheckpointerError> {
        // The run's seal goes with Burn's files (whichever of the three is deleted first).
        let path = self.path(epoch);
        let seal = self.dir.join(seal_name(epoch));
        for p in [sidecar(&seal), seal, sidecar(&path), path] {
            match std::fs::remove_file(&p) {
                Err(e) if e.kind() != std::io::ErrorKind::NotFound => return Err(CheckpointerError::IOError(e)),
                _ => {}
            }
        }
        Ok(())
    }
}

fn file_name(kind: &str, epoch: usize) -> String {
    checkpoint_file(kind, epoch)
}

/// `dir/<kind>-<epoch>.bpk`.
pub fn file_path(dir: &Path, kind: &str, epoch: usize) -> PathBuf {
    dir.join(file_name(kind, epoch))
}

fn sidecar(path: &Path) -> PathBuf {
    let mut s = path.as_os_str().to_owned();
    s.push(DIGEST_SUFFIX);
    PathBuf::from(s)
}

/// Flushes a directory's entries (the renames) to disk where the OS allows it (Unix).
fn sync_dir(dir: &Path) {
    #[cfg(unix)]
    if let Ok(d) = std::fs::File::open(dir) {
        let _ = d.sync_all();
    }
    #[cfg(not(unix))]
    let _ = dir;
}

/// The hex MD5 of a file.
fn md5_of(path: &Path) -> std::io::Result<String> {
    let mut file = std::fs::File::open(path)?;
    let mut hasher = Md5::new();
    std::io::copy(&mut file, &mut hasher)?;
    Ok(format!("{:x}", hasher.finalize()))
}

/// Why the file of `kind` at `epoch` in `dir` cannot be resumed from, if it cannot.
fn damage(dir: &Path, kind: &str, epoch: usize) -> Option<String> {
    damage_of(dir, &file_name(kind, epoch))
}

/// Why the sealed file `name` in `dir` cannot be trusted, if it cannot.
fn damage_of(dir: &Path, name: &str) -> Option<String> {
    let path = dir.join(name);
    // Regular files only: a pipe or a device there would block or never end a read.
    let regular = |p: &Path| std::fs::symlink_metadata(p).is_ok_and(|m| m.is_file());
    if !regular(&path) {
        return Some(format!("{name} is missing (or not a regular file)"));
    }
    let seal_path = sidecar(&path);
    let seal = regular(&seal_path)
        .then(|| std::fs::read_to_string(&seal_path).ok())
        .flatten();
    let Some(seal) = seal else {
        return Some(format!("{name} has no {name}.md5 (its write did not finish)"));
    };
    let expected = seal.split_whitespace().next().unwrap_or_default().to_string();
    match md5_of(&path) {
        Ok(actual) if actual == expected => None,
        Ok(_) => Some(format!(
            "{name} is damaged or truncated ({} bytes; its MD5 does not match {name}.md5)",
            std::fs::metadata(&path).map_or(0, |m| m.len())
        )),
        Err(e) => Some(format!("{name} cannot be read: {e}")),
    }
}

/// Epochs with at least one checkpoint file (or the run's seal) in `dir`, newest first.
pub fn epochs_on_disk(dir: &Path) -> Vec<usize> {
    let mut epochs: Vec<usize> = std::fs::read_dir(dir)
        .into_iter()
        .flatten()
        .filter_map(|e| e.ok()?.file_name().into_string().ok())
        .filter_map(|name| {
            let (kind, n) = match name.strip_suffix(".bpk") {
                Some(stem) => stem.rsplit_once('-')?,
                None => (SEAL, name.strip_suffix(".toml")?.strip_prefix(SEAL)?.strip_prefix('-')?),
            };
            (KINDS.contains(&kind) || kind == SEAL).then(|| n.parse().ok())?
        })
        .collect();
    epochs.sort_unstable_by(|a, b| b.cmp(a));
    epochs.dedup();
    epochs
}

/// Whether the run whose checkpoint folder is `dir` seals its epochs ([`SEAL`]): any seal is
/// there, or the run's `run.toml` (next to `dir`) says so. Runs of burn-lr before the seals have
/// none.
pub fn seals_epochs(dir: &Path) -> bool {
    let any_seal = std::fs::read_dir(dir)
        .into_iter()
        .flatten()
        .flatten()
        .any(|e| e.file_name().to_string_lossy().starts_with(&format!("{SEAL}-")));
    let said = dir
        .parent()
        .and_then(|run| std::fs::read_to_string(run.join(RUN_TOML)).ok())
        .is_some_and(|text| text.lines().any(|l| l.replace(' ', "") == "epoch_seals=true"));
    any_seal || said
}

/// The newest epoch whose three files are complete and match their seals (and, in a run that
/// seals its epochs, whose run seal is whole: [`seals_epochs`]), and one line for each newer
/// epoch that was skipped (what is wrong with it).
pub fn newest_intact(dir: &Path) -> (Option<usize>, Vec<String>) {
    newest_intact_before(dir, usize::MAX)
}

/// As [`newest_intact`], among the epochs before `before`.
pub fn newest_intact_before(dir: &Path, before: usize) -> (Option<usize>, Vec<String>) {
    let sealed = seals_epochs(dir);
    let mut skipped = Vec::new();
    for epoch in epochs_on_disk(dir).into_iter().filter(|e| *e < before) {
        let mut problems: Vec<String> = KINDS.iter().filter_map(|k| damage(dir, k, epoch)).collect();
        if sealed {
            problems.extend(damage_of(dir, &seal_name(epoch)).map(|why| {
                format!("{why}; the epoch did not finish (its metrics.csv and lr.csv rows were not committed)")
            }));
        }
        if problems.is_empty() {
            return (Some(epoch), skipped);
        }
        skipped.push(format!(
            "checkpoint of epoch {epoch} in {} not used: {}",
            dir.display(),
            problems.join("; ")
        ));
    }
    (None, skipped)
}

/// Deletes the files of `epoch` (a checkpoint that must not be resumed from, e.g. one whose
/// weights are no longer finite).
///
/// # Errors
/// The first file that could not be removed.
pub fn remove_epoch(dir: &Path, epoch: usize) -> std::io::Result<()> {
    let paths = KINDS
        .iter()
        .map(|kind| file_path(dir, kind, epoch))
        .chain([dir.join(seal_name(epoch))]);
    for path in paths {
        for p in [sidecar(&path), path] {
            match std::fs::remove_file(&p) {
                Err(e) if e.kind() != std::io::ErrorKind::NotFound => return Err(e),
                _ => {}
            }
        }
    }
    Ok(())
}

/// Removes the temporary files unfinished checkpoint writes left in `dir` (a kill -9): Burn's
/// records being written, and the seals being written by a process that no longer runs;
/// returns how many.
pub fn remove_partial_files(dir: &Path) -> usize {
    std::fs::read_dir(dir)
        .into_iter()
        .flatten()
        .filter_map(|e| e.ok())
        .filter(|e| e.file_name().to_string_lossy().starts_with(PARTIAL_PREFIX))
        .filter(|e| std::fs::remove_file(e.path()).is_ok())
        .count()
        + burn_lr::monitor::remove_stale_temp_files(dir)
}

#[cfg(test)]
mod tests {
    use super::*;
    use burn::lr_scheduler::LrSchedulerRecord;

    fn save(dir: &Path, ledger: &CheckpointLedger, epoch: usize) {
        for kind in KINDS {
            let c = SealedFileCheckpointer::new(dir, kind, ledger.clone());
            let record = LrSchedulerRecord::new().with_scalar("lr", 0.5 + epoch as f64);
            c.save(epoch, record).unwrap();
        }
    }

    #[test]
    fn sealed_files_round_trip_and_damage_falls_back() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path();
        let ledger = CheckpointLedger::default();
        save(dir, &ledger, 1);
        save(dir, &ledger, 2);
        assert_eq!(ledger.wait(2, Duration::from_secs(1)), Ok(()));
        assert_eq!(newest_intact(dir), (Some(2), vec![]));
        let c = SealedFileCheckpointer::new(dir, "scheduler", ledger.clone());
        let back: LrSchedulerRecord = Checkpointer::<LrSchedulerRecord>::restore(&c, 2).unwrap();
        assert_eq!(back.scalar::<f64>("lr"), Some(2.5));
        // Truncate epoch 2's model file: epoch 1 is used, and the reason is one line.
        let model = file_path(dir, "model", 2);
        let len = std::fs::metadata(&model).unwrap().len();
        std::fs::OpenOptions::new()
            .write(true)
            .open(&model)
            .unwrap()
            .set_len(len / 2)
            .unwrap();
        let (epoch, skipped) = newest_intact(dir);
        assert_eq!(epoch, Some(1));
        assert_eq!(skipped.len(), 1);
        assert!(
            skipped[0].contains("model-2.bpk is damaged or truncated"),
            "{skipped:?}"
        );
        // A write killed before its seal: the file is not trusted either.
        std::fs::remove_file(sidecar(&file_path(dir, "optim", 1))).unwrap();
        std::fs::write(dir.join(".partial-model-3.bpk"), b"half").unwrap();
        let (epoch, skipped) = newest_intact(dir);
        assert_eq!(epoch, None);
        assert!(skipped[1].contains("optim-1.bpk has no optim-1.bpk.md5"), "{skipped:?}");
        assert_eq!(remove_partial_files(dir), 1);
        remove_epoch(dir, 2).unwrap();
        assert_eq!(epochs_on_disk(dir), vec![1]);
    }

    #[test]
    fn a_missing_write_times_out() {
        let ledger = CheckpointLedger::default();
        ledger.finished(4, None);
        let err = ledger.wait(4, Duration::from_millis(10)).unwrap_err();
        assert!(err.contains("epoch 4"), "{err}");
        ledger.finished(5, Some("disk full".into()));
        assert_eq!(ledger.wait(5, Duration::from_secs(1)), Err("disk full".into()));
    }
}
