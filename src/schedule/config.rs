//! The one scheduler configuration used by TOML files, the CLI and the training loop.

use super::compose::{Chained, Schedule, Sequential, Warmup, WarmupMode};
use super::types::type_list;
use super::*;
use burn::lr_scheduler::{LrScheduler, LrSchedulerRecord};

/// The facts of a training run that a schedule needs; they come from the run itself, so a user
/// cannot get them wrong.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RunInfo {
    /// The optimizer's base learning rate (PyTorch's `optimizer.lr`, `[optimizer] lr`).
    pub base_lr: LearningRate,
    /// Optimizer updates per epoch (batches per epoch divided by gradient accumulation,
    /// rounded up), >= 1.
    pub steps_per_epoch: u64,
    /// Optimizer updates in the whole run (epochs × `steps_per_epoch`), >= 1.
    pub total_steps: u64,
}

/// A fixed learning rate (no schedule): `lr(t) = lr`.
#[derive(Debug, Clone, PartialEq)]
pub struct FixedLr {
    /// The learning rate.
    pub lr: LearningRate,
}

impl ClosedForm for FixedLr {
    const KIND: &'static str = "fixed";

    fn lr_at(&self, _t: u64) -> LearningRate {
        self.lr
    }

    fn fingerprint(&self) -> String {
        format!("lr={:?}", self.lr)
    }
}

/// `SequentialLR`: children in turn, switching at `milestones` (in `unit`s).
///
/// TOML: `type = "sequential"`, `milestones = [5]`, then one `[[scheduler.schedulers]]` table per
/// child (one more child than milestones), each with its own `type` and `unit`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SequentialLrSchedulerConfig {
    /// The children, `milestones.len() + 1` of them; any schedule but `reduce_on_plateau`.
    pub schedulers: Vec<SchedulerConfig>,
    /// Where child `i + 1` takes over (non-decreasing, in `unit`s); a milestone at 0 skips the
    /// first child, as PyTorch 2.15 does.
    pub milestones: Vec<u64>,
    /// The unit of `milestones` (`epoch` when left out). In TOML it is also the default `unit`
    /// of every child that does not set its own.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub unit: Option<Unit>,
}

/// `ChainedScheduler`: all children at once, their multiplicative factors combined.
///
/// TOML: `type = "chained"`, then one `[[scheduler.schedulers]]` table per child.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ChainedSchedulerConfig {
    /// The children (at least one); any schedule but `reduce_on_plateau`.
    pub schedulers: Vec<SchedulerConfig>,
    /// In TOML, the default `unit` of every child that does not set its own (a child's own
    /// `unit` wins); no effect of its own.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub unit: Option<Unit>,
}

/// A warmup phase in front of any schedule (timm's `warmup_t`, Lightning's warmup recipes).
///
/// TOML: add `[scheduler.warmup]` with `epochs = 2` (or `steps = 500`), `start_factor = 0.1`,
/// `mode = "linear"` to any `[scheduler]`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WarmupSpec {
    /// Warmup length in optimizer updates (give this or `epochs`).
    #[serde(default)]
    pub steps: Option<u64>,
    /// Warmup length in epochs (give this or `steps`).
    #[serde(default)]
    pub epochs: Option<u64>,
    /// First factor, in (0, 1] (default 1/3, as `LinearLR`).
    #[serde(default = "d_third")]
    pub start_factor: f64,
    /// `linear` (default) or `exponential`.
    #[serde(default = "d_linear")]
    pub mode: WarmupMode,
}

/// A schedule with a warmup in front (the `warmup` table of a `[scheduler]`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WarmupSchedulerConfig {
    /// The warmup.
    pub warmup: WarmupSpec,
    /// What runs after it, from its own step 0.
    pub schedule: SchedulerConfig,
}

fn d_third() -> f64 {
    1.0 / 3.0
}
fn d_linear() -> WarmupMode {
    WarmupMode::Linear
}

/// Every schedule that has a TOML form, tagged by `type` (see [`SCHEDULE_TYPES`](super::SCHEDULE_TYPES)
/// for every accepted name: the canonical one, the reference class or function name in
/// snake_case, short forms):
///
/// | `type` | reference | default `unit` |
/// |---|---|---|
/// | `fixed` | no scheduler | – |
/// | `step` | PyTorch `StepLR` | epoch |
/// | `multi_step` | PyTorch `MultiStepLR` | epoch |
/// | `exponential` | PyTorch `ExponentialLR` | epoch |
/// | `linear` | PyTorch `LinearLR` | epoch |
/// | `constant` | PyTorch `ConstantLR` | epoch |
/// | `polynomial` | PyTorch `PolynomialLR` | epoch |
/// | `cosine_annealing` | PyTorch `CosineAnnealingLR` | epoch |
/// | `cosine_annealing_warm_restarts` | PyTorch `CosineAnnealingWarmRestarts` | epoch (fractional) |
/// | `reduce_on_plateau` | PyTorch `ReduceLROnPlateau` | epoch |
/// | `one_cycle` | PyTorch `OneCycleLR` | iteration |
/// | `cyclic` | PyTorch `CyclicLR` | iteration |
/// | `sequential` | PyTorch `SequentialLR` | epoch (milestones) |
/// | `chained` | PyTorch `ChainedScheduler` | – |
/// | `warmup_stable_decay` | HF `get_wsd_schedule` | iteration |
/// | `inverse_sqrt` | HF `get_inverse_sqrt_schedule` | iteration |
/// | `noam` | Burn `NoamLrScheduler` | iteration |
/// | `cosine_with_restarts` | HF `get_cosine_with_hard_restarts_schedule_with_warmup` | iteration |
/// | `polynomial_decay` | HF `get_polynomial_decay_schedule_with_warmup` | iteration |
/// | `timm_cosine` | timm `CosineLRScheduler` | epoch |
///
/// Any of them (but `reduce_on_plateau`) takes a `warmup` table. Unknown keys are errors that
/// name the key; an unknown `type` suggests the closest valid name.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum SchedulerConfig {
    /// A constant LR equal to the optimizer's `lr`.
    Fixed,
    /// [`StepLrSchedulerConfig`].
    Step(StepLrSchedulerConfig),
    /// [`MultiStepLrSchedulerConfig`].
    MultiStep(MultiStepLrSchedulerConfig),
    /// [`ExponentialLrSchedulerConfig`].
    Exponential(ExponentialLrSchedulerConfig),
    /// [`LinearLrSchedulerConfig`].
    Linear(LinearLrSchedulerConfig),
    /// [`ConstantLrSchedulerConfig`].
    Constant(ConstantLrSchedulerConfig),
    /// [`PolynomialLrSchedulerConfig`].
    Polynomial(PolynomialLrSchedulerConfig),
    /// [`CosineAnnealingLrSchedulerConfig`].
    CosineAnnealing(CosineAnnealingLrSchedulerConfig),
    /// [`CosineAnnealingWarmRestartsSchedulerConfig`].
    CosineAnnealingWarmRestarts(CosineAnnealingWarmRestartsSchedulerConfig),
    /// [`ReduceLrOnPlateauSchedulerConfig`].
    ReduceOnPlateau(ReduceLrOnPlateauSchedulerConfig),
    /// [`OneCycleLrSchedulerConfig`].
    OneCycle(OneCycleLrSchedulerConfig),
    /// [`CyclicLrSchedulerConfig`].
    Cyclic(CyclicLrSchedulerConfig),
    /// [`SequentialLrSchedulerConfig`].
    Sequential(SequentialLrSchedulerConfig),
    /// [`ChainedSchedulerConfig`].
    Chained(ChainedSchedulerConfig),
    /// [`WarmupSchedulerConfig`] (written as a `warmup` table inside any scheduler table).
    Warmup(Box<WarmupSchedulerConfig>),
    /// [`WarmupStableDecayLrSchedulerConfig`].
    WarmupStableDecay(WarmupStableDecayLrSchedulerConfig),
    /// [`InverseSqrtLrSchedulerConfig`].
    InverseSqrt(InverseSqrtLrSchedulerConfig),
    /// [`NoamLrSchedulerConfig`].
    Noam(NoamLrSchedulerConfig),
    /// [`CosineWithHardRestartsLrSchedulerConfig`].
    CosineWithRestarts(CosineWithHardRestartsLrSchedulerConfig),
    /// [`PolynomialDecayLrSchedulerConfig`].
    PolynomialDecay(PolynomialDecayLrSchedulerConfig),
    /// [`TimmCosineLrSchedulerConfig`].
    TimmCosine(TimmCosineLrSchedulerConfig),
}

// Hand-written so that an error names the offending key (serde's internally tagged enums lose
// the field path), so that a `warmup` table can sit in any scheduler table, so that every name
// of a type is accepted, and so that a composite's `unit` becomes its children's default.
impl<'de> Deserialize<'de> for SchedulerConfig {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        use serde::de::Error;
        let table = toml::Table::deserialize(deserializer)?;
        SchedulerConfig::from_table(table).map_err(D::Error::custom)
    }
}

/// The schedule type of a table's `type` value (any accepted name).
fn type_of(value: Option<&toml::Value>) -> Result<&'static ScheduleType, String> {
    match value {
        Some(toml::Value::String(name)) => resolve_type(name).ok_or_else(|| {
            format!(
                "unknown scheduler type `{name}`: did you mean `{}`? (one of {})",
                closest_type(name),
                type_list()
            )
        }),
        Some(other) => Err(format!("scheduler `type` must be a string, got {other}")),
        None => Err(format!("missing scheduler `type` (one of {})", type_list())),
    }
}

/// A composite's `unit` becomes the `unit` of each child table that does not set its own.
fn inherit_unit(table: &mut toml::Table) {
    let Some(unit) = table.get("unit").cloned() else {
        return;
    };
    let Some(toml::Value::Array(children)) = table.get_mut("schedulers") else {
        return;
    };
    for child in children {
        if let toml::Value::Table(child) = child {
            let takes_unit = !matches!(type_of(child.get("type")), Ok(t) if t.name == "fixed" || t.name == "warmup");
            if takes_unit && !child.contains_key("unit") {
                child.insert("unit".into(), unit.clone());
            }
        }
    }
}

impl SchedulerConfig {
    fn from_table(mut table: toml::Table) -> Result<Self, String> {
        let ty = type_of(table.get("type"))?;
        table.remove("type");
        if ty.name != "warmup" {
            if let Some(warmup) = table.remove("warmup") {
                let warmup: WarmupSpec = match warmup {
                    toml::Value::Table(t) => serde_path_to_error::deserialize(toml::Value::Table(t))
                        .map_err(|e| format!("[scheduler.warmup] `{}`: {}", e.path(), e.inner()))?,
                    other => return Err(format!("scheduler `warmup` must be a table, got {other}")),
                };
                table.insert("type".into(), toml::Value::String(ty.name.into()));
                let schedule = Self::from_table(table)?;
                return Ok(Self::Warmup(Box::new(WarmupSchedulerConfig { warmup, schedule })));
            }
        }
        if ty.name == "sequential" || ty.name == "chained" {
            inherit_unit(&mut table);
        }
        ty.parse(table)
    }

    /// The TOML `type` name.
    pub fn kind(&self) -> &'static str {
        match self {
            Self::Fixed => "fixed",
            Self::Step(_) => "step",
            Self::MultiStep(_) => "multi_step",
            Self::Exponential(_) => "exponential",
            Self::Linear(_) => "linear",
            Self::Constant(_) => "constant",
            Self::Polynomial(_) => "polynomial",
            Self::CosineAnnealing(_) => "cosine_annealing",
            Self::CosineAnnealingWarmRestarts(_) => "cosine_annealing_warm_restarts",
            Self::ReduceOnPlateau(_) => "reduce_on_plateau",
            Self::OneCycle(_) => "one_cycle",
            Self::Cyclic(_) => "cyclic",
            Self::Sequential(_) => "sequential",
            Self::Chained(_) => "chained",
            Self::Warmup(_) => "warmup",
            Self::WarmupStableDecay(_) => "warmup_stable_decay",
            Self::InverseSqrt(_) => "inverse_sqrt",
            Self::Noam(_) => "noam",
            Self::CosineWithRestarts(_) => "cosine_with_restarts",
            Self::PolynomialDecay(_) => "polynomial_decay",
            Self::TimmCosine(_) => "timm_cosine",
        }
    }

    /// The unit the schedule counts in (a sequential's milestones; a warmup's inner schedule).
    pub fn unit(&self) -> Unit {
        match self {
            Self::Fixed | Self::Chained(_) => Unit::Iteration,
            Self::Step(c) => c.unit,
            Self::MultiStep(c) => c.unit,
            Self::Exponential(c) => c.unit,
            Self::Linear(c) => c.unit,
            Self::Constant(c) => c.unit,
            Self::Polynomial(c) => c.unit,
            Self::CosineAnnealing(c) => c.unit,
            Self::CosineAnnealingWarmRestarts(c) => c.unit,
            Self::ReduceOnPlateau(c) => c.unit,
            Self::OneCycle(c) => c.unit,
            Self::Cyclic(c) => c.unit,
            Self::Sequential(c) => c.milestone_unit(),
            Self::Warmup(c) => c.schedule.unit(),
            Self::WarmupStableDecay(c) => c.unit,
            Self::InverseSqrt(c) => c.unit,
            Self::Noam(c) => c.unit,
            Self::CosineWithRestarts(c) => c.unit,
            Self::PolynomialDecay(c) => c.unit,
            Self::TimmCosine(c) => c.unit,
        }
    }

    /// Whether the schedule only scales the LR by a factor (so that chaining multiplies factors
    /// exactly as PyTorch's `ChainedScheduler` does).
    pub fn is_multiplicative(&self) -> bool {
        match self {
            Self::Fixed
            | Self::Step(_)
            | Self::MultiStep(_)
            | Self::Exponential(_)
            | Self::Linear(_)
            | Self::Constant(_)
            | Self::Polynomial(_) => true,
            Self::CosineAnnealing(c) => c.eta_min == 0.0,
            Self::Chained(c) => c.schedulers.iter().all(Self::is_multiplicative),
            _ => false,
        }
    }

    /// Whether the LR cycles momentum (OneCycle / Cyclic with `cycle_momentum`, anywhere inside).
    pub fn cycles_momentum(&self) -> bool {
        match self {
            Self::OneCycle(c) => c.cycle_momentum,
            Self::Cyclic(c) => c.cycle_momentum,
            Self::Sequential(c) => c.schedulers.iter().any(Self::cycles_momentum),
            Self::Chained(c) => c.schedulers.iter().any(Self::cycles_momentum),
            Self::Warmup(c) => c.schedule.cycles_momentum(),
            _ => false,
        }
    }

    /// Warnings for a run whose length differs from a length the config declares (a OneCycle
    /// `total_steps` or `epochs × steps_per_epoch`, anywhere in the tree): a longer run holds
    /// the final LR, a shorter one stops early in the cycle. Meant to be printed once at the
    /// start of a training run; a config that leaves the length out never warns.
    pub fn length_warnings(&self, run: &RunInfo) -> Vec<String> {
        let mut out = Vec::new();
        self.collect_length_warnings(run, &mut out);
        out
    }

    fn collect_length_warnings(&self, run: &RunInfo, out: &mut Vec<String>) {
        match self {
            Self::OneCycle(c) => {
                if let Ok(Some(declared)) = c.declared_total_steps() {
                    out.extend(length_warning(self.kind(), "total_steps", declared, c.unit, run));
                }
            }
            Self::WarmupStableDecay(c) => {
                let field = if c.num_stable_steps.is_some() {
                    "num_warmup_steps + num_stable_steps + num_decay_steps"
                } else {
                    "num_training_steps"
                };
                if let Some(declared) = c.declared_length() {
                    out.extend(length_warning(self.kind(), field, declared, c.unit, run));
                }
            }
            Self::CosineWithRestarts(c) => {
                if let Some(declared) = c.num_training_steps {
                    out.extend(length_warning(self.kind(), "num_training_steps", declared, c.unit, run));
                }
            }
            Self::PolynomialDecay(c) => {
                if let Some(declared) = c.num_training_steps {
                    out.extend(length_warning(self.kind(), "num_training_steps", declared, c.unit, run));
                }
            }
            Self::Sequential(c) => {
                if let Ok((_, runs)) = c.child_runs(run, run_per(run, c.milestone_unit())) {
                    c.schedulers
                        .iter()
                        .zip(&runs)
                        .for_each(|(s, r)| s.collect_length_warnings(r, out));
                }
            }
            Self::Chained(c) => c.schedulers.iter().for_each(|s| s.collect_length_warnings(run, out)),
            Self::Warmup(c) => {
                if let Ok(updates) = c.warmup.updates(run) {
                    c.schedule
                        .collect_length_warnings(&c.warmup.inner_run(run, updates), out);
                }
            }
            _ => {}
        }
    }

    /// Builds the scheduler for a run: an epoch-unit schedule advances once every
    /// `run.steps_per_epoch` optimizer updates; a OneCycle without a declared length spans
    /// exactly the run, one with a declared length uses it as given.
    ///
    /// # Errors
    /// Every [`ScheduleError::InvalidParam`] of the schedule's own validation (parameters
    /// first, then lengths).
    pub fn build(&self, run: &RunInfo) -> Result<TrainingScheduler, ScheduleError> {
        if run.steps_per_epoch == 0 {
            return Err(ScheduleError::invalid(
                self.kind(),
                "steps_per_epoch",
                0,
                "the run must have at least one optimizer update per epoch",
            ));
        }
        Ok(match self {
            Self::ReduceOnPlateau(c) => TrainingScheduler::ReduceOnPlateau(c.init(run.base_lr)?),
            other => TrainingScheduler::Schedule(DynScheduler::new(other.kind(), other.build_schedule(run)?)),
        })
    }

    /// Builds the update-indexed [`Schedule`] of any schedule but `reduce_on_plateau`.
    ///
    /// # Errors
    /// As [`Self::build`]; `reduce_on_plateau` (it needs metrics, so it cannot be composed).
    pub fn build_schedule(&self, run: &RunInfo) -> Result<Box<dyn Schedule>, ScheduleError> {
        let per = |unit: Unit| run_per(run, unit);
        fn leaf<S: ClosedForm + std::fmt::Debug>(s: S, per: u64) -> Box<dyn Schedule> {
            Box::new(ClosedFormScheduler::with_steps_per_unit(s, per))
        }
        let base = run.base_lr;
        Ok(match self {
            Self::Fixed => {
                non_negative("fixed", "lr", base)?;
                leaf(FixedLr { lr: base }, 1)
            }
            Self::Step(c) => leaf(c.build(base)?, per(c.unit)),
            Self::MultiStep(c) => leaf(c.build(base)?, per(c.unit)),
            Self::Exponential(c) => leaf(c.build(base)?, per(c.unit)),
            Self::Linear(c) => leaf(c.build(base)?, per(c.unit)),
            Self::Constant(c) => leaf(c.build(base)?, per(c.unit)),
            Self::Polynomial(c) => leaf(c.build(base)?, per(c.unit)),
            Self::CosineAnnealing(c) => leaf(c.build(base)?, per(c.unit)),
            Self::CosineAnnealingWarmRestarts(c) => leaf(c.build(base)?, per(c.unit)),
            Self::Cyclic(c) => leaf(c.build()?, per(c.unit)),
            Self::WarmupStableDecay(c) => leaf(c.build(base, Some(run_length(run, c.unit)))?, per(c.unit)),
            Self::InverseSqrt(c) => leaf(c.build(base)?, per(c.unit)),
            Self::Noam(c) => leaf(c.build()?, per(c.unit)),
            Self::CosineWithRestarts(c) => leaf(c.build(base, Some(run_length(run, c.unit)))?, per(c.unit)),
            Self::PolynomialDecay(c) => leaf(c.build(base, Some(run_length(run, c.unit)))?, per(c.unit)),
            Self::TimmCosine(c) => leaf(c.build(base)?, per(c.unit)),
            Self::OneCycle(c) => {
                c.validate_params()?;
                let total = c.declared_total_steps()?.unwrap_or_else(|| run_length(run, c.unit));
                leaf(c.build_with_total(total)?, per(c.unit))
            }
            Self::ReduceOnPlateau(_) => return Err(ScheduleError::invalid(
                "reduce_on_plateau",
                "type",
                "reduce_on_plateau",
                "cannot be nested in sequential, chained or warmup: it is driven by a metric, not by the step count",
            )),
            Self::Sequential(c) => {
                let (starts, child_runs) = c.child_runs(run, per(c.milestone_unit()))?;
                let children = c
                    .schedulers
                    .iter()
                    .zip(&child_runs)
                    .map(|(child, child_run)| child.build_schedule(child_run))
                    .collect::<Result<Vec<_>, _>>()?;
                Box::new(Sequential::new(children, starts))
            }
            Self::Chained(c) => {
                if c.schedulers.is_empty() {
                    return Err(ScheduleError::invalid(
                        "chained",
                        "schedulers",
                        "[]",
                        "needs at least one scheduler",
                    ));
                }
                if let Some(bad) = c.schedulers.iter().find(|s| !s.is_multiplicative()) {
                    return Err(ScheduleError::invalid(
                        "chained",
                        "schedulers",
                        bad.kind(),
                        "children must be multiplicative (step, multi_step, exponential, linear, constant, polynomial, \
                         fixed, cosine_annealing with eta_min = 0, or chained of those): PyTorch's ChainedScheduler \
                         lets schedules that set an absolute LR (one_cycle, cyclic, warm restarts, eta_min > 0) discard \
                         the other factors; combine those with sequential or warmup instead",
                    ));
                }
                let children = c
                    .schedulers
                    .iter()
                    .map(|s| s.build_schedule(run))
                    .collect::<Result<Vec<_>, _>>()?;
                Box::new(Chained::new(children, base))
            }
            Self::Warmup(c) => {
                const S: &str = "warmup";
                let w = &c.warmup;
                let updates = w.updates(run)?;
                finite(S, "start_factor", w.start_factor)?;
                if !(w.start_factor > 0.0 && w.start_factor <= 1.0) {
                    return Err(ScheduleError::invalid(
                        S,
                        "start_factor",
                        w.start_factor,
                        "must be in (0, 1]",
                    ));
                }
                let inner_run = w.inner_run(run, updates);
                let inner = c.schedule.build_schedule(&inner_run)?;
                if updates == 0 {
                    inner
                } else {
                    Box::new(Warmup::new(inner, updates, w.start_factor, w.mode))
                }
            }
        })
    }
}

impl SequentialLrSchedulerConfig {
    /// The unit of `milestones` (`epoch` unless `unit` is given).
    pub fn milestone_unit(&self) -> Unit {
        self.unit.unwrap_or(Unit::Epoch)
    }

    /// The children's start updates and the part of the run each child sees (a OneCycle child
    /// without a length spans it), `per` optimizer updates per milestone unit.
    fn child_runs(&self, run: &RunInfo, per: u64) -> Result<(Vec<u64>, Vec<RunInfo>), ScheduleError> {
        const S: &str = "sequential";
        if self.schedulers.len() != self.milestones.len() + 1 {
            return Err(ScheduleError::invalid(
                S,
                "milestones",
                format!("{:?}", self.milestones),
                format!(
                    "needs exactly one fewer milestone than schedulers ({} given)",
                    self.schedulers.len()
                ),
            ));
        }
        if self.milestones.windows(2).any(|w| w[0] > w[1]) {
            return Err(ScheduleError::invalid(
                S,
                "milestones",
                format!("{:?}", self.milestones),
                "must be non-decreasing",
            ));
        }
        let starts = self
            .milestones
            .iter()
            .map(|m| {
                m.checked_mul(per)
                    .ok_or_else(|| ScheduleError::invalid(S, "milestones", m, "too large (overflows the update count)"))
            })
            .collect::<Result<Vec<_>, _>>()?;
        let runs = (0..self.schedulers.len())
            .map(|i| {
                let start = if i == 0 { 0 } else { starts[i - 1] };
                let end = starts
                    .get(i)
                    .copied()
                    .unwrap_or(run.total_steps.max(start.saturating_add(1)));
                RunInfo {
                    total_steps: end.saturating_sub(start).max(1),
                    ..*run
                }
            })
            .collect();
        Ok((starts, runs))
    }
}

impl WarmupSpec {
    /// The warmup's length in optimizer updates.
    ///
    /// # Errors
    /// Unless exactly one of `steps` / `epochs` is given; an overflowing `epochs`.
    pub fn updates(&self, run: &RunInfo) -> Result<u64, ScheduleError> {
        const S: &str = "warmup";
        match (self.steps, self.epochs) {
            (Some(s), None) => Ok(s),
            (None, Some(e)) => e
                .checked_mul(run.steps_per_epoch)
                .ok_or_else(|| ScheduleError::invalid(S, "epochs", e, "too large")),
            (s, e) => Err(ScheduleError::invalid(
                S,
                "steps",
                format!("{s:?} / epochs {e:?}"),
                "give exactly one of `steps` (optimizer updates) or `epochs`",
            )),
        }
    }

    /// The part of the run after a warmup of `updates` optimizer updates.
    fn inner_run(&self, run: &RunInfo, updates: u64) -> RunInfo {
        RunInfo {
            total_steps: run.total_steps.saturating_sub(updates).max(1),
            ..*run
        }
    }
}

/// The warning for a schedule whose declared length (`field` = `declared` `unit`s) differs from
/// the run's; `None` when they agree.
fn length_warning(kind: &str, field: &str, declared: u64, unit: Unit, run: &RunInfo) -> Option<String> {
    let run_len = run_length(run, unit);
    let what = if declared < run_len {
        "the steps after it hold the schedule's final LR"
    } else if declared > run_len {
        "the run ends before the schedule does (its LR never reaches the final value)"
    } else {
        return None;
    };
    Some(format!(
        "{kind}: {field} = {declared} {unit}s, but this run has {run_len} {unit}s ({} optimizer updates, {} per \
         epoch): {what}; leave the length out to span the run",
        run.total_steps, run.steps_per_epoch
    ))
}

/// Optimizer updates per `unit`.
fn run_per(run: &RunInfo, unit: Unit) -> u64 {
    match unit {
        Unit::Epoch => run.steps_per_epoch.max(1),
        Unit::Iteration => 1,
    }
}

/// The run's length in `unit`s: its optimizer updates, or its epochs (rounded up).
fn run_length(run: &RunInfo, unit: Unit) -> u64 {
    match unit {
        Unit::Iteration => run.total_steps,
        Unit::Epoch => run.total_steps.div_ceil(run.steps_per_epoch.max(1)),
    }
}

/// A Burn [`LrScheduler`] over any update-indexed [`Schedule`] (leaf or composite).
///
/// It counts `step()` calls; its record holds that count plus the schedule's kind and a hash of
/// its whole parameter tree, so a record of another schedule is refused. Resuming a nested
/// composite at any step is exact because the LR is a function of the count alone.
#[derive(Clone, Debug)]
pub struct DynScheduler {
    kind: &'static str,
    schedule: Box<dyn Schedule>,
    step: u64,
    momentum_cell: Option<crate::optim::MomentumCell>,
}

impl DynScheduler {
    /// Wraps `schedule`; `kind` names it in records and messages.
    pub fn new(kind: &'static str, schedule: Box<dyn Schedule>) -> Self {
        Self {
            kind,
            schedule,
            step: 0,
            momentum_cell: None,
        }
    }

    /// The schedule.
    pub fn schedule(&self) -> &dyn Schedule {
        self.schedule.as_ref()
    }

    /// `step()` calls so far.
    pub fn steps_taken(&self) -> u64 {
        self.step
    }

    /// Restores the step count, refusing a record of another schedule.
    ///
    /// # Errors
    /// [`ScheduleError::RecordMismatch`] / [`ScheduleError::RecordIncomplete`].
    pub fn try_load_record(&mut self, record: &LrSchedulerRecord) -> Result<(), ScheduleError> {
        check_record(record, self.kind, &self.schedule.fingerprint())?;
        self.step = record
            .scalar(KEY_STEP)
            .ok_or_else(|| ScheduleError::RecordIncomplete(KEY_STEP.into()))?;
        Ok(())
    }
}

impl LrScheduler for DynScheduler {
    fn step(&mut self) -> LearningRate {
        let lr = clamp_lr(self.schedule.lr(self.step));
        if let Some(cell) = &self.momentum_cell {
            if let Some(m) = self.schedule.momentum(self.step) {
                cell.set(self.step, m);
            }
        }
        self.step = self.step.saturating_add(1);
        lr
    }

    fn to_record(&self) -> LrSchedulerRecord {
        tag_record(LrSchedulerRecord::new(), self.kind, &self.schedule.fingerprint()).with_scalar(KEY_STEP, self.step)
    }

    fn load_record(&mut self, record: LrSchedulerRecord) {
        if let Err(err) = self.try_load_record(&record) {
            panic!("{err}");
        }
    }
}

/// A built [`SchedulerConfig`]: a Burn [`LrScheduler`] for `Learner::new`.
#[derive(Clone, Debug)]
pub enum TrainingScheduler {
    /// Any step-count schedule, leaf or composite.
    Schedule(DynScheduler),
    /// ReduceLROnPlateau.
    ReduceOnPlateau(ReduceLrOnPlateauScheduler),
}

impl TrainingScheduler {
    /// The momentum that goes with the LR of the last `step()` (OneCycle and Cyclic with
    /// `cycle_momentum`); `None` otherwise.
    pub fn momentum(&self) -> Option<f64> {
        match self {
            Self::Schedule(s) => s.step.checked_sub(1).and_then(|k| s.schedule.momentum(k)),
            Self::ReduceOnPlateau(_) => None,
        }
    }

    /// Makes every `step()` write the momentum of its update into `cell`, for a momentum-cycling
    /// optimizer ([`CycledSgd`](crate::optim::CycledSgd), [`CycledAdamW`](crate::optim::CycledAdamW))
    /// to apply; no effect on schedules that do not cycle momentum.
    pub fn with_momentum_cell(mut self, cell: crate::optim::MomentumCell) -> Self {
        if let Self::Schedule(s) = &mut self {
            s.momentum_cell = Some(cell);
        }
        self
    }

    /// The momentum of optimizer update `k`, for momentum-cycling schedules.
    pub fn momentum_of_update(&self, k: u64) -> Option<f64> {
        match self {
            Self::Schedule(s) => s.schedule.momentum(k),
            Self::ReduceOnPlateau(_) => None,
        }
    }

    /// The LR of optimizer update `k` (0-based), for step-count schedules.
    pub fn lr_of_update(&self, k: u64) -> Option<LearningRate> {
        match self {
            Self::Schedule(s) => Some(s.schedule.lr(k)),
            Self::ReduceOnPlateau(_) => None,
        }
    }

    /// The plateau feed, for `reduce_on_plateau`.
    pub fn plateau_feed(&self) -> Option<PlateauFeed> {
        match self {
            Self::ReduceOnPlateau(s) => Some(s.feed()),
            Self::Schedule(_) => None,
        }
    }

    /// The LR of the last optimizer update of `epoch` (from 1) in a run with `steps_per_epoch`
    /// updates per epoch; for a plateau schedule, the LR in force during that epoch given the
    /// metrics reported for the epochs before it.
    pub fn lr_during_epoch(&self, epoch: u64, steps_per_epoch: u64) -> LearningRate {
        match self {
            Self::ReduceOnPlateau(s) => s.lr_for_epoch(epoch),
            Self::Schedule(s) => s.schedule.lr((epoch * steps_per_epoch.max(1)).saturating_sub(1)),
        }
    }

    /// Restores from a record, refusing one that belongs to another schedule.
    ///
    /// # Errors
    /// [`ScheduleError::RecordMismatch`] / [`ScheduleError::RecordIncomplete`].
    pub fn try_load_record(&mut self, record: &LrSchedulerRecord) -> Result<(), ScheduleError> {
        match self {
            Self::Schedule(s) => s.try_load_record(record),
            Self::ReduceOnPlateau(s) => s.try_load_record(record),
        }
    }
}

impl LrScheduler for TrainingScheduler {
    fn step(&mut self) -> LearningRate {
        match self {
            Self::Schedule(s) => s.step(),
            Self::ReduceOnPlateau(s) => s.step(),
        }
    }

    fn to_record(&self) -> LrSchedulerRecord {
        match self {
            Self::Schedule(s) => s.to_record(),
            Self::ReduceOnPlateau(s) => s.to_record(),
        }
    }

    fn load_record(&mut self, record: LrSchedulerRecord) {
        if let Err(err) = self.try_load_record(&record) {
            panic!("{err}");
        }
    }
}
