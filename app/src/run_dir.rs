//! An artifact directory belongs to one run: a lock file while a process trains into it, the
//! run's own `config.toml` and `run.toml` (data and stepping facts) beside its checkpoints, a
//! refusal to start a second run over the first unless `--overwrite` clears it, and a resume
//! check that names every setting that changed since the checkpoint was written.

use super::config::TrainConfig;
use crate::error::TrainError;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::fs::File;
use std::io::Write;
use std::path::{Path, PathBuf};

/// The lock file in an artifact directory (held by the training process; holds its PID).
pub const LOCK_FILE: &str = ".burn-lr.lock";

/// What a run writes into its artifact directory; `--overwrite` deletes exactly these.
pub const RUN_ARTIFACTS: [&str; 12] = [
    "checkpoint",
    "train",
    "valid",
    "experiment.log",
    "metrics.csv",
    "config.toml",
    "run.toml",
    "lr.csv",
    "tensorboard",
    "lr_schedule.png",
    "loss.png",
    "accuracy.png",
];

/// Settings that may change on `--resume` without changing what the checkpoint means.
const FREE_ON_RESUME: [&str; 5] = [
    "[training] device",
    "[training] artifact_dir",
    "[training] on_non_finite",
    "[data] dir",
    "[data] num_workers",
];

/// An artifact directory locked by this process (released when dropped).
#[derive(Debug)]
pub struct RunDir {
    path: PathBuf,
    _lock: File,
}

/// The facts of a run that its config does not show: `run.toml`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RunFacts {
    /// The burn-lr version that started the run.
    pub burn_lr_version: String,
    /// Training images used (after `train_limit`).
    pub train_images: usize,
    /// Validation images used (after `test_limit`).
    pub test_images: usize,
    /// MD5 of the training images and labels, in the order the subset holds them.
    pub train_data_md5: String,
    /// Optimizer updates per epoch.
    pub updates_per_epoch: u64,
}

impl RunDir {
    /// Creates `path` if needed and takes its lock.
    ///
    /// # Errors
    /// [`TrainError::Busy`] when another process holds it (naming that process),
    /// [`TrainError::Io`] when the directory or lock file cannot be created.
    pub fn lock(path: &Path) -> Result<Self, TrainError> {
        let io = |source| TrainError::Io {
            path: path.to_path_buf(),
            source,
        };
        std::fs::create_dir_all(path).map_err(io)?;
        let lock_path = path.join(LOCK_FILE);
        let mut file = std::fs::OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .open(&lock_path)
            .map_err(io)?;
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
            Err(std::fs::TryLockError::Error(e)) => return Err(io(e)),
        }
        file.set_len(0).map_err(io)?;
        write!(file, "pid {} on {}", std::process::id(), hostname()).map_err(io)?;
        Ok(Self {
            path: path.to_path_buf(),
            _lock: file,
        })
    }

    /// The directory.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The checkpoint folder.
    pub fn checkpoints(&self) -> PathBuf {
        self.path.join("checkpoint")
    }

    /// The run artifacts already in the directory, if any (a short description).
    pub fn previous_run(&self) -> Option<String> {
        let mut epochs = super::checkpoint::epochs_on_disk(&self.checkpoints());
        epochs.reverse();
        let mut found: Vec<String> = Vec::new();
        if !epochs.is_empty() {
            let list: Vec<String> = epochs.iter().map(usize::to_string).collect();
            found.push(format!("checkpoints of epochs {}", list.join(", ")));
        }
        for name in ["metrics.csv", "config.toml", "run.toml", "lr.csv"] {
            if self.path.join(name).is_file() {
                found.push(name.to_string());
            }
        }
        let events = std::fs::read_dir(self.path.join("tensorboard"))
            .into_iter()
            .flatten()
            .flatten()
            .any(|e| e.file_name().to_string_lossy().starts_with("events.out.tfevents."));
        if events {
            found.push("tensorboard/ event files".into());
        }
        (!found.is_empty()).then(|| found.join(", "))
    }

    /// Files a run would write over that no run wrote: a `train/` or `valid/` folder holding
    /// anything but Burn's `epoch-N` logs (e.g. a CIFAR-10 image folder), a `tensorboard/`
    /// holding anything but event files, a `checkpoint` or `tensorboard` that is not a folder. A run never starts (nor `--overwrite` deletes) there.
    pub fn foreign(&self) -> Option<String> {
        for split in ["train", "valid"] {
            let dir = self.path.join(split);
            let Ok(entries) = std::fs::read_dir(&dir) else {
                continue;
            };
            for entry in entries.flatten() {
                let name = entry.file_name().to_string_lossy().into_owned();
                let is_log = name.strip_prefix("epoch-").is_some_and(|n| n.parse::<usize>().is_ok());
                if !is_log {
                    return Some(format!("{split}/{name}"));
                }
            }
        }
        let tensorboard = self.path.join("tensorboard");
        if tensorboard.exists() && !tensorboard.is_dir() {
            return Some("tensorboard (not a folder)".into());
        }
        for entry in std::fs::read_dir(&tensorboard).into_iter().flatten().flatten() {
            let name = entry.file_name().to_string_lossy().into_owned();
            if !(name.starts_with("events.out.tfevents.") && entry.path().is_file()) {
                return Some(format!("tensorboard/{name}"));
            }
        }
        let ckpt = self.checkpoints();
        (ckpt.exists() && !ckpt.is_dir()).then(|| "checkpoint (not a folder)".to_string())
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

    /// Removes temporary files a killed process left (unfinished checkpoint and CSV writes);
    /// returns how many.
    pub fn remove_leftovers(&self) -> usize {
        let atomic = std::fs::read_dir(&self.path)
            .into_iter()
            .flatten()
            .filter_map(|e| e.ok())
            .filter(|e| {
                e.file_name()
                    .to_string_lossy()
                    .starts_with(super::artifacts::TMP_PREFIX)
            })
            .filter(|e| std::fs::remove_file(e.path()).is_ok())
            .count();
        atomic + super::checkpoint::remove_partial_files(&self.checkpoints())
    }

    /// Reads the config and facts of the run the checkpoints belong to.
    ///
    /// # Errors
    /// [`TrainError::NotARun`] when `config.toml` or `run.toml` is missing or unreadable.
    pub fn read_run(&self) -> Result<(TrainConfig, RunFacts), TrainError> {
        let read = |name: &str| {
            let path = self.path.join(name);
            std::fs::read_to_string(&path).map_err(|e| TrainError::NotARun {
                dir: self.path.clone(),
                why: format!("{name}: {e}"),
            })
        };
        let config = TrainConfig::from_toml(&read("config.toml")?).map_err(|e| TrainError::NotARun {
            dir: self.path.clone(),
            why: format!("config.toml: {e}"),
        })?;
        let facts = super::config::parse_toml(&read("run.toml")?).map_err(|e| TrainError::NotARun {
            dir: self.path.clone(),
            why: format!("run.toml: {e}"),
        })?;
        Ok((config, facts))
    }

    /// Writes the run's `config.toml` and `run.toml` (atomically).
    ///
    /// # Errors
    /// [`TrainError::Io`].
    pub fn write_run(&self, cfg: &TrainConfig, facts: &RunFacts) -> Result<(), TrainError> {
        let text = |r: Result<String, toml::ser::Error>| r.map_err(|e| TrainError::Burn(e.to_string()));
        let config = text(toml::to_string_pretty(cfg))?;
        let facts = text(toml::to_string_pretty(facts))?;
        super::artifacts::write_atomic(&self.path.join("config.toml"), config.as_bytes())?;
        super::artifacts::write_atomic(&self.path.join("run.toml"), facts.as_bytes())
    }
}

fn hostname() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .or_else(|_| std::env::var("HOSTNAME"))
        .or_else(|_| std::env::var("COMPUTERNAME"))
        .map(|h| h.trim().to_string())
        .unwrap_or_else(|_| "this machine".into())
}

/// The settings that differ between the run of a checkpoint (`then`) and now, one entry each:
/// `[model] arch: resnet8 in the checkpoint, resnet20 now`. Settings in [`FREE_ON_RESUME`] are
/// left out; `[training] epochs` too when `epochs_free` (the schedule does not depend on it).
pub fn config_changes(then: &TrainConfig, now: &TrainConfig, epochs_free: bool) -> Vec<String> {
    let (a, b) = match (flatten_config(then), flatten_config(now)) {
        (Ok(a), Ok(b)) => (a, b),
        (Err(e), _) | (_, Err(e)) => return vec![format!("the configs cannot be compared ({e})")],
    };
    let keys: std::collections::BTreeSet<&String> = a.keys().chain(b.keys()).collect();
    keys.into_iter()
        .filter(|k| !FREE_ON_RESUME.contains(&k.as_str()))
        .filter(|k| !(epochs_free && k.as_str() == "[training] epochs"))
        .filter_map(|k| {
            let (x, y) = (a.get(k), b.get(k));
            (x != y).then(|| {
                let show = |v: Option<&String>| v.cloned().unwrap_or_else(|| "(not set)".into());
                format!("{k}: {} in the checkpoint, {} now", show(x), show(y))
            })
        })
        .collect()
}

/// The differences between the facts of the checkpoint's run and this one.
pub fn fact_changes(then: &RunFacts, now: &RunFacts) -> Vec<String> {
    let mut out = Vec::new();
    let mut cmp = |what: &str, a: String, b: String| {
        if a != b {
            out.push(format!("{what}: {a} in the checkpoint, {b} now"));
        }
    };
    cmp(
        "training images",
        then.train_images.to_string(),
        now.train_images.to_string(),
    );
    cmp(
        "validation images",
        then.test_images.to_string(),
        now.test_images.to_string(),
    );
    cmp(
        "optimizer updates per epoch",
        then.updates_per_epoch.to_string(),
        now.updates_per_epoch.to_string(),
    );
    if then.train_images == now.train_images && then.train_data_md5 != now.train_data_md5 {
        out.push(format!(
            "training images: other images or order (MD5 {} in the checkpoint, {} now)",
            then.train_data_md5, now.train_data_md5
        ));
    }
    out
}

/// `[table] key` -> value (strings without quotes) for every leaf of the config.
fn flatten_config(cfg: &TrainConfig) -> Result<BTreeMap<String, String>, toml::ser::Error> {
    let mut out = BTreeMap::new();
    if let toml::Value::Table(t) = toml::Value::try_from(cfg)? {
        for (table, value) in t {
            flatten(&table, &value, &mut out);
        }
    }
    Ok(out)
}

fn flatten(table: &str, value: &toml::Value, out: &mut BTreeMap<String, String>) {
    match value {
        toml::Value::Table(t) => {
            for (k, v) in t {
                match v {
                    toml::Value::Table(_) => flatten(&format!("{table}.{k}"), v, out),
                    toml::Value::Array(a) if a.iter().any(toml::Value::is_table) => {
                        for (i, item) in a.iter().enumerate() {
                            flatten(&format!("{table}.{k}.{}", i + 1), item, out);
                        }
                    }
                    _ => {
                        out.insert(format!("[{table}] {k}"), show(v));
                    }
                }
            }
        }
        toml::Value::Array(a) => {
            for (i, item) in a.iter().enumerate() {
                flatten(&format!("{table}.{}", i + 1), item, out);
            }
        }
        other => {
            out.insert(format!("[{table}]"), show(other));
        }
    }
}

fn show(v: &toml::Value) -> String {
    match v {
        toml::Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cfg(arch: &str, opt: &str, extra: &str) -> TrainConfig {
        TrainConfig::from_toml(&format!(
            "[model]\narch = \"{arch}\"\n[optimizer]\nname = \"{opt}\"\nlr = 0.1\n[scheduler]\ntype = \"multi_step\"\n\
             milestones = [2, 4]\n[training]\nepochs = 5\nbatch_size = 8\n{extra}"
        ))
        .unwrap()
    }

    #[test]
    fn a_tensorboard_folder_with_other_files_is_not_ours() {
        let tmp = tempfile::tempdir().unwrap();
        let run = RunDir::lock(tmp.path()).unwrap();
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
    fn changes_name_the_table_key_and_both_values() {
        let a = cfg("resnet8", "sgd", "device = \"cpu\"\n");
        let b = cfg(
            "resnet20",
            "adamw",
            "device = \"ndarray\"\n[[param_groups]]\nparams = \"fc\"\n",
        );
        let changes = config_changes(&a, &b, false);
        assert!(changes.contains(&"[model] arch: resnet8 in the checkpoint, resnet20 now".to_string()));
        assert!(changes.contains(&"[optimizer] name: sgd in the checkpoint, adamw now".to_string()));
        assert!(
            changes
                .iter()
                .any(|c| c.starts_with("[param_groups.1] params: (not set)")),
            "{changes:?}"
        );
        assert!(!changes.iter().any(|c| c.contains("device")), "{changes:?}");
        let mut c = a.clone();
        c.scheduler = toml::from_str("type = \"multi_step\"\nmilestones = [2, 3]").unwrap();
        c.training.epochs = 6;
        assert_eq!(
            config_changes(&a, &c, false),
            vec![
                "[scheduler] milestones: [2, 4] in the checkpoint, [2, 3] now",
                "[training] epochs: 5 in the checkpoint, 6 now"
            ]
        );
        assert_eq!(config_changes(&a, &c, true).len(), 1);
    }

    #[test]
    fn a_second_lock_names_the_holder() {
        let tmp = tempfile::tempdir().unwrap();
        let first = RunDir::lock(tmp.path()).unwrap();
        let err = RunDir::lock(tmp.path()).unwrap_err().to_string();
        assert!(err.contains(&format!("pid {}", std::process::id())), "{err}");
        assert!(!err.contains('\n'), "{err}");
        drop(first);
        RunDir::lock(tmp.path()).unwrap();
    }
}
