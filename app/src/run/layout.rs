//! Every file and folder name of an artifact directory, in one place: what a run writes (and
//! `--overwrite` deletes: [`RUN_ARTIFACTS`]), Burn's checkpoint files and the run's seal of each
//! epoch, and what `compare` writes next to its runs. Names the library writes come from it.
//!
//! ```text
//! <artifact dir>/
//!   .burn-lr.lock          LOCK_FILE       the training process's lock (its PID)
//!   config.toml            CONFIG_TOML     the resolved config (what --resume compares)
//!   run.toml               RUN_TOML        image counts, the training images' MD5, updates per epoch
//!   metrics.csv            METRICS_CSV     one row per finished epoch
//!   lr.csv                 LR_CSV          one row per optimizer update
//!   tensorboard/           TENSORBOARD_DIR events.out.tfevents.* (EVENT_FILE_PREFIX)
//!   lr_schedule.png, loss.png, accuracy.png
//!   model.bpk              KEPT_MODEL      the weights the finished run validated and keeps
//!   checkpoint/            CHECKPOINT_DIR  model-N.bpk, optim-N.bpk, scheduler-N.bpk (KINDS,
//!                                          checkpoint_file), run-N.toml (seal_file), each
//!                                          with its .md5 (DIGEST_SUFFIX)
//!   train/, valid/         TRAIN_LOGS, VALID_LOGS: Burn's epoch-N/*.log
//!   experiment.log         EXPERIMENT_LOG  Burn's log
//! <out>/lr_find.csv, lr_find.png   LR_FIND_CSV, LR_FIND_PNG (burn-lr find-lr)
//! <compare dir>/  <config stem>/ (a run each), summary.md (SUMMARY_MD), compare_*.png
//! ```

pub use burn_lr::learner::{checkpoint_file, CHECKPOINT_DIR};
pub use burn_lr::monitor::overlay::{COMPARE_ACCURACY_PNG, COMPARE_LR_PNG};
pub use burn_lr::monitor::plot::{ACCURACY_PNG, LOSS_PNG, LR_FIND_PNG, LR_SCHEDULE_PNG};
pub use burn_lr::monitor::{EVENT_FILE_PREFIX, LR_CSV, TMP_PREFIX};

/// The lock file in an artifact directory (held by the training process; holds its PID).
pub const LOCK_FILE: &str = ".burn-lr.lock";
/// Burn's per-iteration training metric logs (`train/epoch-N/*.log`).
pub const TRAIN_LOGS: &str = "train";
/// Burn's per-iteration validation metric logs (`valid/epoch-N/*.log`).
pub const VALID_LOGS: &str = "valid";
/// Burn's log.
pub const EXPERIMENT_LOG: &str = "experiment.log";
/// The run's resolved config (what `--resume` compares against).
pub const CONFIG_TOML: &str = "config.toml";
/// What the config does not show: image counts, the training images' MD5, updates per epoch.
pub const RUN_TOML: &str = "run.toml";
/// One row per finished epoch.
pub const METRICS_CSV: &str = "metrics.csv";
/// The TensorBoard event files of a run.
pub const TENSORBOARD_DIR: &str = "tensorboard";
/// The LR range test's table (`burn-lr find-lr`; next to `lr_find.png`, not part of a run).
pub const LR_FIND_CSV: &str = "lr_find.csv";
/// The weights a finished run keeps, as a record of the model alone (Burn's `ModuleRecord`,
/// loadable into the ResNet): the trained weights, the weight average (`[averaging]`) or
/// schedule-free's `x`, what validation ran on.
pub const KEPT_MODEL: &str = "model.bpk";
/// `compare`'s table of its runs.
pub const SUMMARY_MD: &str = "summary.md";

/// The three files of an epoch's checkpoint, in the order Burn writes them.
pub const KINDS: [&str; 3] = [MODEL, OPTIM, SCHEDULER];
/// The model's checkpoint file (`model-N.bpk`).
pub const MODEL: &str = "model";
/// The optimizer state's checkpoint file (`optim-N.bpk`).
pub const OPTIM: &str = "optim";
/// The scheduler's checkpoint file (`scheduler-N.bpk`), the one `LearnerSchedule::check_resume` reads.
pub const SCHEDULER: &str = "scheduler";
/// The run's own seal of an epoch (`run-N.toml`, sealed by `run-N.toml.md5` like Burn's
/// files): the config, the data facts, `metrics.csv` and `lr.csv` as they stood when the epoch
/// ended (`run::dir::seal`). Written last, it is the epoch's commit: a checkpoint without it is
/// not resumed from.
pub const SEAL: &str = "run";

/// A checkpoint file being written starts with this (Burn writes it, the checkpointer renames
/// it into place); a killed process's are removed before a run starts.
pub const PARTIAL_PREFIX: &str = ".partial-";
/// The suffix of a checkpoint file's seal: `model-3.bpk.md5` (`md5sum -c` format).
pub const DIGEST_SUFFIX: &str = ".md5";

/// The run's seal of `epoch`: `run-3.toml` in [`CHECKPOINT_DIR`].
pub fn seal_file(epoch: usize) -> String {
    format!("{SEAL}-{epoch}.toml")
}

/// What a run writes into its artifact directory; `--overwrite` deletes exactly these.
pub const RUN_ARTIFACTS: [&str; 13] = [
    CHECKPOINT_DIR,
    TRAIN_LOGS,
    VALID_LOGS,
    EXPERIMENT_LOG,
    METRICS_CSV,
    CONFIG_TOML,
    RUN_TOML,
    LR_CSV,
    TENSORBOARD_DIR,
    LR_SCHEDULE_PNG,
    LOSS_PNG,
    ACCURACY_PNG,
    KEPT_MODEL,
];

/// The files (not folders) among [`RUN_ARTIFACTS`].
pub const RUN_FILES: [&str; 9] = [
    EXPERIMENT_LOG,
    METRICS_CSV,
    CONFIG_TOML,
    RUN_TOML,
    LR_CSV,
    LR_SCHEDULE_PNG,
    LOSS_PNG,
    ACCURACY_PNG,
    KEPT_MODEL,
];
