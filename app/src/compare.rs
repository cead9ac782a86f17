//! `burn-lr compare`: several configs trained one after the other on the same data with the
//! same seed, then `summary.md` (best and final validation accuracy, epochs and time to a target
//! accuracy, total time) and overlay charts (validation accuracy against epoch; learning rate
//! against optimizer update, log axis). Each run keeps its own artifact directory
//! (`<out>/<config file stem>/`, with the `config.toml` it trained), so a run can be inspected
//! or plotted on its own; the same `burn-lr compare` command with `--resume` continues an
//! interrupted comparison.

use super::config::TrainConfig;
use crate::error::TrainError;
use crate::run::artifacts::{read_metrics_csv, write_atomic, EpochRecord};
use crate::run::dir::StartMode;
use crate::run::layout::*;
use crate::run::{self, TrainOptions};
use burn_lr::monitor::overlay;
pub use burn_lr::monitor::overlay::{COMPARE_ACCURACY_PNG, COMPARE_LR_PNG};
use burn_lr::monitor::plot::EpochPoint;
use burn_lr::monitor::{read_lr_csv, LrTrace, LR_CSV};
use std::path::{Path, PathBuf};

/// One config of a comparison: its name (the file stem, also its directory under `--out`) and
/// the config with the command's overrides applied.
pub struct Contender {
    /// File stem of the config, e.g. `resnet20-onecycle`.
    pub name: String,
    /// The config as trained (artifact directory `<out>/<name>`, the comparison's seed).
    pub config: TrainConfig,
}

/// What one run of a comparison gave.
pub struct CompareRun {
    /// The contender's name.
    pub name: String,
    /// `[scheduler] type`, with the weights validated where they are not the stepped ones
    /// (`cosine_annealing, SWALR + SWA average`, `fixed, schedule-free x (adamw_schedule_free)`).
    pub scheduler: String,
    /// Epochs the config trains.
    pub epochs_planned: usize,
    /// One row per finished epoch (`metrics.csv`).
    pub epochs: Vec<EpochRecord>,
    /// The learning rate of every optimizer update (`lr.csv`).
    pub lr: LrTrace,
    /// Why the run ended early, when it did (e.g. a diverging loss): one line.
    pub failure: Option<String>,
}

impl CompareRun {
    /// The best validation accuracy (percent) and its epoch.
    pub fn best(&self) -> Option<(f64, usize)> {
        self.epochs
            .iter()
            .map(|e| (e.val_acc, e.epoch))
            .reduce(|a, b| if b.0 > a.0 { b } else { a })
    }

    /// The first epoch whose validation accuracy reaches `target` (percent), with the wall time
    /// of the epochs up to it (seconds).
    pub fn reaches(&self, target: f64) -> Option<(usize, f64)> {
        let mut seconds = 0.0;
        for e in &self.epochs {
            seconds += e.seconds;
            if e.val_acc >= target {
                return Some((e.epoch, seconds));
            }
        }
        None
    }
}

/// The files `compare` writes into `--out` next to the run directories.
pub const OWN_FILES: [&str; 3] = [SUMMARY_MD, COMPARE_ACCURACY_PNG, COMPARE_LR_PNG];

/// The run name of a config file: its file stem, which names the run's directory under `--out`
/// and its row of `summary.md`, so it must be a plain folder name: not empty, not starting with
/// `.` (`...toml` would be `..`, the parent of `--out`), without a path separator, a control
/// character or `|` (a column of the summary's table), in UTF-8.
///
/// # Errors
/// [`TrainError::Settings`] naming the file and what is wrong with its name.
pub fn run_name(config: &Path) -> Result<String, TrainError> {
    let stem = config.file_stem().map(|s| s.to_str());
    let bad = |why: &str| {
        TrainError::Settings(format!(
            "compare: {}: {why}; the config's file name (without .toml) names its run directory under --out, so \
             rename the file (letters, digits, `-`, `_`)",
            config.display()
        ))
    };
    let name = match stem {
        None | Some(Some("")) => return Err(bad("has no file name")),
        Some(None) => return Err(bad("the file name is not UTF-8")),
        Some(Some(name)) => name,
    };
    if name.starts_with('.') {
        return Err(bad(&format!(
            "the run name `{name}` starts with `.` (a hidden or parent folder)"
        )));
    }
    if name.chars().any(|c| c.is_control() || matches!(c, '/' | '\\' | '|')) {
        return Err(bad(&format!(
            "the run name {name:?} holds a path separator, `|` or a control character"
        )));
    }
    Ok(name.to_string())
}

/// The run names of a comparison are distinct folder names (also where case does not count,
/// as on macOS and Windows) and none is a file `compare` writes next to them.
///
/// # Errors
/// [`TrainError::Settings`] naming the names.
pub fn check_names(names: &[String]) -> Result<(), TrainError> {
    for (i, name) in names.iter().enumerate() {
        let folded = name.to_lowercase();
        if let Some(file) = OWN_FILES.iter().find(|f| f.to_lowercase() == folded) {
            return Err(TrainError::Settings(format!(
                "compare: a config named `{name}.toml` would train into `{file}`, the file compare writes its \
                 {} to; rename the config",
                if *file == SUMMARY_MD { "summary" } else { "chart" }
            )));
        }
        if let Some(other) = names[..i].iter().find(|o| o.to_lowercase() == folded) {
            return Err(TrainError::Settings(format!(
                "compare: two configs are named `{other}` and `{name}` (each run's directory is its file stem, and \
                 these are one folder where case does not count); rename one"
            )));
        }
    }
    Ok(())
}

/// Checks that every contender trains on the same data the same way: `[data]` dir,
/// `train_limit`, `test_limit`, `augment` and `num_workers` (above 1 the batch order is not
/// fixed) and `[training] device` and `devices` equal (the seed is the comparison's own), and
/// that names are distinct.
///
/// # Errors
/// [`TrainError::Settings`] naming the field and the two configs.
pub fn check(contenders: &[Contender]) -> Result<(), TrainError> {
    if contenders.len() < 2 {
        return Err(TrainError::Settings(
            "compare: --configs: give at least two configs".into(),
        ));
    }
    let first = &contenders[0];
    for (i, c) in contenders.iter().enumerate() {
        if contenders[..i].iter().any(|o| o.name == c.name) {
            return Err(TrainError::Settings(format!(
                "compare: two configs are named `{}` (each run's directory is its file stem); rename one",
                c.name
            )));
        }
        let (a, b) = (&first.config.data, &c.config.data);
        let shown = |v: Option<String>| v.unwrap_or_else(|| "none".into());
        let limit = |n: Option<usize>| shown(n.map(|n| n.to_string()));
        let dir = |d: &Option<PathBuf>| shown(d.as_ref().map(|d| d.display().to_string()));
        let fields = [
            ("dir", dir(&a.dir), dir(&b.dir)),
            ("train_limit", limit(a.train_limit), limit(b.train_limit)),
            ("test_limit", limit(a.test_limit), limit(b.test_limit)),
            ("augment", a.augment.to_string(), b.augment.to_string()),
            ("num_workers", a.num_workers.to_string(), b.num_workers.to_string()),
        ];
        for (field, x, y) in fields {
            if x != y {
                let fix = match field {
                    "dir" | "train_limit" | "test_limit" => {
                        "pass --data-dir / --train-limit / --test-limit to set it for all"
                    }
                    _ => "set it the same in every config",
                };
                return Err(TrainError::Settings(format!(
                    "compare: [data] {field} differs: {} has {x}, {} has {y}; the runs must see the same data ({fix})",
                    first.name, c.name
                )));
            }
        }
        let (da, db) = (first.config.training.device, c.config.training.device);
        if da != db {
            return Err(TrainError::Settings(format!(
                "compare: [training] device differs: {} has {da:?}, {} has {db:?}; times are only comparable on one \
                 device (pass --device to set it for all)",
                first.name, c.name
            )));
        }
        let (da, db) = (&first.config.training.devices, &c.config.training.devices);
        if da.indices() != db.indices() {
            return Err(TrainError::Settings(format!(
                "compare: [training] devices differs: {} has {da}, {} has {db}; times are only comparable on \
                 the same devices (set it the same in every config)",
                first.name, c.name
            )));
        }
    }
    Ok(())
}

/// Trains every contender in order on one copy of the data (loaded once, with the first
/// config's `[data]`), each in its own locked directory (all locked before the first run
/// starts, so a conflict fails before hours of training). With `opts.start` =
/// [`StartMode::Resume`] a directory with an intact checkpoint is resumed (a finished run
/// returns its rows at once) and any other starts anew. A run whose loss diverges is recorded
/// (its epochs so far and [`CompareRun::failure`]) and the next one starts.
///
/// # Errors
/// [`Stopped`]: the error of a directory that cannot be used, of the data, or of a run that
/// fails otherwise (Ctrl-C, a checkpoint or plateau error, Burn), with the runs finished
/// before it.
pub fn train_all(contenders: &[Contender], opts: &TrainOptions) -> Result<Vec<CompareRun>, Stopped> {
    let fail = |error| Stopped {
        runs: Vec::new(),
        error,
    };
    check(contenders).map_err(fail)?;
    let mut dirs = Vec::new();
    for c in contenders {
        let options = options_for(c, opts);
        dirs.push((run::prepare(&c.config, options.start).map_err(fail)?, options));
    }
    let data = run::load_data(&contenders[0].config).map_err(fail)?;
    let mut runs = Vec::new();
    for (i, (c, (dir, options))) in contenders.iter().zip(dirs).enumerate() {
        if !opts.quiet {
            say!(
                "== [{}/{}] {}: {:?}, scheduler {}, {} epochs",
                i + 1,
                contenders.len(),
                c.name,
                c.config.model.arch,
                c.config.scheduler.kind(),
                c.config.training.epochs
            );
        }
        let result = run::train_in(&c.config, dir, data.clone(), &options);
        let (epochs, failure) = match result {
            Ok(summary) => (summary.epochs, None),
            Err(e @ TrainError::Diverged { .. }) => {
                tell!("warning: compare: {}: {e}", c.name);
                match read_metrics_csv(&c.config.training.artifact_dir.join(METRICS_CSV)) {
                    Ok(rows) => (rows, Some(e.to_string())),
                    Err(error) => return Err(Stopped { runs, error }),
                }
            }
            Err(error) => return Err(Stopped { runs, error }),
        };
        let lr_path = c.config.training.artifact_dir.join(LR_CSV);
        let lr = match lr_path.is_file().then(|| read_lr_csv(&lr_path)) {
            None => LrTrace::default(),
            Some(Ok(lr)) => lr,
            Some(Err(e)) => return Err(Stopped { runs, error: e.into() }),
        };
        runs.push(CompareRun {
            name: c.name.clone(),
            scheduler: schedule_and_weights(&c.config),
            epochs_planned: c.config.training.epochs,
            epochs,
            lr,
            failure,
        });
    }
    Ok(runs)
}

/// A comparison that stopped early: why, and the runs finished before (for a partial summary).
pub struct Stopped {
    /// The runs that finished (or diverged) before the error.
    pub runs: Vec<CompareRun>,
    /// Why the comparison stopped.
    pub error: TrainError,
}

/// The options of one contender: on `--resume`, resume a directory with an intact checkpoint
/// and start the others anew (a run killed before its first checkpoint has nothing to keep; a
/// finished run whose kept weights are missing and need its last epoch's batches, without an
/// intact checkpoint before that epoch, is trained again).
fn options_for(c: &Contender, opts: &TrainOptions) -> TrainOptions {
    let dir = &c.config.training.artifact_dir;
    let newest = crate::run::dir::newest_intact_in(dir);
    let ckpt = dir.join(crate::run::layout::CHECKPOINT_DIR);
    let unkept_without_earlier = newest == Some(c.config.training.epochs)
        && std::fs::symlink_metadata(dir.join(crate::run::layout::KEPT_MODEL)).is_err()
        && crate::run::weights::kept_needs_batches(&c.config)
        && crate::run::checkpoint::newest_intact_before(&ckpt, c.config.training.epochs)
            .0
            .is_none();
    let start = match opts.start {
        StartMode::Resume if newest.is_none() || unkept_without_earlier => StartMode::Overwrite,
        other => other,
    };
    TrainOptions { start, ..opts.clone() }
}

/// `[scheduler] type` and, where they are not the stepped ones, the weights a run validates.
fn schedule_and_weights(cfg: &TrainConfig) -> String {
    let kind = match &cfg.scheduler {
        burn_lr::schedule::SchedulerConfig::Swa(s) => format!("{}, SWALR", s.schedule.kind()),
        other => other.kind().to_string(),
    };
    if cfg.optimizer.name.is_schedule_free() {
        return format!("{kind}, schedule-free x ({})", cfg.optimizer.name.as_str());
    }
    match &cfg.averaging {
        Some(a) => format!("{kind} + {}", a.describe().trim_start_matches("the ")),
        None => kind,
    }
}

/// The target validation accuracy, percent: `given`, else the first run's final accuracy (the
/// baseline listed first, e.g. a fixed LR: "which schedules reach it, and how much sooner?");
/// none when that run diverged or finished no epoch (its last finite epoch is no baseline).
pub fn target(runs: &[CompareRun], given: Option<f64>) -> Option<f64> {
    given.or_else(|| {
        let first = runs.first().filter(|r| r.failure.is_none())?;
        first.epochs.last().map(|e| e.val_acc)
    })
}

fn minutes(s: f64) -> String {
    format!("{}:{:02}", (s / 60.0).floor() as u64, (s % 60.0).floor() as u64)
}

/// `summary.md`: `command` (as typed), `data` (one line: the data, seed and device), the
/// target (percent) and one table row per run.
pub fn summary(runs: &[CompareRun], target: Option<f64>, command: &str, data: &str) -> String {
    let mut md = format!("# burn-lr compare\n\n```\n{command}\n```\n\n{data}\n\n");
    match target {
        Some(t) => {
            md += &format!(
                "Target: {t:.2}% validation accuracy (the first run's final accuracy unless --target-accuracy).\n\n"
            )
        }
        None => md += "Target: none (the first run diverged or finished no epoch; pass --target-accuracy).\n\n",
    }
    md += "| run | scheduler | epochs | best val acc (epoch) | final val acc | epochs to target | time to target | total time | the stepped model's final val acc |\n";
    md += "|---|---|---:|---:|---:|---:|---:|---:|---:|\n";
    for r in runs {
        let best = r.best().map_or("-".into(), |(a, e)| format!("{a:.2}% ({e})"));
        let last = r.epochs.last().map_or("-".into(), |e| format!("{:.2}%", e.val_acc));
        let stepped = match r.epochs.last().and_then(|e| e.live) {
            Some((_, acc)) => format!("{acc:.2}%"),
            None => "(the same)".into(),
        };
        let reach = target.and_then(|t| r.reaches(t));
        let (to_epochs, to_time) =
            reach.map_or(("not reached".into(), "-".into()), |(e, s)| (e.to_string(), minutes(s)));
        md += &format!(
            "| {} | {} | {}/{} | {best} | {last} | {to_epochs} | {to_time} | {} | {stepped} |\n",
            r.name,
            r.scheduler,
            r.epochs.len(),
            r.epochs_planned,
            minutes(r.epochs.iter().map(|e| e.seconds).sum())
        );
    }
    for r in runs.iter().filter(|r| r.failure.is_some()) {
        md += &format!(
            "\n{} ended early: {}\n",
            r.name,
            r.failure.as_deref().unwrap_or_default()
        );
    }
    md += &format!(
        "\nTimes are wall time on this machine, summed over epochs (training, validation, checkpoint; the \
         `seconds` of each run's metrics.csv, so a resumed run counts what it trained before): time to target up \
         to the epoch reaching it, total time over all epochs. Loading the data (once for all runs) is in neither.\n\n\
         ![validation accuracy]({COMPARE_ACCURACY_PNG})\n\n![learning rate]({COMPARE_LR_PNG})\n"
    );
    md
}

/// Writes `summary.md`, `compare_accuracy.png` and `compare_lr.png` to `out`; returns their
/// paths.
///
/// # Errors
/// [`TrainError::Io`] / [`TrainError::Monitor`] when a file cannot be written; a chart with
/// nothing to draw (no run finished an epoch) is left out.
pub fn write(
    out: &Path,
    runs: &[CompareRun],
    target: Option<f64>,
    command: &str,
    data: &str,
) -> Result<Vec<PathBuf>, TrainError> {
    std::fs::create_dir_all(out).map_err(|source| TrainError::Io {
        path: out.to_path_buf(),
        source,
    })?;
    let md = out.join(SUMMARY_MD);
    write_atomic(&md, summary(runs, target, command, data).as_bytes())?;
    let mut files = vec![md];
    let points: Vec<Vec<EpochPoint>> = runs
        .iter()
        .map(|r| r.epochs.iter().map(EpochRecord::point).collect())
        .collect();
    let acc: Vec<(&str, &[EpochPoint])> = runs
        .iter()
        .zip(&points)
        .map(|(r, p)| (r.name.as_str(), p.as_slice()))
        .collect();
    let lr: Vec<(&str, &LrTrace)> = runs.iter().map(|r| (r.name.as_str(), &r.lr)).collect();
    let title = "burn-lr compare";
    // Its own files: checked again right before drawing (the library's chart functions write
    // into a pipe at a path you give them).
    for name in [COMPARE_ACCURACY_PNG, COMPARE_LR_PNG] {
        burn_lr::monitor::check_output(&out.join(name), burn_lr::monitor::Output::Own)?;
    }
    for (name, drawn) in [
        (
            COMPARE_ACCURACY_PNG,
            overlay::accuracy(
                &acc,
                target,
                &format!("{title}: validation accuracy"),
                &out.join(COMPARE_ACCURACY_PNG),
            ),
        ),
        (
            COMPARE_LR_PNG,
            overlay::learning_rate(&lr, &format!("{title}: learning rate"), &out.join(COMPARE_LR_PNG)),
        ),
    ] {
        match drawn {
            Ok(()) => files.push(out.join(name)),
            Err(burn_lr::monitor::MonitorError::Empty(_)) => {}
            Err(e) => return Err(e.into()),
        }
    }
    Ok(files)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(name: &str, accs: &[f64]) -> CompareRun {
        let epochs = accs
            .iter()
            .enumerate()
            .map(|(i, &val_acc)| EpochRecord {
                epoch: i + 1,
                train_loss: 1.0,
                val_loss: 1.0,
                val_acc,
                lr: 0.1,
                seconds: 60.0,
                images_per_s: 100.0,
                live: None,
            })
            .collect();
        CompareRun {
            name: name.into(),
            scheduler: "fixed".into(),
            epochs_planned: 4,
            epochs,
            lr: LrTrace::default(),
            failure: None,
        }
    }

    #[test]
    fn target_epochs_and_time_to_reach_it() {
        let fixed = run("fixed", &[40.0, 55.0, 52.0, 60.0]);
        let cycle = run("one_cycle", &[45.0, 61.0, 66.0, 70.0]);
        assert_eq!(fixed.best(), Some((60.0, 4)));
        let runs = [fixed, cycle];
        let t = target(&runs, None);
        assert_eq!(t, Some(60.0), "the first run's final accuracy");
        assert_eq!(runs[1].reaches(60.0), Some((2, 120.0)));
        assert_eq!(runs[0].reaches(60.0), Some((4, 240.0)));
        assert_eq!(runs[0].reaches(60.5), None);
        assert_eq!(target(&runs, Some(65.0)), Some(65.0));
        let md = summary(&runs, t, "burn-lr compare", "Data: x.");
        assert!(
            md.contains("| fixed | fixed | 4/4 | 60.00% (4) | 60.00% | 4 | 4:00 | 4:00 | (the same) |"),
            "{md}"
        );
        assert!(
            md.contains("| one_cycle | fixed | 4/4 | 70.00% (4) | 70.00% | 2 | 2:00 | 4:00 | (the same) |"),
            "{md}"
        );
        let md = summary(&runs, Some(99.0), "c", "d");
        assert!(md.contains("| not reached | - |"), "{md}");
        // A baseline that diverged sets no target (its last finite epoch is no baseline).
        let mut diverged = run("fixed", &[12.0]);
        diverged.failure = Some("loss is NaN".into());
        assert_eq!(target(&[diverged, run("one_cycle", &[50.0])], None), None);
    }

    fn contender(name: &str, data: &str) -> Contender {
        let text = format!("[model]\narch = \"tiny\"\n[data]\n{data}\n[optimizer]\nname = \"sgd\"\nlr = 0.1\n[scheduler]\ntype = \"fixed\"\n[training]\nepochs = 1\nbatch_size = 4\n");
        Contender {
            name: name.into(),
            config: TrainConfig::from_toml(&text).unwrap(),
        }
    }

    #[test]
    fn defaults_count_as_their_value_and_a_real_difference_is_named() {
        let same = [contender("a", ""), contender("b", "num_workers = 1\naugment = true")];
        assert!(check(&same).is_ok());
        let other = [contender("a", ""), contender("b", "augment = false")];
        let err = check(&other).unwrap_err().to_string();
        assert!(err.contains("[data] augment differs: a has true, b has false"), "{err}");
        assert!(err.contains("set it the same in every config"), "{err}");
        assert!(check(&same[..1]).unwrap_err().to_string().contains("at least two"));
    }
}
