//! The one scheduler configuration used by TOML files, the CLI and the training loop.

use super::compose::Schedule;
use super::run::{length_warning, run_length, run_per};
use super::types::{closure_only, type_list};
use super::*;

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
        Some(toml::Value::String(name)) => resolve_type(name).ok_or_else(|| match closure_only(name) {
            Some(rust_type) => format!(
                "scheduler type `{name}` has no TOML form (it takes a function): use burn_lr::schedule::{rust_type} \
                 from Rust with a closure"
            ),
            None => format!(
                "unknown scheduler type `{name}`: did you mean `{}`? (one of {})",
                closest_type(name),
                type_list()
            ),
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
    /// `run.updates_per_epoch` optimizer updates; a OneCycle without a declared length spans
    /// exactly the run, one with a declared length uses it as given.
    ///
    /// # Errors
    /// Every [`ScheduleError::InvalidParam`] of the schedule's own validation (parameters
    /// first, then lengths).
    pub fn build(&self, run: &RunInfo) -> Result<TrainingScheduler, ScheduleError> {
        if run.updates_per_epoch == 0 {
            return Err(ScheduleError::invalid(
                self.kind(),
                "updates_per_epoch",
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
            Self::Fixed => leaf(FixedLr::new(base)?, 1),
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
            Self::Sequential(c) => c.build_schedule(run)?,
            Self::Chained(c) => c.build_schedule(run)?,
            Self::Warmup(c) => c.build_schedule(run)?,
        })
    }
}
