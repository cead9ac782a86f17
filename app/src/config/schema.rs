//! The schema of a training config: its tables and keys, their defaults, and the checks of
//! their values (ranges, combinations) after TOML has been read.

use crate::device::{DeviceName, Devices};
use crate::model::Arch;
use burn_lr::learner::OnNonFinite;
use burn_lr::schedule::SchedulerConfig;
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};

use super::averaging::AveragingConfig;
use super::error::{bad, read_file, ConfigError};
use super::locate::parse_toml;

/// A whole training run: `[model]`, `[data]`, `[optimizer]`, `[scheduler]`, `[training]`,
/// optionally `[averaging]` and `[[param_groups]]`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TrainConfig {
    /// The network.
    pub model: ModelConfig,
    /// The dataset.
    #[serde(default)]
    pub data: DataConfig,
    /// The optimizer and its base LR.
    pub optimizer: OptimizerConfig,
    /// The LR schedule (`type = ...`); default: a fixed LR.
    #[serde(default)]
    pub scheduler: SchedulerConfig,
    /// Epochs, batch size, device, artifacts.
    pub training: TrainingConfig,
    /// Per-parameter-group LR schedules (`[[param_groups]]`), on top of `[scheduler]` for the
    /// rest of the model.
    #[serde(default)]
    pub param_groups: Vec<ParamGroupConfig>,
    /// A weight average (SWA or EMA) validated and kept in place of the trained weights.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub averaging: Option<AveragingConfig>,
}

/// One parameter group with its own base LR and schedule, through Burn's `ModuleLrScheduler` /
/// `ParamGroup` (e.g. a smaller LR for the backbone than for the head). The LR of each group is
/// logged per iteration as `Learning Rate <params>`.
///
/// ```toml
/// [[param_groups]]
/// params = "fc"                 # parameters whose path contains "fc"
/// lr = 0.01
/// [param_groups.scheduler]
/// type = "cosine_annealing"
/// t_max = 30
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ParamGroupConfig {
    /// A substring of the parameter paths in the group (Burn's `ParamGroup::from_predicate`),
    /// e.g. `"fc"` or `"blocks.0"`; later groups win over earlier ones.
    pub params: String,
    /// The group's base LR (default: `[optimizer] lr`).
    #[serde(default)]
    pub lr: Option<f64>,
    /// The group's schedule (default: the same as `[scheduler]`).
    #[serde(default)]
    pub scheduler: Option<SchedulerConfig>,
}

/// `[model]`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ModelConfig {
    /// `resnet20`, `resnet32`, `resnet56`, `resnet18`, `resnet50` or `tiny`.
    pub arch: Arch,
}

/// `[data]`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DataConfig {
    /// CIFAR-10 location (binary batches or image folder); none: download the official archive
    /// into the cache directory on first use.
    #[serde(default)]
    pub dir: Option<PathBuf>,
    /// Use only this many training images (class-balanced, seeded); none: all 50,000.
    #[serde(default)]
    pub train_limit: Option<usize>,
    /// Use only this many test images (class-balanced); none: all 10,000.
    #[serde(default)]
    pub test_limit: Option<usize>,
    /// Pad-4 random crop + horizontal flip on training images (default true).
    #[serde(default = "yes")]
    pub augment: bool,
    /// Cutout (DeVries & Taylor 2017) after the crop and flip: an `N` x `N` square (pixels,
    /// 1..=32) inside each training image set to the dataset's mean colour, placed anew for
    /// every image and epoch from the seed, as in David Page's DAWNBench ResNet-9 (`N = 8`).
    /// Needs `augment = true`; none by default.
    #[serde(default)]
    pub cutout: Option<usize>,
    /// Data-loading worker threads (default 1: batches, and so the augmentation draws, come in a
    /// fixed order; 0 builds them on the training thread).
    #[serde(default = "one")]
    pub num_workers: usize,
}

fn yes() -> bool {
    true
}

/// A config without `[data]` has the same values as an empty `[data]` table.
impl Default for DataConfig {
    fn default() -> Self {
        Self {
            dir: None,
            train_limit: None,
            test_limit: None,
            augment: yes(),
            cutout: None,
            num_workers: one(),
        }
    }
}

/// The optimizer (`[optimizer] name`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum OptimizerName {
    /// SGD with optional momentum / Nesterov / weight decay (L2, as `torch.optim.SGD`).
    Sgd,
    /// AdamW (decoupled weight decay, as `torch.optim.AdamW`).
    Adamw,
    /// Schedule-Free SGD (Defazio et al. 2024; the reference's `SGDScheduleFree`): `momentum`,
    /// `weight_decay`, `warmup_steps`, `r`, `weight_lr_power`; validates and keeps `x`.
    #[serde(rename = "sgd_schedule_free", alias = "SGDScheduleFree")]
    SgdScheduleFree,
    /// Schedule-Free AdamW (the reference's `AdamWScheduleFree`): `beta1`, `beta2`, `eps`,
    /// `weight_decay`, `warmup_steps`, `r`, `weight_lr_power`; validates and keeps `x`.
    #[serde(rename = "adamw_schedule_free", alias = "AdamWScheduleFree")]
    AdamwScheduleFree,
}

impl OptimizerName {
    /// The name as a config writes it (`sgd`, `adamw`, `sgd_schedule_free`, `adamw_schedule_free`).
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Sgd => "sgd",
            Self::Adamw => "adamw",
            Self::SgdScheduleFree => "sgd_schedule_free",
            Self::AdamwScheduleFree => "adamw_schedule_free",
        }
    }

    /// Whether this is a schedule-free optimizer (what it validates is `x`, not the model).
    pub fn is_schedule_free(self) -> bool {
        matches!(self, Self::SgdScheduleFree | Self::AdamwScheduleFree)
    }
}

/// `[optimizer]`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OptimizerConfig {
    /// `sgd` or `adamw`.
    pub name: OptimizerName,
    /// Base learning rate (PyTorch's `optimizer.lr`); schedules scale from it (OneCycle and
    /// Cyclic use their own `max_lr`/`base_lr`, as in PyTorch). Values above 1 are allowed.
    pub lr: f64,
    /// SGD momentum (default 0.9; 0 disables). Dampening is 0, as in PyTorch.
    #[serde(default = "d_momentum")]
    pub momentum: f64,
    /// SGD Nesterov momentum (default false).
    #[serde(default)]
    pub nesterov: bool,
    /// Weight decay (default 5e-4 for SGD; AdamW uses it as its decoupled decay).
    #[serde(default = "d_wd")]
    pub weight_decay: f64,
    /// AdamW `beta1` (default 0.9).
    #[serde(default = "d_beta1")]
    pub beta1: f64,
    /// AdamW `beta2` (default 0.999).
    #[serde(default = "d_beta2")]
    pub beta2: f64,
    /// AdamW `eps` (default 1e-8, as PyTorch).
    #[serde(default = "d_eps")]
    pub eps: f64,
    /// Schedule-free only: the reference's `warmup_steps` (default 0), optimizer updates over
    /// which the LR rises linearly inside the optimizer.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub warmup_steps: Option<u64>,
    /// Schedule-free only: the reference's `r` (default 0), the polynomial weighting
    /// `(k + 1)^r` of the average.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub r: Option<f64>,
    /// Schedule-free only: the reference's `weight_lr_power` (default 2): the average weighs
    /// each update by `lr_max^weight_lr_power`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub weight_lr_power: Option<f64>,
}

fn d_momentum() -> f64 {
    0.9
}
fn d_wd() -> f64 {
    5e-4
}
fn d_beta1() -> f64 {
    0.9
}
fn d_beta2() -> f64 {
    0.999
}
fn d_eps() -> f64 {
    1e-8
}

/// `[training]`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TrainingConfig {
    /// Number of epochs, >= 1.
    pub epochs: usize,
    /// Images per batch, >= 1.
    pub batch_size: usize,
    /// Batches per optimizer update (default 1).
    #[serde(default = "one")]
    pub grad_accumulation: usize,
    /// Seed for weights, shuffling, subsets and augmentation (default 42).
    #[serde(default = "d_seed")]
    pub seed: u64,
    /// Device (default `auto`).
    #[serde(default = "d_device")]
    pub device: DeviceName,
    /// How many devices of that kind, or which (default 1): see [`Devices`]. More than one
    /// trains with Burn's `ExecutionStrategy::multi`.
    #[serde(default)]
    pub devices: Devices,
    /// How more than one device trains: `multi` (default: Burn's `ExecutionStrategy::multi`,
    /// the devices' gradients summed) or `ddp` (Burn's `ExecutionStrategy::ddp`, gradients
    /// averaged as PyTorch's DDP does; CUDA only); see [`Strategy`](crate::device::Strategy).
    #[serde(default)]
    pub strategy: crate::device::Strategy,
    /// Where checkpoints, logs, `metrics.csv` and `config.toml` go (default `artifacts/run`).
    /// One run per directory: a new run into a directory holding another run's artifacts is
    /// refused unless `--overwrite` (or `--resume` to continue it).
    #[serde(default = "d_artifacts")]
    pub artifact_dir: PathBuf,
    /// At a NaN or infinite loss: `stop` (default: after that update, keeping the last finite
    /// checkpoint for `--resume`, exit code 1) or `continue` (train on).
    #[serde(default)]
    pub on_non_finite: OnNonFinite,
    /// Label smoothing `a` of the cross-entropy loss, in [0, 1] (default 0: none): the target of
    /// class `c` for an image of class `y` is `(1 - a) * [c == y] + a / 10`, as PyTorch's
    /// `CrossEntropyLoss(label_smoothing=a)` (Szegedy et al. 2016, "Rethinking the Inception
    /// Architecture for Computer Vision"), through Burn's `CrossEntropyLossConfig::with_smoothing`.
    /// One criterion, as in PyTorch: it is in the training and the validation loss; accuracy
    /// does not depend on it.
    #[serde(default)]
    pub label_smoothing: f64,
    /// The float type of the run's tensors on the training devices: `f32` (default), `bf16` or
    /// `f16`; see [`Precision`](crate::device::Precision) (no autocast: everything is in
    /// that type).
    #[serde(default)]
    pub precision: crate::device::Precision,
    /// The convolution of a run on the CPU in f32: `auto` (default: oneDNN when `libdnnl.so.2`
    /// opens, else Burn's), `onednn` (one line, exit code 2, where it cannot run) or `burn`;
    /// see [`CpuConv`](crate::conv::CpuConv). GPU runs and bf16/f16 always use Burn's.
    #[serde(default)]
    pub cpu_conv: crate::conv::CpuConv,
}

fn one() -> usize {
    1
}
fn d_seed() -> u64 {
    42
}
fn d_device() -> DeviceName {
    DeviceName::Auto
}
fn d_artifacts() -> PathBuf {
    PathBuf::from("artifacts/run")
}

impl TrainConfig {
    /// Reads and validates a TOML file.
    ///
    /// # Errors
    /// [`ConfigError`] naming the file and the bad key or value.
    pub fn from_file(path: &Path) -> Result<Self, ConfigError> {
        read_file(path, Self::from_toml)
    }

    /// Parses and validates TOML text.
    ///
    /// # Errors
    /// [`ConfigError::Parse`] or [`ConfigError::Value`].
    pub fn from_toml(text: &str) -> Result<Self, ConfigError> {
        let cfg: Self = parse_toml(text).map_err(|message| ConfigError::Parse {
            path: PathBuf::new(),
            message,
        })?;
        cfg.validate()?;
        Ok(cfg)
    }

    /// Checks the ranges serde cannot express.
    ///
    /// # Errors
    /// [`ConfigError::Value`] naming the key.
    pub fn validate(&self) -> Result<(), ConfigError> {
        self.training.validate()?;
        self.optimizer.validate()?;
        self.validate_weights()?;
        for g in &self.param_groups {
            g.validate()?;
        }
        for (field, limit) in [
            ("data.train_limit", self.data.train_limit),
            ("data.test_limit", self.data.test_limit),
        ] {
            if limit == Some(0) {
                return bad(field, "0".into(), "must be >= 1 (or left out for all images)");
            }
        }
        if let Some(n) = self.data.cutout {
            if !(1..=32).contains(&n) {
                return bad(
                    "data.cutout",
                    n.to_string(),
                    "must be a square side in pixels, 1..=32 (or left out for none)",
                );
            }
            if !self.data.augment {
                return bad(
                    "data.cutout",
                    n.to_string(),
                    "is an augmentation: it needs augment = true",
                );
            }
        }
        Ok(())
    }
}

impl TrainingConfig {
    /// The convolution this run computes with: `cpu_conv` for its device and precision.
    ///
    /// # Errors
    /// `cpu_conv = "onednn"` where oneDNN cannot run, in one line.
    pub fn conv_kernel(&self) -> Result<crate::conv::ConvKernel, String> {
        let cpu = crate::device::resolved(self.device) == DeviceName::Cpu;
        let f32 = self.precision == crate::device::Precision::F32;
        self.cpu_conv.resolve(cpu, f32)
    }

    fn validate(&self) -> Result<(), ConfigError> {
        for (field, v) in [
            ("training.epochs", self.epochs),
            ("training.batch_size", self.batch_size),
            ("training.grad_accumulation", self.grad_accumulation),
        ] {
            if v == 0 {
                return bad(field, "0".into(), "must be >= 1");
            }
        }
        if !(0.0..=1.0).contains(&self.label_smoothing) {
            return bad(
                "training.label_smoothing",
                self.label_smoothing.to_string(),
                "must be a number in [0, 1] (PyTorch's CrossEntropyLoss(label_smoothing=...); 0 is none)",
            );
        }
        Ok(())
    }
}

impl OptimizerConfig {
    fn validate(&self) -> Result<(), ConfigError> {
        if !(self.lr.is_finite() && self.lr >= 0.0) {
            return bad("optimizer.lr", self.lr.to_string(), "must be a finite number >= 0");
        }
        if !(self.weight_decay.is_finite() && self.weight_decay >= 0.0) {
            return bad(
                "optimizer.weight_decay",
                self.weight_decay.to_string(),
                "must be a finite number >= 0",
            );
        }
        if self.nesterov && self.momentum == 0.0 {
            return bad(
                "optimizer.nesterov",
                "true".into(),
                "needs momentum > 0 (as in PyTorch)",
            );
        }
        for (field, v) in [
            ("optimizer.momentum", self.momentum),
            ("optimizer.beta1", self.beta1),
            ("optimizer.beta2", self.beta2),
        ] {
            if !(v.is_finite() && (0.0..1.0).contains(&v)) {
                return bad(field, v.to_string(), "must be in [0, 1)");
            }
        }
        if !(self.eps.is_finite() && self.eps > 0.0) {
            return bad("optimizer.eps", self.eps.to_string(), "must be a finite number > 0");
        }
        self.validate_schedule_free()
    }
}

impl ParamGroupConfig {
    fn validate(&self) -> Result<(), ConfigError> {
        if self.params.is_empty() {
            return bad(
                "param_groups.params",
                "\"\"".into(),
                "must name part of a parameter path, e.g. \"fc\"",
            );
        }
        match self.lr {
            Some(lr) if !(lr.is_finite() && lr >= 0.0) => {
                bad("param_groups.lr", lr.to_string(), "must be a finite number >= 0")
            }
            _ => Ok(()),
        }
    }
}
