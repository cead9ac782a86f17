//! Who owns an artifact directory: the OS lock of the process training into it, the files a
//! run writes there, and the files no run wrote (which are never deleted).

use crate::run::layout::*;

use crate::error::TrainError;
use burn_lr::monitor::{file_kind, EVENT_FILE_PREFIX, LR_CSV};
use std::fs::File;
use std::io::Write;
use std::path::{Path, PathBuf};

/// The OS lock of an artifact directory, held by this process (released when dropped, also
/// when the process is killed).
#[derive(Debug)]
pub struct Lock {
    path: PathBuf,
    _lock: File,
}

impl Lock {
    /// Creates `path` if needed and takes its lock (`std::fs::File::try_lock`: `flock` /
    /// `LockFileEx`).
    ///
    /// # Errors
    /// [`TrainError::Busy`] when another process holds it (naming that process),
    /// [`TrainError::Io`] when the directory or lock file cannot be created.
    pub fn take(path: &Path) -> Result<Self, TrainError> {
        let io = |source| TrainError::Io {
            path: path.to_path_buf(),
            source,
        };
        std::fs::create_dir_all(path).map_err(io)?;
        let lock_path = path.join(LOCK_FILE);
        if let Ok(meta) = std::fs::symlink_metadata(&lock_path) {
            if !meta.is_file() {
                return Err(TrainError::NotOurs {
                    dir: path.to_path_buf(),
                    what: format!("{LOCK_FILE} ({}, where burn-lr keeps its lock file)", kind(&meta)),
                });
            }
        }
        let lock_io = |source| TrainError::Io {
            path: lock_path.clone(),
            source,
        };
        let mut options = std::fs::OpenOptions::new();
        options.read(true).write(true).create(true).truncate(false);
        // Never through a link (one made between the check above and here included).
        #[cfg(unix)]
        std::os::unix::fs::OpenOptionsExt::custom_flags(&mut options, libc::O_NOFOLLOW);
        let mut file = options.open(&lock_path).map_err(lock_io)?;
        match file.try_lock() {
            Ok(()) => {}
            Err(std::fs::TryLockError::WouldBlock) => {
                let holder = std::fs::read_to_string(&lock_path).unwrap_or_default();
                let holder = match holder.trim() {
                    "" => "a process that is starting".to_string(),
                    text => text.to_string(),
                };
                return Err(TrainError::Busy {
                    dir: path.to_path_buf(),
                    holder,
                });
            }
            Err(std::fs::TryLockError::Error(e)) => return Err(lock_io(e)),
        }
        file.set_len(0).map_err(lock_io)?;
        write!(file, "pid {} on {}", std::process::id(), hostname()).map_err(lock_io)?;
        Ok(Self {
            path: path.to_path_buf(),
            _lock: file,
        })
    }

    /// The directory.
    pub fn path(&self) -> &Path {
        &self.path
    }

    fn checkpoints(&self) -> PathBuf {
        self.path.join(CHECKPOINT_DIR)
    }

    /// [`Self::foreign`] as an error.
    ///
    /// # Errors
    /// [`TrainError::NotOurs`].
    pub fn refuse_foreign(&self) -> Result<(), TrainError> {
        match self.foreign() {
            Some(what) => Err(TrainError::NotOurs {
                dir: self.path.clone(),
                what,
            }),
            None => Ok(()),
        }
    }

    /// No run in the directory, so nothing to resume.
    ///
    /// # Errors
    /// [`TrainError::NoCheckpoint`].
    pub fn refuse_no_run(&self) -> Result<(), TrainError> {
        match self.previous_run() {
            Some(_) => Ok(()),
            None => Err(TrainError::NoCheckpoint(self.checkpoints())),
        }
    }

    /// [`Self::previous_run`] as an error (a new run over another).
    ///
    /// # Errors
    /// [`TrainError::HasRun`].
    pub fn refuse_previous_run(&self) -> Result<(), TrainError> {
        match self.previous_run() {
            Some(what) => Err(TrainError::HasRun {
                dir: self.path.clone(),
                what,
            }),
            None => Ok(()),
        }
    }

    /// The run artifacts already in the directory, if any (a short description).
    pub fn previous_run(&self) -> Option<String> {
        let mut epochs = crate::run::checkpoint::epochs_on_disk(&self.checkpoints());
        epochs.reverse();
        let mut found: Vec<String> = Vec::new();
        if !epochs.is_empty() {
            let list: Vec<String> = epochs.iter().map(usize::to_string).collect();
            found.push(format!("checkpoints of epochs {}", list.join(", ")));
        }
        for name in [METRICS_CSV, CONFIG_TOML, RUN_TOML, LR_CSV] {
            if self.path.join(name).is_file() {
                found.push(name.to_string());
            }
        }
        let events = std::fs::read_dir(self.path.join(TENSORBOARD_DIR))
            .into_iter()
            .flatten()
            .flatten()
            .any(|e| e.file_name().to_string_lossy().starts_with(EVENT_FILE_PREFIX));
        if events {
            found.push("tensorboard/ event files".into());
        }
        (!found.is_empty()).then(|| found.join(", "))
    }

    /// Files a run would write over that no run wrote: a `train/` or `valid/` folder holding
    /// anything but Burn's `epoch-N` logs (e.g. a CIFAR-10 image folder), a `tensorboard/`
    /// holding anything but event files, a `checkpoint` or `tensorboard` that is not a folder, a
    /// folder where a run writes a file (`metrics.csv`, `lr.csv`, ...). A run never starts (nor
    /// `--overwrite` deletes) there.
    pub fn foreign(&self) -> Option<String> {
        for split in [TRAIN_LOGS, VALID_LOGS] {
            if let Some(what) = foreign_logs(&self.path, split) {
                return Some(what);
            }
        }
        for folder in [TENSORBOARD_DIR, CHECKPOINT_DIR] {
            let meta = std::fs::symlink_metadata(self.path.join(folder));
            if meta.as_ref().is_ok_and(|m| !m.is_dir()) {
                return Some(format!("{folder} (not a folder)"));
            }
        }
        for entry in std::fs::read_dir(self.path.join(TENSORBOARD_DIR))
            .into_iter()
            .flatten()
            .flatten()
        {
            let name = entry.file_name().to_string_lossy().into_owned();
            if !(name.starts_with(EVENT_FILE_PREFIX) && entry.file_type().is_ok_and(|t| t.is_file())) {
                return Some(format!("{TENSORBOARD_DIR}/{name}"));
            }
        }
        // Something other than a regular file where a run writes one (`metrics.csv/`, a link, a
        // pipe): the write would fail mid-run, or land elsewhere.
        RUN_FILES.iter().find_map(|name| {
            let meta = std::fs::symlink_metadata(self.path.join(name)).ok()?;
            (!meta.is_file()).then(|| format!("{name} ({}, where a run writes a regular file)", kind(&meta)))
        })
    }

    /// Deletes the previous run's artifacts ([`RUN_ARTIFACTS`]); other files stay. Refuses a
    /// directory with [`Self::foreign`] files.
    ///
    /// # Errors
    /// [`TrainError::NotOurs`]; [`TrainError::Io`] naming the file that could not be removed.
    pub fn clear(&self) -> Result<(), TrainError> {
        if let Some(what) = self.foreign() {
            return Err(TrainError::NotOurs {
                dir: self.path.clone(),
                what,
            });
        }
        for name in RUN_ARTIFACTS {
            let p = self.path.join(name);
            let result = if p.is_dir() {
                std::fs::remove_dir_all(&p)
            } else {
                std::fs::remove_file(&p)
            };
            match result {
                Err(e) if e.kind() != std::io::ErrorKind::NotFound => {
                    return Err(TrainError::Io { path: p, source: e });
                }
                _ => {}
            }
        }
        Ok(())
    }

    /// Removes the temporary files a killed process left in the directory (unfinished CSV and
    /// chart writes); returns how many.
    pub fn remove_leftovers(&self) -> usize {
        std::fs::read_dir(&self.path)
            .into_iter()
            .flatten()
            .filter_map(|e| e.ok())
            .filter(|e| e.file_name().to_string_lossy().starts_with(TMP_PREFIX))
            .filter(|e| std::fs::remove_file(e.path()).is_ok())
            .count()
    }
}

/// Files in Burn's metric log folder `split` (`train`, `valid`) that no run wrote: the folder is
/// not a folder, or holds anything but `epoch-N` folders of regular `*.log` files (e.g. a
/// CIFAR-10 image folder, an `epoch-1` file). Burn's logger would fail on them mid-run.
fn foreign_logs(dir: &Path, split: &str) -> Option<String> {
    let folder = dir.join(split);
    let meta = std::fs::symlink_metadata(&folder).ok()?;
    if !meta.is_dir() {
        return Some(format!("{split} ({}, where Burn writes its metric logs)", kind(&meta)));
    }
    for entry in std::fs::read_dir(&folder).into_iter().flatten().flatten() {
        let name = entry.file_name().to_string_lossy().into_owned();
        let is_epoch = name.strip_prefix("epoch-").is_some_and(|n| n.parse::<usize>().is_ok());
        if !is_epoch || !entry.file_type().is_ok_and(|t| t.is_dir()) {
            return Some(format!("{split}/{name}"));
        }
        for log in std::fs::read_dir(entry.path()).into_iter().flatten().flatten() {
            let file = log.file_name().to_string_lossy().into_owned();
            if !file.ends_with(".log") || !log.file_type().is_ok_and(|t| t.is_file()) {
                return Some(format!("{split}/{name}/{file}"));
            }
        }
    }
    None
}

/// What stands where a run's file or folder belongs, in words (`a folder`, `a symbolic link`).
fn kind(meta: &std::fs::Metadata) -> &'static str {
    if meta.is_dir() {
        "a folder"
    } else {
        file_kind(meta.file_type())
    }
}

fn hostname() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .or_else(|_| std::env::var("HOSTNAME"))
        .or_else(|_| std::env::var("COMPUTERNAME"))
        .map(|h| h.trim().to_string())
        .unwrap_or_else(|_| "this machine".into())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_tensorboard_folder_with_other_files_is_not_ours() {
        let tmp = tempfile::tempdir().unwrap();
        let run = Lock::take(tmp.path()).unwrap();
        let tb = tmp.path().join("tensorboard");
        std::fs::create_dir_all(&tb).unwrap();
        std::fs::write(tb.join("events.out.tfevents.1.host.2"), b"").unwrap();
        assert_eq!(run.foreign(), None);
        std::fs::write(tb.join("notes.txt"), b"mine").unwrap();
        assert_eq!(run.foreign().as_deref(), Some("tensorboard/notes.txt"));
        assert!(run.clear().is_err());
        assert!(tb.join("notes.txt").is_file());
    }

    #[test]
    fn a_second_lock_names_the_holder() {
        let tmp = tempfile::tempdir().unwrap();
        let first = Lock::take(tmp.path()).unwrap();
        let err = Lock::take(tmp.path()).unwrap_err().to_string();
        assert!(err.contains(&format!("pid {}", std::process::id())), "{err}");
        assert!(!err.contains('\n'), "{err}");
        drop(first);
        Lock::take(tmp.path()).unwrap();
    }
}
