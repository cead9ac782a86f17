//! The one scheduler configuration used by TOML files, the CLI and the training loop.

use super::compose::Schedule;
use super::types::{closest_type, closure_only, type_list, Named};
use super::*;

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
            None => match closest_type(name) {
                Some(close) => format!(
                    "unknown scheduler type `{name}`: did you mean {close}? (one of {})",
                    type_list()
                ),
                None => format!("unknown scheduler type `{name}` (one of {})", type_list()),
            },
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
            let takes_unit = !matches!(type_of(child.get("type")), Ok(t) if t.name == FixedLrSchedulerConfig::NAME || t.name == WarmupSchedulerConfig::NAME);
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
        if ty.name != WarmupSchedulerConfig::NAME {
            if let Some(warmup) = table.remove("warmup") {
                let warmup: WarmupSpec = match warmup {
                    toml::Value::Table(t) => serde_path_to_error::deserialize(toml::Value::Table(t))
                        .map_err(|e| format!("[scheduler.warmup] `{}`: {}", e.path(), e.inner()))?,
                    other => return Err(format!("scheduler `warmup` must be a table, got {other}")),
                };
                table.insert("type".into(), toml::Value::String(ty.name.into()));
                let schedule = Self::from_table(table)?;
                let schedule = Box::new(schedule);
                return Ok(Self::Warmup(WarmupSchedulerConfig { warmup, schedule }));
            }
        }
        if ty.name == SequentialLrSchedulerConfig::NAME || ty.name == ChainedSchedulerConfig::NAME {
            inherit_unit(&mut table);
        }
        ty.parse(table)
    }

    /// The unit the schedule counts in (a sequential's milestones; a warmup's inner schedule).
    pub fn unit(&self) -> Unit {
        self.as_kind().unit()
    }

    /// Whether the LR cycles momentum (OneCycle / Cyclic with `cycle_momentum`, anywhere inside).
    pub fn cycles_momentum(&self) -> bool {
        self.as_kind().cycles_momentum()
    }

    /// Whether the LR scales the optimizer's base LR (`[optimizer] lr`); `one_cycle`, `cyclic`
    /// and `noam` set their own (`max_lr`, `base_lr`, `factor`), as in their references.
    pub fn uses_base_lr(&self) -> bool {
        self.as_kind().uses_base_lr()
    }

    /// Warnings for a run whose length differs from a length the config declares (a OneCycle
    /// `total_steps` or `epochs × steps_per_epoch`, anywhere in the tree): a longer run holds
    /// the final LR, a shorter one stops early in the cycle. Meant to be printed once at the
    /// start of a training run; a config that leaves the length out never warns.
    pub fn length_warnings(&self, run: &RunInfo) -> Vec<String> {
        let mut out = Vec::new();
        self.as_kind().length_warnings(run, &mut out);
        out
    }

    /// Builds the scheduler for a run: an epoch-unit schedule advances once every
    /// `run.updates_per_epoch` optimizer updates; a OneCycle without a declared length spans
    /// exactly the run, one with a declared length uses it as given.
    ///
    /// # Errors
    /// Every [`ScheduleError::InvalidParam`] of the schedule's own validation (parameters
    /// first, then lengths).
    pub fn init(&self, run: &RunInfo) -> Result<TrainingScheduler, ScheduleError> {
        if run.updates_per_epoch == 0 {
            return Err(ScheduleError::invalid(
                self.kind(),
                "updates_per_epoch",
                0,
                "the run must have at least one optimizer update per epoch",
            ));
        }
        self.as_kind().build_scheduler(run, self.kind())
    }

    /// The Burn metric a `reduce_on_plateau` schedule watches (`Loss`, `Accuracy`); `None` for
    /// the others.
    pub fn plateau_metric(&self) -> Option<&'static str> {
        self.as_kind().plateau_metric()
    }

    /// Builds the update-indexed [`Schedule`] of any schedule but `reduce_on_plateau`.
    ///
    /// # Errors
    /// As [`Self::init`]; `reduce_on_plateau` (it needs metrics, so it cannot be composed).
    pub(crate) fn build_schedule(&self, run: &RunInfo) -> Result<Box<dyn Schedule>, ScheduleError> {
        self.as_kind().build_schedule(run)
    }
}

impl Default for SchedulerConfig {
    /// No schedule: the optimizer's LR at every update (`type = "fixed"`).
    fn default() -> Self {
        Self::Fixed(FixedLrSchedulerConfig::default())
    }
}

/// What every schedule type's config answers. [`SchedulerConfig`] dispatches each of its methods
/// to the variant's config through one generated match (`types.rs`), so a new type must
/// implement all of them, with no default, to compile.
pub(crate) trait ScheduleKind {
    /// The unit the schedule counts in.
    fn unit(&self) -> Unit;
    /// `Ok` when, over `run`, it only scales the base LR by a factor (what `ChainedScheduler`
    /// may combine); else why not.
    fn factor_check(&self, run: &RunInfo) -> Result<(), String>;
    /// Whether it cycles momentum, anywhere inside.
    fn cycles_momentum(&self) -> bool;
    /// Whether it scales the optimizer's base LR.
    fn uses_base_lr(&self) -> bool;
    /// Appends a warning for each declared length that differs from `run`'s.
    fn length_warnings(&self, run: &RunInfo, out: &mut Vec<String>);
    /// The update-indexed schedule for `run`.
    fn build_schedule(&self, run: &RunInfo) -> Result<Box<dyn Schedule>, ScheduleError>;
    /// The scheduler Burn steps: the update-indexed schedule (`kind` in its records), or, for
    /// the one stateful schedule, its own.
    fn build_scheduler(&self, run: &RunInfo, kind: &'static str) -> Result<TrainingScheduler, ScheduleError>;
    /// The plateau metric a Learner must feed (Burn's metric name), for the plateau schedule.
    fn plateau_metric(&self) -> Option<&'static str>;
}

/// [`ScheduleKind::build_scheduler`] of every schedule but the plateau one.
pub(crate) fn stepped(
    s: &dyn ScheduleKind,
    run: &RunInfo,
    kind: &'static str,
) -> Result<TrainingScheduler, ScheduleError> {
    Ok(TrainingScheduler::Schedule(DynScheduler::new(
        kind,
        s.build_schedule(run)?,
    )))
}

/// Why a schedule that sets an absolute LR is not a factor.
pub(crate) fn not_a_factor(name: &str) -> Result<(), String> {
    Err(format!("{name} sets an absolute LR, not a factor of the base LR"))
}

/// A closed-form schedule advancing once every `per` optimizer updates, as a [`Schedule`].
pub(crate) fn leaf<S: ClosedForm + std::fmt::Debug>(s: S, per: u64) -> Box<dyn Schedule> {
    Box::new(ClosedFormScheduler::with_steps_per_unit(s, per))
}
