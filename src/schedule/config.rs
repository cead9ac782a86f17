//! The one scheduler configuration used by TOML files, the CLI and the training loop.

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

/// Every schedule that has a TOML form, tagged by `type`:
///
/// | `type` | PyTorch | default `unit` |
/// |---|---|---|
/// | `fixed` | no scheduler | – |
/// | `step` | `StepLR` | epoch |
/// | `exponential` | `ExponentialLR` | epoch |
/// | `cosine_annealing` | `CosineAnnealingLR` | epoch |
/// | `reduce_on_plateau` | `ReduceLROnPlateau` | epoch |
/// | `one_cycle` | `OneCycleLR` | iteration |
/// | `cyclic` | `CyclicLR` | iteration |
///
/// Unknown keys are errors.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum SchedulerConfig {
    /// A constant LR equal to the optimizer's `lr`.
    Fixed,
    /// [`StepLrSchedulerConfig`].
    Step(StepLrSchedulerConfig),
    /// [`ExponentialLrSchedulerConfig`].
    Exponential(ExponentialLrSchedulerConfig),
    /// [`CosineAnnealingLrSchedulerConfig`].
    CosineAnnealing(CosineAnnealingLrSchedulerConfig),
    /// [`ReduceLrOnPlateauSchedulerConfig`].
    ReduceOnPlateau(ReduceLrOnPlateauSchedulerConfig),
    /// [`OneCycleLrSchedulerConfig`].
    OneCycle(OneCycleLrSchedulerConfig),
    /// [`CyclicLrSchedulerConfig`].
    Cyclic(CyclicLrSchedulerConfig),
}

/// The `type` names, for error messages.
pub const SCHEDULER_TYPES: [&str; 7] = [
    "fixed",
    "step",
    "exponential",
    "cosine_annealing",
    "reduce_on_plateau",
    "one_cycle",
    "cyclic",
];

// Hand-written so that an error names the offending key (serde's internally tagged enums lose
// the field path): read `type`, then deserialize that schedule's own struct with the path kept.
impl<'de> Deserialize<'de> for SchedulerConfig {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        use serde::de::Error;
        let mut table = toml::Table::deserialize(deserializer)?;
        let kind = match table.remove("type") {
            Some(toml::Value::String(kind)) => kind,
            Some(other) => {
                return Err(D::Error::custom(format!(
                    "scheduler `type` must be a string, got {other}"
                )))
            }
            None => {
                return Err(D::Error::custom(format!(
                    "scheduler: missing `type` (one of {})",
                    SCHEDULER_TYPES.join(", ")
                )))
            }
        };
        fn parse<'a, T: Deserialize<'a>, E: Error>(kind: &str, table: toml::Table) -> Result<T, E> {
            serde_path_to_error::deserialize(toml::Value::Table(table)).map_err(|e| {
                E::custom(format!(
                    "scheduler type = \"{kind}\": `{}`: {}",
                    e.path(),
                    e.inner()
                ))
            })
        }
        Ok(match kind.as_str() {
            "fixed" => {
                if let Some(key) = table.keys().next() {
                    return Err(D::Error::custom(format!(
                        "scheduler type = \"fixed\" takes no parameters, got `{key}`"
                    )));
                }
                Self::Fixed
            }
            "step" => Self::Step(parse(&kind, table)?),
            "exponential" => Self::Exponential(parse(&kind, table)?),
            "cosine_annealing" => Self::CosineAnnealing(parse(&kind, table)?),
            "reduce_on_plateau" => Self::ReduceOnPlateau(parse(&kind, table)?),
            "one_cycle" => Self::OneCycle(parse(&kind, table)?),
            "cyclic" => Self::Cyclic(parse(&kind, table)?),
            other => {
                return Err(D::Error::custom(format!(
                    "unknown scheduler type `{other}`, expected one of {}",
                    SCHEDULER_TYPES.join(", ")
                )))
            }
        })
    }
}

impl SchedulerConfig {
    /// The TOML `type` name.
    pub fn kind(&self) -> &'static str {
        match self {
            Self::Fixed => "fixed",
            Self::Step(_) => "step",
            Self::Exponential(_) => "exponential",
            Self::CosineAnnealing(_) => "cosine_annealing",
            Self::ReduceOnPlateau(_) => "reduce_on_plateau",
            Self::OneCycle(_) => "one_cycle",
            Self::Cyclic(_) => "cyclic",
        }
    }

    /// The unit the schedule counts in.
    pub fn unit(&self) -> Unit {
        match self {
            Self::Fixed => Unit::Iteration,
            Self::Step(c) => c.unit,
            Self::Exponential(c) => c.unit,
            Self::CosineAnnealing(c) => c.unit,
            Self::ReduceOnPlateau(c) => c.unit,
            Self::OneCycle(c) => c.unit,
            Self::Cyclic(c) => c.unit,
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
        let spu = match self.unit() {
            Unit::Epoch => run.steps_per_epoch,
            Unit::Iteration => 1,
        };
        Ok(match self {
            Self::Fixed => {
                non_negative("fixed", "lr", run.base_lr)?;
                TrainingScheduler::Fixed(ClosedFormScheduler::new(FixedLr { lr: run.base_lr }))
            }
            Self::Step(c) => TrainingScheduler::Step(ClosedFormScheduler::with_steps_per_unit(
                c.build(run.base_lr)?,
                spu,
            )),
            Self::Exponential(c) => TrainingScheduler::Exponential(
                ClosedFormScheduler::with_steps_per_unit(c.build(run.base_lr)?, spu),
            ),
            Self::CosineAnnealing(c) => TrainingScheduler::CosineAnnealing(
                ClosedFormScheduler::with_steps_per_unit(c.build(run.base_lr)?, spu),
            ),
            Self::ReduceOnPlateau(c) => TrainingScheduler::ReduceOnPlateau(c.init(run.base_lr)?),
            Self::OneCycle(c) => {
                let run_len = match c.unit {
                    Unit::Iteration => run.total_steps,
                    Unit::Epoch => run.total_steps.div_ceil(run.steps_per_epoch),
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
                TrainingScheduler::OneCycle(ClosedFormScheduler::with_steps_per_unit(
                    c.build_with_total(run_len)?,
                    spu,
                ))
            }
            Self::Cyclic(c) => {
                TrainingScheduler::Cyclic(ClosedFormScheduler::with_steps_per_unit(c.build()?, spu))
            }
        })
    }
}

/// A built [`SchedulerConfig`]: a Burn [`LrScheduler`] for `Learner::new`.
#[derive(Clone, Debug)]
pub enum TrainingScheduler {
    /// Fixed LR.
    Fixed(ClosedFormScheduler<FixedLr>),
    /// StepLR.
    Step(StepLrScheduler),
    /// ExponentialLR.
    Exponential(ExponentialLrScheduler),
    /// CosineAnnealingLR.
    CosineAnnealing(CosineAnnealingLrScheduler),
    /// ReduceLROnPlateau.
    ReduceOnPlateau(ReduceLrOnPlateauScheduler),
    /// OneCycleLR.
    OneCycle(OneCycleLrScheduler),
    /// CyclicLR.
    Cyclic(CyclicLrScheduler),
}

macro_rules! each {
    ($self:expr, $s:ident => $body:expr) => {
        match $self {
            TrainingScheduler::Fixed($s) => $body,
            TrainingScheduler::Step($s) => $body,
            TrainingScheduler::Exponential($s) => $body,
            TrainingScheduler::CosineAnnealing($s) => $body,
            TrainingScheduler::OneCycle($s) => $body,
            TrainingScheduler::Cyclic($s) => $body,
            TrainingScheduler::ReduceOnPlateau($s) => $body,
        }
    };
}

impl TrainingScheduler {
    /// The momentum that goes with the LR of the last `step()` (OneCycle and Cyclic with
    /// `cycle_momentum`); `None` otherwise.
    pub fn momentum(&self) -> Option<f64> {
        match self {
            Self::OneCycle(s) => s.momentum(),
            Self::Cyclic(s) => s.momentum(),
            _ => None,
        }
    }

    /// The plateau feed, for `reduce_on_plateau`.
    pub fn plateau_feed(&self) -> Option<PlateauFeed> {
        match self {
            Self::ReduceOnPlateau(s) => Some(s.feed()),
            _ => None,
        }
    }

    /// The LR of the last optimizer update of `epoch` (from 1) in a run with `steps_per_epoch`
    /// updates per epoch; for a plateau schedule, the LR in force during that epoch given the
    /// metrics reported for the epochs before it.
    pub fn lr_during_epoch(&self, epoch: u64, steps_per_epoch: u64) -> LearningRate {
        let last = (epoch * steps_per_epoch.max(1)).saturating_sub(1);
        match self {
            Self::ReduceOnPlateau(s) => s.lr_for_epoch(epoch),
            Self::Fixed(s) => s.lr_at_update(last),
            Self::Step(s) => s.lr_at_update(last),
            Self::Exponential(s) => s.lr_at_update(last),
            Self::CosineAnnealing(s) => s.lr_at_update(last),
            Self::OneCycle(s) => s.lr_at_update(last),
            Self::Cyclic(s) => s.lr_at_update(last),
        }
    }

    /// Restores from a record, refusing one that belongs to another schedule.
    ///
    /// # Errors
    /// [`ScheduleError::RecordMismatch`] / [`ScheduleError::RecordIncomplete`].
    pub fn try_load_record(&mut self, record: &LrSchedulerRecord) -> Result<(), ScheduleError> {
        each!(self, s => s.try_load_record(record))
    }
}

impl LrScheduler for TrainingScheduler {
    fn step(&mut self) -> LearningRate {
        each!(self, s => s.step())
    }

    fn to_record(&self) -> LrSchedulerRecord {
        each!(self, s => s.to_record())
    }

    fn load_record(&mut self, record: LrSchedulerRecord) {
        if let Err(err) = self.try_load_record(&record) {
            panic!("{err}");
        }
    }
}
