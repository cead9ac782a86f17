//! `--resume` continues only its own run: the settings, data and schedule of the checkpoint
//! must be this run's, each change named (`[model] arch: resnet8 in the checkpoint, resnet20
//! now`).

use super::seal::{self, EpochSeal};
use super::state::{RunDir, Start};
use crate::config::TrainConfig;
use crate::data::Cifar10;
use crate::error::TrainError;
use crate::run::artifacts::{read_metrics_csv, EpochRecord};
use crate::run::checkpoint::{file_path, newest_intact, newest_intact_before, seals_epochs};
use crate::run::layout::*;
use crate::run::weights::kept_needs_batches;
use burn_lr::learner::LearnerSchedule;
use md5::{Digest, Md5};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// Settings that may change on `--resume` without changing what the checkpoint means.
const FREE_ON_RESUME: [&str; 5] = [
    "[training] device",
    "[training] artifact_dir",
    "[training] on_non_finite",
    "[data] dir",
    "[data] num_workers",
];

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
    /// Whether the run seals each epoch with its checkpoint (`checkpoint/run-N.toml`; runs of
    /// burn-lr before the seals have none).
    #[serde(default)]
    pub epoch_seals: bool,
}

/// The facts of this run: data and stepping.
pub(super) fn facts(data: &Cifar10, schedule: &LearnerSchedule) -> RunFacts {
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
        epoch_seals: true,
    }
}

/// The run a checkpoint belongs to, as sealed with the epoch resumed from (or, for a run of a
/// burn-lr before the seals, as its `config.toml` and `run.toml` say).
struct Then {
    config: TrainConfig,
    facts: RunFacts,
    /// The checkpoint resumed from ([`resume_point`]): the newest intact one, or the one before
    /// a finished epoch whose kept weights are missing.
    from: usize,
    /// The newer checkpoints skipped or passed over, one line each.
    skipped: Vec<String>,
    /// The finished run's last epoch, when the resume trains up to it again for the kept weights.
    kept_after: Option<usize>,
    /// The seal of `from` (`None` for a run before the seals).
    seal: Option<EpochSeal>,
    /// The run's files that differ from their sealed copies (`config.toml`, `run.toml`).
    edited: Vec<&'static str>,
}

/// Reads [`Then`] for a resume with `cfg` (its `[training] epochs` says whether the run is
/// finished).
fn then(dir: &RunDir, cfg: &TrainConfig) -> Result<Then, TrainError> {
    dir.lock.refuse_no_run()?;
    let ckpt = dir.checkpoints();
    let ResumePoint {
        from,
        skipped,
        kept_after,
    } = resume_point(dir, cfg)?;
    if !seals_epochs(&ckpt) {
        let (config, facts) = read_run(dir)?;
        return Ok(Then {
            config,
            facts,
            from,
            skipped,
            kept_after,
            seal: None,
            edited: Vec::new(),
        });
    }
    let not_a_run = |why: String| TrainError::NotARun {
        dir: dir.path().to_path_buf(),
        why,
    };
    let seal = seal::read(&ckpt, from).map_err(not_a_run)?;
    let name = ckpt.join(crate::run::checkpoint::seal_name(from));
    let in_seal = |what: &str, e: String| not_a_run(format!("{} ({what}): {e}", name.display()));
    let config = TrainConfig::from_toml(&seal.config).map_err(|e| in_seal(CONFIG_TOML, e.to_string()))?;
    let facts = crate::config::parse_toml(&seal.facts).map_err(|e| in_seal(RUN_TOML, e))?;
    let edited = edited_files(dir, &config, &facts);
    Ok(Then {
        config,
        facts,
        from,
        skipped,
        kept_after,
        seal: Some(seal),
        edited,
    })
}

/// Where a resume with `cfg` continues from ([`ResumePoint`]): the newest intact checkpoint,
/// except in a finished run (its last epoch checkpointed) whose kept weights (`model.bpk`) are
/// missing (the process stopped or failed between the last epoch's seal and that write) and
/// need that epoch's training batches: an SWA average whose BatchNorm statistics are recomputed,
/// schedule-free's `x`. There the run continues from the intact checkpoint before the last
/// and trains the epochs after it again, which writes them as a straight run does. (Kept
/// weights that need no batches are written from the last checkpoint: `train_in`.)
///
/// # Errors
/// [`TrainError::NoCheckpoint`] without an intact checkpoint; [`TrainError::NotARun`] for such
/// a run without an intact checkpoint before its last.
fn resume_point(dir: &RunDir, cfg: &TrainConfig) -> Result<ResumePoint, TrainError> {
    let ckpt = dir.checkpoints();
    let (newest, mut skipped) = newest_intact(&ckpt);
    let newest = newest.ok_or_else(|| TrainError::NoCheckpoint(ckpt.clone()))?;
    let kept = dir.path().join(KEPT_MODEL);
    let as_is = ResumePoint {
        from: newest,
        skipped: skipped.clone(),
        kept_after: None,
    };
    if newest != cfg.training.epochs || std::fs::symlink_metadata(&kept).is_ok() || !kept_needs_batches(cfg) {
        return Ok(as_is);
    }
    let (before, older) = newest_intact_before(&ckpt, newest);
    let Some(before) = before else {
        let damaged: String = older.iter().map(|line| format!("; {line}")).collect();
        return Err(TrainError::NotARun {
            dir: dir.path().to_path_buf(),
            why: format!(
                "its last epoch ({newest}) is checkpointed but {} is missing, and no intact checkpoint before it is \
                 there to train that epoch again from (its BatchNorm statistics need the epoch's training batches){damaged}; \
                 --overwrite trains the run again",
                kept.display()
            ),
        });
    };
    let epochs = match newest - before {
        1 => format!("epoch {newest} is"),
        _ => format!("epochs {}..={newest} are", before + 1),
    };
    skipped.push(format!(
        "the run finished epoch {newest}, but {} is missing (the run stopped or failed before writing it): {epochs} \
         trained again from the checkpoint of epoch {before}, which writes the weights a straight run keeps",
        kept.display()
    ));
    skipped.extend(older);
    Ok(ResumePoint {
        from: before,
        skipped,
        kept_after: Some(newest),
    })
}

/// Where a resume continues from ([`resume_point`]).
struct ResumePoint {
    /// The checkpoint resumed from.
    from: usize,
    /// One line for each newer checkpoint passed over.
    skipped: Vec<String>,
    /// The finished run's last epoch, when the resume trains again up to it to write the kept
    /// weights.
    kept_after: Option<usize>,
}

/// The run's files whose meaning differs from the sealed copies (`config.toml`, `run.toml`): a
/// file that is missing or unreadable, or that differs in a setting a resume compares. (A
/// resume with another device or epochs rewrites them, which is no edit.)
fn edited_files(dir: &RunDir, config: &TrainConfig, facts: &RunFacts) -> Vec<&'static str> {
    let read = |file: &str| std::fs::read_to_string(dir.path().join(file)).ok();
    let config_edited = read(CONFIG_TOML)
        .and_then(|text| TrainConfig::from_toml(&text).ok())
        .is_none_or(|live| !config_changes(config, &live, true).is_empty());
    let facts_edited = read(RUN_TOML)
        .and_then(|text| crate::config::parse_toml::<RunFacts>(&text).ok())
        .is_none_or(|live| !fact_changes(facts, &live).is_empty());
    [(CONFIG_TOML, config_edited), (RUN_TOML, facts_edited)]
        .into_iter()
        .filter_map(|(file, edited)| edited.then_some(file))
        .collect()
}

/// `--resume` before any data is read: a run is there, with an intact checkpoint, and its
/// config equals this one; every change is named at once (`epochs` too, when the checkpoint's
/// schedule depends on it).
pub(super) fn precheck(dir: &RunDir, cfg: &TrainConfig) -> Result<(), TrainError> {
    let then = then(dir, cfg)?;
    refuse_fewer_epochs(&then, cfg.training.epochs)?;
    let epochs_free = epochs_free(dir, cfg, &then);
    let changes = config_changes(&then.config, cfg, epochs_free);
    mismatch(dir, with_edits(changes, &then))
}

/// A resume whose `[training] epochs` (`--epochs`) is below the epochs the run already trained
/// is refused before any data is read: there is nothing such a run could be.
fn refuse_fewer_epochs(then: &Then, epochs: usize) -> Result<(), TrainError> {
    let done = then.kept_after.unwrap_or(then.from);
    match done > epochs {
        true => Err(TrainError::Settings(format!(
            "--resume with [training] epochs = {epochs} (--epochs): the run already trained {done} epochs; resume \
             with epochs >= {done}"
        ))),
        false => Ok(()),
    }
}

/// Whether the checkpoint's schedule is the same for this run's `[training] epochs` (the
/// checkpoint's config with only `epochs` changed still matches its scheduler record).
fn epochs_free(dir: &RunDir, now: &TrainConfig, then: &Then) -> bool {
    let mut cfg = then.config.clone();
    cfg.training.epochs = now.training.epochs;
    crate::run::schedule::quiet_schedule(&cfg, then.facts.train_images)
        .is_ok_and(|mut schedule| schedule.check_resume(dir.path(), then.from).is_ok())
}

/// `changes`, and, when there are any, which of the run's files were edited after it wrote
/// them (the checkpoint's sealed copies are what is compared).
fn with_edits(mut changes: Vec<String>, then: &Then) -> Vec<String> {
    if !changes.is_empty() && !then.edited.is_empty() {
        changes.push(format!(
            "(the run's {} differs from the copy sealed with the checkpoint of epoch {}: edited after the run wrote it; \
             the sealed copy is what counts)",
            then.edited.join(" and "),
            then.from
        ));
    }
    changes
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

/// `--resume` with the data and schedule: the checks of [`precheck`], then the data facts and
/// the scheduler record of the newest intact checkpoint (loaded into `schedule`), the sealed
/// model and optimizer records, and the `metrics.csv` and `lr.csv` rows of the epochs before
/// it, from its seal (a run before the seals: from `metrics.csv`).
pub(super) fn start(
    dir: &RunDir,
    cfg: &TrainConfig,
    facts: &RunFacts,
    schedule: &mut LearnerSchedule,
) -> Result<Start, TrainError> {
    let then = then(dir, cfg)?;
    let from = then.from;
    // The scheduler record says whether the resolved schedule is the same; only then may
    // `epochs` change (a schedule whose length depends on it is another schedule).
    let schedule_check = schedule.check_resume(dir.path(), from);
    let mut changes = config_changes(&then.config, cfg, schedule_check.is_ok());
    changes.extend(fact_changes(&then.facts, facts));
    if let (Err(e), true) = (&schedule_check, changes.is_empty()) {
        // Same config and data, yet another schedule record: name the versions that wrote it.
        changes.push(format!(
            "{e} (burn-lr {} wrote the checkpoint, {} now)",
            then.facts.burn_lr_version, facts.burn_lr_version
        ));
    }
    mismatch(dir, with_edits(changes, &then))?;
    readable(dir, from)?;
    match &then.seal {
        Some(seal) => from_seal(dir, &then, seal),
        None => from_files(dir, then),
    }
}

/// Where a sealed run starts: the seal's rows, and a note for each file it rebuilds.
fn from_seal(dir: &RunDir, then: &Then, seal: &EpochSeal) -> Result<Start, TrainError> {
    let rows = seal.rows(&dir.checkpoints())?;
    let mut restored = Vec::new();
    if std::fs::read_to_string(dir.metrics_csv()).ok().as_ref() != Some(&seal.metrics_csv) {
        restored.push(format!(
            "{}: rebuilt with the rows of epochs 1..={} sealed with their checkpoint (it was missing, truncated \
             or edited, the run stopped before writing it, or it held rows of epochs now trained again)",
            dir.metrics_csv().display(),
            then.from
        ));
    }
    for file in &then.edited {
        restored.push(format!(
            "{}: differs from the copy sealed with the checkpoint (edited, cut short or deleted); rewritten",
            dir.path().join(file).display()
        ));
    }
    Ok(Start {
        from: Some(then.from),
        rows,
        skipped: then.skipped.clone(),
        restored,
        lr_csv: Some(seal.lr_csv.clone()),
        kept_after: then.kept_after,
    })
}

/// Where a run before the seals starts: the `metrics.csv` rows before its checkpoint.
fn from_files(dir: &RunDir, then: Then) -> Result<Start, TrainError> {
    let (from, kept_after) = (then.from, then.kept_after);
    let rows: Vec<EpochRecord> = read_metrics_csv(&dir.metrics_csv())?
        .into_iter()
        .filter(|r| r.epoch <= from)
        .collect();
    let mut skipped = then.skipped;
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
        restored: Vec::new(),
        lr_csv: None,
        kept_after,
    })
}

fn readable(dir: &RunDir, epoch: usize) -> Result<(), TrainError> {
    let ckpt = dir.checkpoints();
    let unreadable = |kind: &str, e: String| TrainError::NotARun {
        dir: dir.path().to_path_buf(),
        why: format!(
            "{}: {e} (sealed, so not damaged: written by another burn-lr or Burn version?)",
            file_path(&ckpt, kind, epoch).display()
        ),
    };
    burn::store::ModuleRecord::load(file_path(&ckpt, MODEL, epoch)).map_err(|e| unreadable(MODEL, e.to_string()))?;
    burn::optim::OptimizerRecord::load(file_path(&ckpt, OPTIM, epoch)).map_err(|e| unreadable(OPTIM, e.to_string()))?;
    Ok(())
}

/// Reads the config and facts of the run the checkpoints belong to.
///
/// # Errors
/// [`TrainError::NotARun`] when `config.toml` or `run.toml` is missing or unreadable.
fn read_run(dir: &RunDir) -> Result<(TrainConfig, RunFacts), TrainError> {
    let read = |name: &str| {
        let path = dir.path().join(name);
        std::fs::read_to_string(&path).map_err(|e| TrainError::NotARun {
            dir: dir.path().to_path_buf(),
            why: format!("{name}: {e}"),
        })
    };
    let config = TrainConfig::from_toml(&read(CONFIG_TOML)?).map_err(|e| TrainError::NotARun {
        dir: dir.path().to_path_buf(),
        why: format!("{CONFIG_TOML}: {e}"),
    })?;
    let facts = crate::config::parse_toml(&read(RUN_TOML)?).map_err(|e| TrainError::NotARun {
        dir: dir.path().to_path_buf(),
        why: format!("{RUN_TOML}: {e}"),
    })?;
    Ok((config, facts))
}

/// The settings that differ between the run of a checkpoint (`then`) and now, one entry each:
/// `[model] arch: resnet8 in the checkpoint, resnet20 now`. Settings in `FREE_ON_RESUME` (device, artifact directory, data folder, workers, `on_non_finite`) are
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
}
