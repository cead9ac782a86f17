//! The one scheduler configuration used by TOML files, the CLI and the training loop.

use super::compose::{Chained, Schedule, Sequential, Warmup, WarmupMode};
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
    /// The unit of `milestones` (`epoch` by default).
    #[serde(default = "d_epoch")]
    pub unit: Unit,
}

/// `ChainedScheduler`: all children at once, their multiplicative factors combined.
///
/// TOML: `type = "chained"`, then one `[[scheduler.schedulers]]` table per child.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ChainedSchedulerConfig {
    /// The children (at least one); any schedule but `reduce_on_plateau`.
    pub schedulers: Vec<SchedulerConfig>,
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

fn d_epoch() -> Unit {
    Unit::Epoch
}
fn d_third() -> f64 {
    1.0 / 3.0
}
fn d_linear() -> WarmupMode {
    WarmupMode::Linear
}

/// Every schedule that has a TOML form, tagged by `type`:
///
/// | `type` | PyTorch | default `unit` |
/// |---|---|---|
/// | `fixed` | no scheduler | – |
/// | `step` | `StepLR` | epoch |
/// | `multi_step` | `MultiStepLR` | epoch |
/// | `exponential` | `ExponentialLR` | epoch |
/// | `linear` | `LinearLR` | epoch |
/// | `constant` | `ConstantLR` | epoch |
/// | `polynomial` | `PolynomialLR` | epoch |
/// | `cosine_annealing` | `CosineAnnealingLR` | epoch |
/// | `cosine_warm_restarts` | `CosineAnnealingWarmRestarts` | epoch (fractional) |
/// | `reduce_on_plateau` | `ReduceLROnPlateau` | epoch |
/// | `one_cycle` | `OneCycleLR` | iteration |
/// | `cyclic` | `CyclicLR` | iteration |
/// | `sequential` | `SequentialLR` | epoch (milestones) |
/// | `chained` | `ChainedScheduler` | – |
///
/// Any of them (but `reduce_on_plateau`) takes a `warmup` table. Unknown keys are errors that
/// name the key.
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
    CosineWarmRestarts(CosineAnnealingWarmRestartsSchedulerConfig),
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
}

/// The `type` names, for error messages.
pub const SCHEDULER_TYPES: [&str; 15] = [
    "fixed",
    "step",
    "multi_step",
    "exponential",
    "linear",
    "constant",
    "polynomial",
    "cosine_annealing",
    "cosine_warm_restarts",
    "reduce_on_plateau",
    "one_cycle",
    "cyclic",
    "sequential",
    "chained",
    "warmup",
];

// Hand-written so that an error names the offending key (serde's internally tagged enums lose
// the field path), and so that a `warmup` table can sit in any scheduler table.
impl<'de> Deserialize<'de> for SchedulerConfig {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        use serde::de::Error;
        let table = toml::Table::deserialize(deserializer)?;
        SchedulerConfig::from_table(table).map_err(D::Error::custom)
    }
}

impl SchedulerConfig {
    fn from_table(mut table: toml::Table) -> Result<Self, String> {
        fn parse<'a, T: Deserialize<'a>>(kind: &str, table: toml::Table) -> Result<T, String> {
            serde_path_to_error::deserialize(toml::Value::Table(table))
                .map_err(|e| format!("scheduler type = \"{kind}\": `{}`: {}", e.path(), e.inner()))
        }
        let kind = match table.remove("type") {
            Some(toml::Value::String(kind)) => kind,
            Some(other) => return Err(format!("scheduler `type` must be a string, got {other}")),
            None => {
                return Err(format!(
                    "scheduler: missing `type` (one of {})",
                    SCHEDULER_TYPES.join(", ")
                ))
            }
        };
        if kind != "warmup" {
            if let Some(warmup) = table.remove("warmup") {
                let warmup: WarmupSpec = match warmup {
                    toml::Value::Table(t) => parse("warmup", t)?,
                    other => return Err(format!("scheduler `warmup` must be a table, got {other}")),
                };
                table.insert("type".into(), toml::Value::String(kind));
                let schedule = Self::from_table(table)?;
                return Ok(Self::Warmup(Box::new(WarmupSchedulerConfig { warmup, schedule })));
            }
        }
        Ok(match kind.as_str() {
            "fixed" => {
                if let Some(key) = table.keys().next() {
                    return Err(format!("scheduler type = \"fixed\" takes no parameters, got `{key}`"));
                }
                Self::Fixed
            }
            "step" => Self::Step(parse(&kind, table)?),
            "multi_step" => Self::MultiStep(parse(&kind, table)?),
            "exponential" => Self::Exponential(parse(&kind, table)?),
            "linear" => Self::Linear(parse(&kind, table)?),
            "constant" => Self::Constant(parse(&kind, table)?),
            "polynomial" => Self::Polynomial(parse(&kind, table)?),
            "cosine_annealing" => Self::CosineAnnealing(parse(&kind, table)?),
            "cosine_warm_restarts" => Self::CosineWarmRestarts(parse(&kind, table)?),
            "reduce_on_plateau" => Self::ReduceOnPlateau(parse(&kind, table)?),
            "one_cycle" => Self::OneCycle(parse(&kind, table)?),
            "cyclic" => Self::Cyclic(parse(&kind, table)?),
            "sequential" => Self::Sequential(parse(&kind, table)?),
            "chained" => Self::Chained(parse(&kind, table)?),
            "warmup" => Self::Warmup(Box::new(parse(&kind, table)?)),
            other => {
                return Err(format!(
                    "unknown scheduler type `{other}`, expected one of {}",
                    SCHEDULER_TYPES.join(", ")
                ))
            }
        })
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
            Self::CosineWarmRestarts(_) => "cosine_warm_restarts",
            Self::ReduceOnPlateau(_) => "reduce_on_plateau",
            Self::OneCycle(_) => "one_cycle",
            Self::Cyclic(_) => "cyclic",
            Self::Sequential(_) => "sequential",
            Self::Chained(_) => "chained",
            Self::Warmup(_) => "warmup",
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
            Self::CosineWarmRestarts(c) => c.unit,
            Self::ReduceOnPlateau(c) => c.unit,
            Self::OneCycle(c) => c.unit,
            Self::Cyclic(c) => c.unit,
            Self::Sequential(c) => c.unit,
            Self::Warmup(c) => c.schedule.unit(),
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

    /// Builds the scheduler for a run: an epoch-unit schedule advances once every
    /// `run.steps_per_epoch` optimizer updates, OneCycle spans exactly the run.
    ///
    /// # Errors
    /// Every [`ScheduleError::InvalidParam`] of the schedule's own validation, and for
    /// `one_cycle` a declared `total_steps` (or `epochs × steps_per_epoch`) that differs from the
    /// run's length.
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
        let per = |unit: Unit| match unit {
            Unit::Epoch => run.steps_per_epoch.max(1),
            Unit::Iteration => 1,
        };
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
            Self::CosineWarmRestarts(c) => leaf(c.build(base)?, per(c.unit)),
            Self::Cyclic(c) => leaf(c.build()?, per(c.unit)),
            Self::OneCycle(c) => {
                let run_len = match c.unit {
                    Unit::Iteration => run.total_steps,
                    Unit::Epoch => run.total_steps.div_ceil(run.steps_per_epoch.max(1)),
                };
                if let Some(declared) = c.declared_total_steps()? {
                    if declared != run_len {
                        return Err(ScheduleError::invalid(
                            "one_cycle",
                            "total_steps",
                            declared,
                            format!(
                                "this run has {run_len} {}s ({} optimizer updates, {} per epoch); leave total_steps/epochs/steps_per_epoch out and the run's length is used",
                                c.unit, run.total_steps, run.steps_per_epoch
                            ),
                        ));
                    }
                }
                leaf(c.build_with_total(run_len)?, per(c.unit))
            }
            Self::ReduceOnPlateau(_) => return Err(ScheduleError::invalid(
                "reduce_on_plateau",
                "type",
                "reduce_on_plateau",
                "cannot be nested in sequential, chained or warmup: it is driven by a metric, not by the step count",
            )),
            Self::Sequential(c) => {
                const S: &str = "sequential";
                if c.schedulers.len() != c.milestones.len() + 1 {
                    return Err(ScheduleError::invalid(
                        S,
                        "milestones",
                        format!("{:?}", c.milestones),
                        format!(
                            "needs exactly one fewer milestone than schedulers ({} given)",
                            c.schedulers.len()
                        ),
                    ));
                }
                if c.milestones.windows(2).any(|w| w[0] > w[1]) {
                    return Err(ScheduleError::invalid(
                        S,
                        "milestones",
                        format!("{:?}", c.milestones),
                        "must be non-decreasing",
                    ));
                }
                let unit = per(c.unit);
                let starts = c
                    .milestones
                    .iter()
                    .map(|m| {
                        m.checked_mul(unit).ok_or_else(|| {
                            ScheduleError::invalid(S, "milestones", m, "too large (overflows the update count)")
                        })
                    })
                    .collect::<Result<Vec<_>, _>>()?;
                // Each child sees the run from its own start: a OneCycle child spans the rest of
                // the run (or up to the next milestone).
                let mut children = Vec::with_capacity(c.schedulers.len());
                for (i, child) in c.schedulers.iter().enumerate() {
                    let start = if i == 0 { 0 } else { starts[i - 1] };
                    let end = starts
                        .get(i)
                        .copied()
                        .unwrap_or(run.total_steps.max(start.saturating_add(1)));
                    let child_run = RunInfo {
                        total_steps: end.saturating_sub(start).max(1),
                        ..*run
                    };
                    children.push(child.build_schedule(&child_run)?);
                }
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
                let updates = match (w.steps, w.epochs) {
                    (Some(s), None) => s,
                    (None, Some(e)) => e
                        .checked_mul(run.steps_per_epoch)
                        .ok_or_else(|| ScheduleError::invalid(S, "epochs", e, "too large"))?,
                    (s, e) => {
                        return Err(ScheduleError::invalid(
                            S,
                            "steps",
                            format!("{s:?} / epochs {e:?}"),
                            "give exactly one of `steps` (optimizer updates) or `epochs`",
                        ))
                    }
                };
                finite(S, "start_factor", w.start_factor)?;
                if !(w.start_factor > 0.0 && w.start_factor <= 1.0) {
                    return Err(ScheduleError::invalid(
                        S,
                        "start_factor",
                        w.start_factor,
                        "must be in (0, 1]",
                    ));
                }
                let inner_run = RunInfo {
                    total_steps: run.total_steps.saturating_sub(updates).max(1),
                    ..*run
                };
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
        let lr = self.schedule.lr(self.step);
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
