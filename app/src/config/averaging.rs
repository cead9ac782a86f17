//! `[averaging]`: a weight average (SWA or EMA, PyTorch's `torch.optim.swa_utils.AveragedModel`)
//! kept beside the trained model, validated and kept in its place.

use burn_lr::averaging::{AveragedModelConfig, AveragingError, AveragingKind, EmaWarmup};
use burn_lr::learner::AveragedLearnerConfig;
use burn_lr::schedule::SchedulerConfig;
use serde::{Deserialize, Serialize};

use super::error::{bad, ConfigError};

/// `[averaging]`:
///
/// ```toml
/// [averaging]
/// kind = "swa"            # or "ema"
/// start_epoch = 76        # the first epoch averaged, from 1 (default: with [scheduler.swa],
///                         # swa_start + 2, PyTorch's loop; else 1); or start_update
/// every = "epoch"         # or a number of optimizer updates (default: "epoch" for swa, 1 for ema)
/// decay = 0.999           # ema only
/// use_buffers = false     # PyTorch's use_buffers
/// update_bn_batches = 16  # SWA without buffers: BatchNorm recomputed before each validation
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AveragingConfig {
    /// `swa` (equal weights, PyTorch's default `AveragedModel`) or `ema`
    /// (`get_ema_multi_avg_fn(decay)`).
    pub kind: AveragingKind,
    /// The first epoch (1-based) whose updates are averaged; not with `start_update`.
    #[serde(default)]
    pub start_epoch: Option<usize>,
    /// The first optimizer update (1-based) averaged; not with `start_epoch`.
    #[serde(default)]
    pub start_update: Option<u64>,
    /// How often: `"epoch"` (after each epoch's last update, PyTorch's SWA loop; a
    /// `start_update` then means the end of its epoch) or every `n` optimizer updates; default
    /// `"epoch"` for SWA, every update for EMA.
    #[serde(default)]
    pub every: Option<Every>,
    /// EMA's decay per averaging (default 0.999), in `[0, 1]`; EMA only.
    #[serde(default)]
    pub decay: Option<f64>,
    /// PyTorch's `use_buffers` (default false): average BatchNorm's running statistics too.
    #[serde(default)]
    pub use_buffers: bool,
    /// Training batches (the latest, at most one epoch's) over which an SWA average without
    /// buffers gets its BatchNorm statistics recomputed (`update_bn`) before each validation
    /// (default 16; 0: none, PyTorch's statistics copied from the trained model).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub update_bn_batches: Option<usize>,
    /// timm's EMA decay warm-up (`[averaging.ema_warmup]`: `warmup_gamma`, `warmup_power`,
    /// `min_decay`); EMA only.
    #[serde(default)]
    pub ema_warmup: Option<EmaWarmup>,
}

/// `update_bn_batches` when not set.
const UPDATE_BN_BATCHES: usize = 16;

/// `every`: once an epoch, or every `n` optimizer updates.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "EveryText", into = "EveryText")]
pub enum Every {
    /// After each epoch's last update.
    Epoch,
    /// Every `n` optimizer updates (`n >= 1`).
    Updates(u64),
}

/// `every` as TOML has it: `"epoch"` or a whole number.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(untagged)]
enum EveryText {
    Updates(i64),
    Word(String),
}

impl TryFrom<EveryText> for Every {
    type Error = String;

    fn try_from(value: EveryText) -> Result<Self, String> {
        match value {
            EveryText::Word(w) if w == "epoch" => Ok(Every::Epoch),
            EveryText::Updates(n) if n >= 1 => Ok(Every::Updates(n as u64)),
            EveryText::Word(w) => Err(format!(
                "every = \"{w}\": must be \"epoch\" or a number of optimizer updates >= 1"
            )),
            EveryText::Updates(n) => Err(format!(
                "every = {n}: must be \"epoch\" or a number of optimizer updates >= 1"
            )),
        }
    }
}

impl From<Every> for EveryText {
    fn from(value: Every) -> Self {
        match value {
            Every::Epoch => EveryText::Word("epoch".into()),
            Every::Updates(n) => EveryText::Updates(n as i64),
        }
    }
}

impl AveragingConfig {
    /// Checks what serde cannot: one start, EMA's keys only with EMA, the start within the run
    /// (`epochs`), and every value the library checks.
    pub(super) fn validate(&self, epochs: usize, scheduler: &SchedulerConfig) -> Result<(), ConfigError> {
        if let (Some(e), Some(u)) = (self.start_epoch, self.start_update) {
            return bad(
                "averaging.start_update",
                u.to_string(),
                "give start_epoch or start_update, not both",
            )
            .map_err(|err| with_value(err, format!("{u} (with start_epoch = {e})")));
        }
        if self.kind == AveragingKind::Swa {
            if let Some(d) = self.decay {
                return bad(
                    "averaging.decay",
                    d.to_string(),
                    "is EMA's: kind = \"swa\" weighs every model equally",
                );
            }
            if self.ema_warmup.is_some() {
                return bad(
                    "averaging.ema_warmup",
                    "{...}".into(),
                    "is EMA's (timm's ModelEmaV3): kind = \"swa\" has none",
                );
            }
        }
        if let Some(n) = self
            .update_bn_batches
            .filter(|_| self.kind == AveragingKind::Ema || self.use_buffers)
        {
            return bad(
                "averaging.update_bn_batches",
                n.to_string(),
                "recomputes the statistics of an SWA average without buffers; an EMA or use_buffers = true averages them",
            );
        }
        match self.start_epoch {
            Some(0) => return bad("averaging.start_epoch", "0".into(), "epochs count from 1"),
            Some(e) if e > epochs => {
                return bad(
                    "averaging.start_epoch",
                    e.to_string(),
                    "is after the run's last epoch ([training] epochs): nothing would be averaged",
                )
            }
            _ => {}
        }
        if self.start_update == Some(0) {
            return bad("averaging.start_update", "0".into(), "optimizer updates count from 1");
        }
        if self.start_epoch.is_none() && self.start_update.is_none() {
            if let Some(start) = swa_start_epoch(scheduler).filter(|s| *s > epochs) {
                return bad(
                    "averaging.start_epoch",
                    format!("{start} (from [scheduler.swa] swa_start)"),
                    "is after the run's last epoch ([training] epochs): set [scheduler.swa] swa_start or start_epoch within the run",
                );
            }
        }
        self.library(1).averaging.validate().or_else(|e| match e {
            AveragingError::Setting {
                setting,
                value,
                allowed,
            } => bad(field_of(setting), value, allowed),
            other => Err(ConfigError::Parse {
                path: Default::default(),
                message: format!("[averaging]: {other}"),
            }),
        })
    }

    /// The first epoch averaged when neither start is set: with `[scheduler.swa]`, epoch
    /// `swa_start + 2` (PyTorch's loop averages after the epochs `> swa_start` counted from 0,
    /// and steps SWALR after them), else 1.
    pub fn start_epoch_for(&self, scheduler: &SchedulerConfig) -> usize {
        self.start_epoch.or_else(|| swa_start_epoch(scheduler)).unwrap_or(1)
    }

    /// The library's settings for a run of `updates_per_epoch` optimizer updates per epoch.
    pub fn library(&self, updates_per_epoch: u64) -> AveragedLearnerConfig {
        self.library_with(updates_per_epoch, None)
    }

    /// As [`Self::library`], the start taken from `scheduler` where not set.
    pub fn for_run(&self, updates_per_epoch: u64, scheduler: &SchedulerConfig) -> AveragedLearnerConfig {
        self.library_with(updates_per_epoch, Some(scheduler))
    }

    /// Once an epoch (`every = "epoch"`, SWA's default)?
    fn once_an_epoch(&self) -> bool {
        match self.every {
            Some(Every::Epoch) => true,
            Some(Every::Updates(_)) => false,
            None => self.kind == AveragingKind::Swa,
        }
    }

    fn library_with(&self, updates_per_epoch: u64, scheduler: Option<&SchedulerConfig>) -> AveragedLearnerConfig {
        let per_epoch = updates_per_epoch.max(1);
        let epochly = self.once_an_epoch();
        let every = match self.every {
            Some(Every::Updates(n)) => n,
            _ if epochly => per_epoch,
            _ => 1,
        };
        let start_epoch = scheduler.map_or(self.start_epoch.unwrap_or(1), |s| self.start_epoch_for(s));
        let start_update = match (self.start_update, epochly) {
            // Once an epoch: after the last update of the epoch that holds `start_update`.
            (Some(u), true) => u.div_ceil(per_epoch) * per_epoch,
            (Some(u), false) => u,
            // Once an epoch: the epoch's last update; else its first.
            (None, true) => start_epoch as u64 * per_epoch,
            (None, false) => (start_epoch as u64 - 1) * per_epoch + 1,
        };
        let mut averaging = AveragedModelConfig::new(self.kind)
            .with_use_buffers(self.use_buffers)
            .with_start_update(start_update.max(1))
            .with_every(every);
        if let Some(d) = self.decay {
            averaging = averaging.with_decay(d);
        }
        if let Some(w) = self.ema_warmup {
            averaging = averaging.with_ema_warmup(w);
        }
        AveragedLearnerConfig::new(averaging).with_update_bn_batches(self.update_bn_batches())
    }

    /// The training batches of `update_bn` (16 when not set).
    pub fn update_bn_batches(&self) -> usize {
        self.update_bn_batches.unwrap_or(UPDATE_BN_BATCHES)
    }

    /// Whether the average's BatchNorm statistics are recomputed before validation (SWA without
    /// buffers, `update_bn_batches` not 0).
    pub fn recomputes_bn(&self) -> bool {
        self.kind == AveragingKind::Swa && !self.use_buffers && self.update_bn_batches() > 0
    }

    /// What the run validates and keeps, for its lines: `the SWA average` / `the EMA`.
    pub fn describe(&self) -> &'static str {
        match self.kind {
            AveragingKind::Swa => "the SWA average",
            AveragingKind::Ema => "the EMA",
        }
    }
}

/// The first epoch (1-based) averaged with `[scheduler.swa]` in `scheduler`: PyTorch's loop
/// averages after the epochs `> swa_start` counted from 0, from the 1-based epoch
/// `swa_start + 2` (still at the base schedule's LR; SWALR's first LR is in the next one).
fn swa_start_epoch(scheduler: &SchedulerConfig) -> Option<usize> {
    match scheduler {
        SchedulerConfig::Swa(swa) => Some(swa.swa.swa_start as usize + 2),
        _ => None,
    }
}

/// The config key of a library setting.
fn field_of(setting: &str) -> &'static str {
    match setting {
        "decay" => "averaging.decay",
        "start_update" => "averaging.start_update",
        "every" => "averaging.every",
        "warmup_gamma" => "averaging.ema_warmup.warmup_gamma",
        "warmup_power" => "averaging.ema_warmup.warmup_power",
        "min_decay" => "averaging.ema_warmup.min_decay",
        _ => "averaging",
    }
}

fn with_value(err: ConfigError, value: String) -> ConfigError {
    match err {
        ConfigError::Value { field, allowed, at, .. } => ConfigError::Value {
            field,
            value,
            allowed,
            at,
        },
        other => other,
    }
}
