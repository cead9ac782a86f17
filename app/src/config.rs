//! The TOML training configuration (`configs/*.toml`). Unknown keys are errors.

use crate::device::{DeviceName, Devices};
use crate::model::Arch;
use burn_lr::learner::OnNonFinite;
use burn_lr::schedule::SchedulerConfig;
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};

/// A whole training run: `[model]`, `[data]`, `[optimizer]`, `[scheduler]`, `[training]`.
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

/// Errors from reading a configuration file.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// The file cannot be read.
    #[error("cannot read config {path}: {source}")]
    Read {
        /// The file.
        path: PathBuf,
        /// The error.
        source: std::io::Error,
    },
    /// The TOML is malformed, has an unknown key or a wrong type.
    #[error("invalid config{}: {message}", in_file(path))]
    Parse {
        /// The file.
        path: PathBuf,
        /// The parser's message (it names the key and line).
        message: String,
    },
    /// A value is out of range.
    #[error("invalid config{at}: `{field}` = {value}: {allowed}")]
    Value {
        /// The key.
        field: &'static str,
        /// The value.
        value: String,
        /// What is allowed.
        allowed: &'static str,
        /// Where: ` x.toml, line 7` (empty for a config that is not a file).
        at: String,
    },
}

impl ConfigError {
    /// The error of the file `path` holding `text`, naming the file (and, for a value out of
    /// range, the line of its key).
    fn in_file(self, path: &Path, text: &str) -> Self {
        match self {
            Self::Parse { message, .. } => Self::Parse {
                path: path.into(),
                message,
            },
            Self::Value {
                field, value, allowed, ..
            } => {
                let (table, key) = field.split_once('.').unwrap_or((field, ""));
                let line = line_of(text, table, 0, (!key.is_empty()).then_some(key));
                let at = match line {
                    Some(line) => format!(" {}, line {line}", path.display()),
                    None => format!(" {}", path.display()),
                };
                Self::Value {
                    field,
                    value,
                    allowed,
                    at,
                }
            }
            other => other,
        }
    }
}

/// Parses TOML text into `T`; an error is one line: `line L, column C: [table] key: what is
/// wrong` (the parser's own message names the value and what is allowed).
///
/// # Errors
/// That line, for malformed TOML, unknown keys, wrong types and invalid schedule parameters.
pub fn parse_toml<T: serde::de::DeserializeOwned>(text: &str) -> Result<T, String> {
    serde_path_to_error::deserialize(toml::Deserializer::new(text)).map_err(|err| {
        let inner = err.inner();
        let location = inner
            .span()
            .map(|span| {
                let start = key_offset(text, span.clone(), inner.message()).unwrap_or(span.start.min(text.len()));
                let before = &text[..start];
                let line = before.matches('\n').count() + 1;
                let column = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
                format!("line {line}, column {column}: ")
            })
            .unwrap_or_default();
        let message = match one_line(inner.message()) {
            // The parser names nothing where a value is missing (a file cut short).
            m if m.is_empty() => "a value is missing here (is the file cut short?)".to_string(),
            m => m,
        };
        format!("{location}{}{message}", key_path(&err.path().to_string()))
    })
}

/// Where, inside the table `span` an error points at, the key the message names (its first
/// `` `key` ``) is written, so that the position is the offending line, not the table header.
fn key_offset(text: &str, span: std::ops::Range<usize>, message: &str) -> Option<usize> {
    let key = message.split('`').nth(1)?.rsplit('.').next()?;
    let table = text.get(span.clone())?;
    let mut offset = span.start;
    for line in table.split_inclusive('\n') {
        let trimmed = line.trim_start();
        if let Some(rest) = trimmed.strip_prefix(key) {
            if rest.trim_start().starts_with('=') {
                return Some(offset + (line.len() - trimmed.len()));
            }
        }
        offset += line.len();
    }
    None
}

fn in_file(path: &Path) -> String {
    if path.as_os_str().is_empty() {
        String::new()
    } else {
        format!(" {}", path.display())
    }
}

/// `training.epochs` -> `[training] epochs: `, `scheduler` -> `[scheduler] `, `.` -> ``.
fn key_path(path: &str) -> String {
    if path.is_empty() || path == "." || path == "?" {
        return String::new();
    }
    match path.split_once('.') {
        Some((table, key)) => format!("[{table}] {key}: "),
        None => format!("[{path}] "),
    }
}

fn one_line(message: &str) -> String {
    message.split_whitespace().collect::<Vec<_>>().join(" ")
}

impl TrainConfig {
    /// Reads and validates a TOML file.
    ///
    /// # Errors
    /// [`ConfigError`] naming the file and the bad key or value.
    pub fn from_file(path: &Path) -> Result<Self, ConfigError> {
        let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
            path: path.into(),
            source,
        })?;
        Self::from_toml(&text).map_err(|e| e.in_file(path, &text))
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

/// Any part of a training config (`burn-lr schedule --config`): every table is optional, a
/// table may leave out keys a training run requires, and each key that is there is checked as
/// in a whole config (types, ranges, unknown keys and tables are errors). A whole training
/// config is one too.
#[derive(Debug, Clone, PartialEq)]
pub struct ConfigPart {
    /// `[scheduler]` (a fixed LR when left out, as in a training config).
    pub scheduler: SchedulerConfig,
    /// `[optimizer] lr`, when given.
    pub lr: Option<f64>,
    /// `[[param_groups]]`, each checked as in a training config.
    pub param_groups: Vec<ParamGroupConfig>,
}

/// The keys a training config requires, with the values that stand in for them when a part
/// leaves them out (only to check the keys that are there; never used). A
/// `[[param_groups]]` table without `params` gets one too.
fn stand_ins() -> [(&'static str, &'static str, toml::Value); 5] {
    let text = |s: &str| toml::Value::String(s.into());
    [
        ("model", "arch", text("tiny")),
        ("optimizer", "name", text("sgd")),
        ("optimizer", "lr", toml::Value::Float(0.0)),
        ("training", "epochs", toml::Value::Integer(1)),
        ("training", "batch_size", toml::Value::Integer(1)),
    ]
}

impl ConfigPart {
    /// Reads and checks a file.
    ///
    /// # Errors
    /// [`ConfigError`] naming the file, the table, the key and (where it can be found) its line.
    pub fn from_file(path: &Path) -> Result<Self, ConfigError> {
        let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
            path: path.into(),
            source,
        })?;
        Self::from_toml(&text).map_err(|e| e.in_file(path, &text))
    }

    /// Parses and checks TOML text.
    ///
    /// # Errors
    /// As [`Self::from_file`].
    pub fn from_toml(text: &str) -> Result<Self, ConfigError> {
        let parse = |message| ConfigError::Parse {
            path: PathBuf::new(),
            message,
        };
        // A whole training config, read with the positions of its own text; only a part that
        // leaves out required keys goes through the stand-ins.
        match parse_toml::<TrainConfig>(text) {
            Ok(cfg) => {
                cfg.validate()?;
                return Ok(Self {
                    lr: Some(cfg.optimizer.lr),
                    scheduler: cfg.scheduler,
                    param_groups: cfg.param_groups,
                });
            }
            Err(message) if !message.contains("missing field") => return Err(parse(message)),
            Err(_) => {}
        }
        let mut tables: toml::Table = parse_toml(text).map_err(parse)?;
        let lr = match tables.get("optimizer").and_then(|o| o.get("lr")) {
            Some(toml::Value::Float(lr)) => Some(*lr),
            Some(toml::Value::Integer(lr)) => Some(*lr as f64),
            _ => None,
        };
        for (table, key, value) in stand_ins() {
            let entry = tables
                .entry(table)
                .or_insert_with(|| toml::Value::Table(toml::Table::new()));
            if let toml::Value::Table(t) = entry {
                t.entry(key).or_insert(value);
            }
        }
        if let Some(toml::Value::Array(groups)) = tables.get_mut("param_groups") {
            for group in groups.iter_mut().filter_map(toml::Value::as_table_mut) {
                group
                    .entry("params")
                    .or_insert_with(|| toml::Value::String("(any)".into()));
            }
        }
        let cfg: TrainConfig = serde_path_to_error::deserialize(toml::Value::Table(tables))
            .map_err(|err| parse(located(text, &err.path().to_string(), &err.inner().to_string())))?;
        cfg.validate()?;
        Ok(Self {
            scheduler: cfg.scheduler,
            lr,
            param_groups: cfg.param_groups,
        })
    }
}

/// An error at `path` (`optimizer.momentum`, `scheduler`, `param_groups[1].lr`) as
/// [`parse_toml`] writes it: `line L, column C: [table] key: message`, the line found by the
/// table's header and the key the path or the message names.
fn located(text: &str, path: &str, message: &str) -> String {
    // The TOML value deserializer appends the table (` in `scheduler``), which the prefix says.
    let message = one_line(message);
    let message = match message.rsplit_once(" in `") {
        Some((head, table)) if table.ends_with('`') && !table.contains(' ') => head,
        _ => &message,
    };
    let named = message.split('`').nth(1);
    let (table, key) = match path.split_once('.') {
        _ if path == "." => (named.unwrap_or_default(), None),
        Some((table, key)) => (table, Some(key.rsplit('.').next().unwrap_or(key))),
        None => (path, named),
    };
    let (table, index) = match table.split_once('[') {
        Some((t, i)) => (t, i.trim_end_matches(']').parse::<usize>().unwrap_or(0)),
        None => (table, 0),
    };
    let location = line_of(text, table, index, key)
        .map(|line| format!("line {line}, column 1: "))
        .unwrap_or_default();
    let prefix = match key_of(path) {
        Some(k) => key_path(&format!("{table}.{k}")),
        None if path == "." => String::new(),
        None => key_path(table),
    };
    format!("{location}{prefix}{}", one_line(message))
}

/// The key of a serde path (`optimizer.momentum` -> `momentum`), without array indices.
fn key_of(path: &str) -> Option<&str> {
    path.split_once('.').map(|(_, k)| k)
}

/// The line (from 1) of `key` in the `index`-th `[table]` or `[[table]]` section (or of the
/// header itself, without a key or when the key is not found there).
fn line_of(text: &str, table: &str, index: usize, key: Option<&str>) -> Option<usize> {
    let headers = [format!("[{table}]"), format!("[[{table}]]")];
    let mut seen = 0;
    let mut header_line = None;
    for (i, line) in text.lines().enumerate() {
        let trimmed = line.trim();
        if trimmed.starts_with('[') {
            if header_line.is_some() && !trimmed.starts_with(&format!("[{table}.")) {
                break;
            }
            if headers.iter().any(|h| trimmed.starts_with(h.as_str())) {
                if seen == index {
                    header_line = Some(i + 1);
                }
                seen += 1;
            }
            continue;
        }
        if let (Some(_), Some(key)) = (header_line, key) {
            if let Some(rest) = trimmed.strip_prefix(key) {
                if rest.trim_start().starts_with('=') {
                    return Some(i + 1);
                }
            }
        }
    }
    header_line
}

/// The line (from 1) of a schedule error in a config's `text`: the line setting the error's
/// parameter in a `[scheduler...]` or `[[param_groups]]` table, preferring a table whose `type`
/// is the error's schedule (a group's schedule may share keys with the base one), else the
/// `[scheduler]` header; `None` for an error without a parameter or a text without the table.
pub fn schedule_line(text: &str, error: &burn_lr::schedule::ScheduleError) -> Option<usize> {
    let burn_lr::schedule::ScheduleError::InvalidParam { scheduler, field, .. } = error else {
        return None;
    };
    // (header line, `type` value, line of `field`) of each schedule table.
    let mut tables: Vec<(usize, Option<String>, Option<usize>)> = Vec::new();
    let mut inside = false;
    for (i, line) in text.lines().enumerate() {
        let trimmed = line.trim();
        if trimmed.starts_with('[') {
            inside = ["[scheduler", "[[param_groups", "[param_groups."]
                .iter()
                .any(|t| trimmed.starts_with(t));
            if inside {
                tables.push((i + 1, None, None));
            }
            continue;
        }
        let (Some(table), Some((key, value))) = (tables.last_mut().filter(|_| inside), trimmed.split_once('=')) else {
            continue;
        };
        let key = key.trim().trim_matches('"');
        if key == "type" {
            table.1 = Some(value.trim().trim_matches('"').to_string());
        }
        if key == *field && table.2.is_none() {
            table.2 = Some(i + 1);
        }
    }
    let of_type = |t: &&(usize, Option<String>, Option<usize>)| t.1.as_deref().is_none_or(|ty| ty == *scheduler);
    tables
        .iter()
        .filter(of_type)
        .find_map(|t| t.2)
        .or_else(|| tables.iter().find_map(|t| t.2))
        .or_else(|| tables.first().map(|t| t.0))
}

fn bad(field: &'static str, value: String, allowed: &'static str) -> Result<(), ConfigError> {
    Err(ConfigError::Value {
        field,
        value,
        allowed,
        at: String::new(),
    })
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
        Ok(())
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

#[cfg(test)]
mod tests {
    use super::*;

    const MIN: &str = r#"
[model]
arch = "resnet20"
[optimizer]
name = "sgd"
lr = 0.1
[scheduler]
type = "step"
step_size = 30
[training]
epochs = 2
batch_size = 8
"#;

    #[test]
    fn parses_minimal() {
        let cfg = TrainConfig::from_toml(MIN).unwrap();
        assert_eq!(cfg.training.grad_accumulation, 1);
        assert!(matches!(cfg.scheduler, SchedulerConfig::Step(ref s) if s.step_size == 30 && s.gamma == 0.1));
    }

    #[test]
    fn label_smoothing_defaults_to_none_and_is_checked() {
        assert_eq!(TrainConfig::from_toml(MIN).unwrap().training.label_smoothing, 0.0);
        let with = |a: &str| TrainConfig::from_toml(&format!("{MIN}label_smoothing = {a}\n"));
        assert_eq!(with("0.1").unwrap().training.label_smoothing, 0.1);
        assert_eq!(with("1.0").unwrap().training.label_smoothing, 1.0);
        for bad in ["-0.1", "1.5", "nan", "inf"] {
            let err = with(bad).unwrap_err().to_string();
            assert!(
                err.contains("training.label_smoothing") && err.contains("[0, 1]"),
                "{bad}: {err}"
            );
        }
    }

    #[test]
    fn cutout_is_a_side_of_1_to_32_with_augmentation() {
        assert_eq!(TrainConfig::from_toml(MIN).unwrap().data.cutout, None);
        let with = |data: &str| TrainConfig::from_toml(&format!("{MIN}[data]\n{data}\n"));
        assert_eq!(with("cutout = 8").unwrap().data.cutout, Some(8));
        for (bad, says) in [
            ("cutout = 0", "1..=32"),
            ("cutout = 33", "1..=32"),
            ("cutout = 8\naugment = false", "needs augment = true"),
        ] {
            let err = with(bad).unwrap_err().to_string();
            assert!(err.contains("data.cutout") && err.contains(says), "{bad}: {err}");
        }
        assert!(with("cutout = -1").is_err());
    }

    #[test]
    fn a_missing_data_table_equals_an_empty_one() {
        let without = TrainConfig::from_toml(MIN).unwrap();
        let with = TrainConfig::from_toml(&format!("{MIN}[data]\n")).unwrap();
        assert_eq!(without, with);
        assert!(without.data.augment);
        assert_eq!(without.data.num_workers, 1);
    }

    #[test]
    fn unknown_keys_are_errors() {
        let err = TrainConfig::from_toml(&MIN.replace("step_size = 30", "step_size = 30\nstepsize = 3")).unwrap_err();
        assert!(err.to_string().contains("stepsize"), "{err}");
        let err = TrainConfig::from_toml(&MIN.replace("lr = 0.1", "lr = 0.1\nlearning_rate = 1")).unwrap_err();
        assert!(err.to_string().contains("learning_rate"), "{err}");
        let err = TrainConfig::from_toml(&MIN.replace("type = \"step\"", "type = \"stepp\"")).unwrap_err();
        assert!(err.to_string().contains("stepp"), "{err}");
    }

    #[test]
    fn parse_errors_are_one_line_with_position_and_key() {
        let err = TrainConfig::from_toml(&MIN.replace("epochs = 2", "epochs = \"two\"")).unwrap_err();
        let msg = err.to_string();
        assert!(!msg.contains('\n'), "{msg}");
        assert!(
            msg.contains("line 11, column 10: [training] epochs: invalid type: string \"two\""),
            "{msg}"
        );
        let err = TrainConfig::from_toml(&MIN.replace("step_size = 30", "step_size = 30\nstepsize = 3")).unwrap_err();
        let msg = err.to_string();
        assert!(!msg.contains('\n'), "{msg}");
        assert!(
            msg.contains("[scheduler] ") && msg.contains("unknown field `stepsize`"),
            "{msg}"
        );
        assert!(msg.contains("line 10, column 1: "), "{msg}");
        let err = TrainConfig::from_toml("[model\narch = 1").unwrap_err().to_string();
        assert!(err.starts_with("invalid config: line 1, column 7: "), "{err}");
    }

    #[test]
    fn a_schedule_error_points_at_its_own_table() {
        let text = "[scheduler]\ntype = \"step\"\nstep_size = 2\n[[param_groups]]\nparams = \"fc\"\n\
                    [param_groups.scheduler]\ntype = \"multi_step\"\nstep_size = 0\n";
        let err = |scheduler| burn_lr::schedule::ScheduleError::InvalidParam {
            scheduler,
            field: "step_size",
            value: "0".into(),
            allowed: String::new(),
        };
        assert_eq!(schedule_line(text, &err("step")), Some(3));
        assert_eq!(schedule_line(text, &err("multi_step")), Some(8));
        let other = burn_lr::schedule::ScheduleError::InvalidParam {
            scheduler: "step",
            field: "gamma",
            value: "2".into(),
            allowed: String::new(),
        };
        assert_eq!(schedule_line(text, &other), Some(1), "the [scheduler] header");
    }

    #[test]
    fn a_file_cut_short_says_so() {
        let err = parse_toml::<TrainConfig>("[training]\nepochs = ").unwrap_err();
        assert_eq!(
            err,
            "line 2, column 10: a value is missing here (is the file cut short?)"
        );
    }

    #[test]
    fn bad_values_name_the_key() {
        let err = TrainConfig::from_toml(&MIN.replace("epochs = 2", "epochs = 0")).unwrap_err();
        assert!(err.to_string().contains("training.epochs"), "{err}");
        let err = TrainConfig::from_toml(&MIN.replace("lr = 0.1", "lr = nan")).unwrap_err();
        assert!(err.to_string().contains("optimizer.lr"), "{err}");
    }
}
