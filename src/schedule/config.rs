//! [`SchedulerConfig`]: the one list of schedule types, a `[scheduler]` TOML table in, a
//! [`Scheduler`] out.
//!
//! Adding a schedule: one file (its config with PyTorch's names and defaults, its validation,
//! closed form and `impl ScheduleKind`) and one line in the list below.

use super::base::{Schedule, Unit};
use super::compose::{
    ChainedSchedulerConfig, SequentialLrSchedulerConfig, SwaSchedulerConfig, SwaSpec, WarmupSchedulerConfig, WarmupSpec,
};
use super::constant::ConstantLrSchedulerConfig;
use super::cosine_annealing::CosineAnnealingLrSchedulerConfig;
use super::cosine_with_hard_restarts::CosineWithHardRestartsLrSchedulerConfig;
use super::cyclic::CyclicLrSchedulerConfig;
use super::error::ScheduleError;
use super::exponential::ExponentialLrSchedulerConfig;
use super::fixed::FixedLrSchedulerConfig;
use super::inverse_sqrt::InverseSqrtLrSchedulerConfig;
use super::kind::ScheduleKind;
use super::linear::LinearLrSchedulerConfig;
use super::multi_step::MultiStepLrSchedulerConfig;
use super::noam::NoamLrSchedulerConfig;
use super::one_cycle::OneCycleLrSchedulerConfig;
use super::piecewise_linear::PiecewiseLinearLrSchedulerConfig;
use super::plateau::ReduceLrOnPlateauSchedulerConfig;
use super::polynomial::PolynomialLrSchedulerConfig;
use super::polynomial_decay::PolynomialDecayLrSchedulerConfig;
use super::run::RunInfo;
use super::scheduler::Scheduler;
use super::step::StepLrSchedulerConfig;
use super::suggest::{closest_type, closure_only, snake_case, Suggestion};
use super::timm_cosine::TimmCosineLrSchedulerConfig;
use super::warm_restarts::CosineAnnealingWarmRestartsSchedulerConfig;
use super::warmup_stable_decay::WarmupStableDecayLrSchedulerConfig;
use serde::{Deserialize, Serialize};

/// One schedule type of [`SCHEDULE_TYPES`].
#[derive(Debug)]
pub struct ScheduleType {
    /// The canonical TOML `type` (also [`SchedulerConfig::kind`] and the record kind).
    pub name: &'static str,
    /// Other accepted `type` names: the reference implementation's class or function name in
    /// snake_case, and short forms.
    pub aliases: &'static [&'static str],
    /// Where the schedule comes from (library and class or function).
    pub source: &'static str,
    parse: fn(toml::Table) -> Result<SchedulerConfig, String>,
}

/// The one list of schedule types: from it come the [`SchedulerConfig`] enum (one variant per
/// type), its serde tags, [`SchedulerConfig::kind`], the [`SCHEDULE_TYPES`] table (names,
/// aliases, sources, parsers) and the dispatch to each config's [`ScheduleKind`]
/// implementation (one exhaustive match, so a new type that does not implement it does not
/// compile). Each config declares its own `NAME`; the list's name must equal it (checked when
/// compiling), since serde's tags need it written out.
macro_rules! schedule_types {
    ($($variant:ident($ty:ty) = $name:literal, aliases [$($alias:literal),*], source $source:literal;)*) => {
        /// Every schedule that has a TOML form, tagged by `type` (any name of
        /// [`SCHEDULE_TYPES`]: the canonical one, the reference class or function name in
        /// snake_case, short forms); see the table in [`crate::schedule`](super).
        ///
        /// Any of them (but `reduce_on_plateau`) takes a `warmup` table. Unknown keys are
        /// errors that name the key; an unknown `type` suggests the closest valid name when one is close.
        #[derive(Debug, Clone, PartialEq, Serialize)]
        #[serde(tag = "type")]
        pub enum SchedulerConfig {
            $(
                #[doc = concat!("`type = \"", $name, "\"`: ", $source, " ([`", stringify!($ty), "`]).")]
                #[serde(rename = $name)]
                $variant($ty),
            )*
        }

        $(const _: () = assert!(same_name(<$ty>::NAME, $name), concat!("the list's name of ", stringify!($ty), " is not its NAME"));)*

        /// Every schedule type with a TOML form: its canonical name, aliases and source.
        pub const SCHEDULE_TYPES: &[ScheduleType] = &[$(
            ScheduleType {
                name: $name,
                aliases: &[$($alias),*],
                source: $source,
                parse: |table| parse_fields::<$ty>($name, table).map(SchedulerConfig::$variant),
            },
        )*];

        impl SchedulerConfig {
            /// The canonical TOML `type` name.
            pub fn kind(&self) -> &'static str {
                match self {
                    $(Self::$variant(_) => <$ty>::NAME,)*
                }
            }

            /// The config of this type, for the dispatch of [`SchedulerConfig`]'s methods.
            pub(crate) fn as_kind(&self) -> &dyn ScheduleKind {
                match self {
                    $(Self::$variant(c) => c,)*
                }
            }
        }
    };
}

schedule_types! {
    Fixed(FixedLrSchedulerConfig) = "fixed",
        aliases ["constant_schedule", "get_constant_schedule"],
        source "no scheduler (HF get_constant_schedule)";
    Step(StepLrSchedulerConfig) = "step", aliases ["step_lr"], source "PyTorch StepLR";
    MultiStep(MultiStepLrSchedulerConfig) = "multi_step",
        aliases ["multi_step_lr", "multistep", "multistep_lr"],
        source "PyTorch MultiStepLR";
    Exponential(ExponentialLrSchedulerConfig) = "exponential",
        aliases ["exponential_lr"],
        source "PyTorch ExponentialLR";
    Linear(LinearLrSchedulerConfig) = "linear", aliases ["linear_lr"], source "PyTorch LinearLR";
    Constant(ConstantLrSchedulerConfig) = "constant", aliases ["constant_lr"], source "PyTorch ConstantLR";
    Polynomial(PolynomialLrSchedulerConfig) = "polynomial",
        aliases ["polynomial_lr"],
        source "PyTorch PolynomialLR";
    CosineAnnealing(CosineAnnealingLrSchedulerConfig) = "cosine_annealing",
        aliases ["cosine_annealing_lr"],
        source "PyTorch CosineAnnealingLR";
    CosineAnnealingWarmRestarts(CosineAnnealingWarmRestartsSchedulerConfig) = "cosine_annealing_warm_restarts",
        aliases ["cosine_warm_restarts"],
        source "PyTorch CosineAnnealingWarmRestarts";
    ReduceOnPlateau(ReduceLrOnPlateauSchedulerConfig) = "reduce_on_plateau",
        aliases ["reduce_lr_on_plateau"],
        source "PyTorch ReduceLROnPlateau";
    OneCycle(OneCycleLrSchedulerConfig) = "one_cycle",
        aliases ["one_cycle_lr", "onecycle"],
        source "PyTorch OneCycleLR";
    Cyclic(CyclicLrSchedulerConfig) = "cyclic", aliases ["cyclic_lr"], source "PyTorch CyclicLR";
    PiecewiseLinear(PiecewiseLinearLrSchedulerConfig) = "piecewise_linear",
        aliases ["piecewise", "piecewise_interpolate", "piecewise_interpolate_schedule"],
        source "LambdaLR over numpy.interp (Page's DAWNBench ResNet-9; optax piecewise_interpolate_schedule)";
    Sequential(SequentialLrSchedulerConfig<SchedulerConfig>) = "sequential",
        aliases ["sequential_lr"],
        source "PyTorch SequentialLR";
    Chained(ChainedSchedulerConfig<SchedulerConfig>) = "chained",
        aliases ["chained_scheduler"],
        source "PyTorch ChainedScheduler";
    Warmup(WarmupSchedulerConfig<SchedulerConfig>) = "warmup",
        aliases [],
        source "a [scheduler.warmup] table (PyTorch SequentialLR([LinearLR, X]))";
    Swa(SwaSchedulerConfig<SchedulerConfig>) = "swa",
        aliases ["swalr"],
        source "a [scheduler.swa] table (PyTorch torch.optim.swa_utils.SWALR after the base schedule)";
    WarmupStableDecay(WarmupStableDecayLrSchedulerConfig) = "warmup_stable_decay",
        aliases ["wsd", "wsd_schedule", "get_wsd_schedule"],
        source "Hugging Face get_wsd_schedule";
    InverseSqrt(InverseSqrtLrSchedulerConfig) = "inverse_sqrt",
        aliases ["inverse_sqrt_schedule", "get_inverse_sqrt_schedule"],
        source "Hugging Face get_inverse_sqrt_schedule";
    Noam(NoamLrSchedulerConfig) = "noam",
        aliases ["noam_lr", "noam_lr_scheduler"],
        source "Burn NoamLrScheduler";
    CosineWithRestarts(CosineWithHardRestartsLrSchedulerConfig) = "cosine_with_restarts",
        aliases [
            "cosine_with_hard_restarts",
            "cosine_with_hard_restarts_schedule_with_warmup",
            "get_cosine_with_hard_restarts_schedule_with_warmup"
        ],
        source "Hugging Face get_cosine_with_hard_restarts_schedule_with_warmup";
    PolynomialDecay(PolynomialDecayLrSchedulerConfig) = "polynomial_decay",
        aliases [
            "polynomial_decay_schedule_with_warmup",
            "get_polynomial_decay_schedule_with_warmup"
        ],
        source "Hugging Face get_polynomial_decay_schedule_with_warmup";
    TimmCosine(TimmCosineLrSchedulerConfig) = "timm_cosine",
        aliases ["cosine_lr_scheduler"],
        source "timm CosineLRScheduler";
}

impl ScheduleType {
    /// Parses the rest of a scheduler table (its `type` removed) into this schedule's config.
    pub(crate) fn parse(&self, table: toml::Table) -> Result<SchedulerConfig, String> {
        (self.parse)(table)
    }
}

fn parse_fields<'a, T: serde::Deserialize<'a>>(kind: &str, table: toml::Table) -> Result<T, String> {
    serde_path_to_error::deserialize(toml::Value::Table(table)).map_err(|e| match e.path().to_string().as_str() {
        "." => format!("type = \"{kind}\": {}", e.inner()),
        path => format!("type = \"{kind}\": `{path}`: {}", e.inner()),
    })
}

/// The schedule type named `name`: its canonical name, an alias, or the class name as written in
/// Python (`CosineAnnealingWarmRestarts`, `OneCycleLR`).
pub fn resolve_type(name: &str) -> Option<&'static ScheduleType> {
    let snake = snake_case(name);
    SCHEDULE_TYPES
        .iter()
        .find(|t| t.name == snake || t.aliases.contains(&snake.as_str()))
}

/// The accepted name closest to `name`, among every type's canonical name and aliases.
fn closest(name: &str) -> Option<Suggestion> {
    let candidates = SCHEDULE_TYPES.iter().flat_map(|t| {
        std::iter::once(t.name)
            .chain(t.aliases.iter().copied())
            .map(move |n| (n, t.name))
    });
    closest_type(name, candidates)
}

/// Whether two names are equal, at compile time (the list's check of each config's `NAME`).
const fn same_name(a: &str, b: &str) -> bool {
    let (a, b) = (a.as_bytes(), b.as_bytes());
    if a.len() != b.len() {
        return false;
    }
    let mut i = 0;
    while i < a.len() {
        if a[i] != b[i] {
            return false;
        }
        i += 1;
    }
    true
}

/// The canonical `type` names, comma-separated, for error messages.
pub(crate) fn type_list() -> String {
    SCHEDULE_TYPES.iter().map(|t| t.name).collect::<Vec<_>>().join(", ")
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
            None => match closest(name) {
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

/// The `[scheduler.<name>]` table of a phase (`warmup`, `swa`), its errors naming the key.
fn phase<T: serde::de::DeserializeOwned>(name: &str, value: toml::Value) -> Result<T, String> {
    match value {
        toml::Value::Table(t) => serde_path_to_error::deserialize(toml::Value::Table(t))
            .map_err(|e| format!("[scheduler.{name}] `{}`: {}", e.path(), e.inner())),
        other => Err(format!("scheduler `{name}` must be a table, got {other}")),
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
            let takes_unit = !matches!(type_of(child.get("type")), Ok(t) if t.name == FixedLrSchedulerConfig::NAME || t.name == WarmupSchedulerConfig::<()>::NAME || t.name == SwaSchedulerConfig::<()>::NAME);
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
        // The phases a table may carry around its schedule: SWALR outermost (its epochs count
        // from the run's start), then a warmup.
        let phased = ty.name != WarmupSchedulerConfig::<()>::NAME && ty.name != SwaSchedulerConfig::<()>::NAME;
        if phased {
            if let Some(swa) = table.remove("swa") {
                let swa: SwaSpec = phase("swa", swa)?;
                table.insert("type".into(), toml::Value::String(ty.name.into()));
                let schedule = Box::new(Self::from_table(table)?);
                return Ok(Self::Swa(SwaSchedulerConfig { swa, schedule }));
            }
            if let Some(warmup) = table.remove("warmup") {
                let warmup: WarmupSpec = phase("warmup", warmup)?;
                table.insert("type".into(), toml::Value::String(ty.name.into()));
                let schedule = Box::new(Self::from_table(table)?);
                return Ok(Self::Warmup(WarmupSchedulerConfig { warmup, schedule }));
            }
        }
        if ty.name == SequentialLrSchedulerConfig::<()>::NAME || ty.name == ChainedSchedulerConfig::<()>::NAME {
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
    pub fn init(&self, run: &RunInfo) -> Result<Scheduler, ScheduleError> {
        if run.updates_per_epoch == 0 {
            return Err(ScheduleError::invalid(
                self.kind(),
                "updates_per_epoch",
                0,
                "the run must have at least one optimizer update per epoch",
            ));
        }
        Ok(match self {
            Self::ReduceOnPlateau(c) => Scheduler::reduce_on_plateau(self.kind(), c.init(run.base_lr)?),
            _ => Scheduler::stepped(self.kind(), self.as_kind().build_schedule(run)?),
        })
    }

    /// The Burn metric a `reduce_on_plateau` schedule watches (`Loss`, `Accuracy`); `None` for
    /// the others.
    pub fn plateau_metric(&self) -> Option<&'static str> {
        match self {
            Self::ReduceOnPlateau(c) => Some(c.burn_metric_name()),
            _ => None,
        }
    }
}

/// What composites ask of their children: each question goes to the variant's config.
impl ScheduleKind for SchedulerConfig {
    fn kind(&self) -> &'static str {
        SchedulerConfig::kind(self)
    }

    fn unit(&self) -> Unit {
        self.as_kind().unit()
    }

    fn build_schedule(&self, run: &RunInfo) -> Result<Box<dyn Schedule>, ScheduleError> {
        self.as_kind().build_schedule(run)
    }

    fn factor_check(&self, run: &RunInfo) -> Result<(), String> {
        self.as_kind().factor_check(run)
    }

    fn cycles_momentum(&self) -> bool {
        self.as_kind().cycles_momentum()
    }

    fn uses_base_lr(&self) -> bool {
        self.as_kind().uses_base_lr()
    }

    fn length_warnings(&self, run: &RunInfo, out: &mut Vec<String>) {
        self.as_kind().length_warnings(run, out);
    }
}

impl Default for SchedulerConfig {
    /// No schedule: the optimizer's LR at every update (`type = "fixed"`).
    fn default() -> Self {
        Self::Fixed(FixedLrSchedulerConfig::default())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_resolve() {
        for (given, want) in [
            ("cosine_annealing_warm_restarts", "cosine_annealing_warm_restarts"),
            ("cosine_warm_restarts", "cosine_annealing_warm_restarts"),
            ("CosineAnnealingWarmRestarts", "cosine_annealing_warm_restarts"),
            ("OneCycleLR", "one_cycle"),
            ("ReduceLROnPlateau", "reduce_on_plateau"),
            ("multi_step_lr", "multi_step"),
            ("step_lr", "step"),
            ("wsd", "warmup_stable_decay"),
        ] {
            assert_eq!(resolve_type(given).map(|t| t.name), Some(want), "{given}");
        }
        assert!(resolve_type("cosine_anealing").is_none());
        assert_eq!(
            resolve_type("get_wsd_schedule").map(|t| t.name),
            Some("warmup_stable_decay")
        );
        assert_eq!(closure_only("LambdaLR"), Some("LambdaLrScheduler"));
    }

    #[test]
    fn suggestions_consider_every_alias_and_word() {
        for (written, canonical) in [
            ("cosine_warm", "cosine_annealing_warm_restarts"),
            ("cosine_warm_restart", "cosine_annealing_warm_restarts"),
            ("CosineAnnealingWarmRestart", "cosine_annealing_warm_restarts"),
            ("warm_restarts", "cosine_annealing_warm_restarts"),
            ("cosine", "cosine_annealing"),
            ("cosine_anealing", "cosine_annealing"),
            ("cosineannealing", "cosine_annealing"),
            ("one_cylce", "one_cycle"),
            ("onecyclelr", "one_cycle"),
            ("one-cycle", "one_cycle"),
            ("1cycle", "one_cycle"),
            ("cyclical", "cyclic"),
            ("plateau", "reduce_on_plateau"),
            ("reduce_lr", "reduce_on_plateau"),
            ("reduceonplateau", "reduce_on_plateau"),
            ("ReduceLROnPlateu", "reduce_on_plateau"),
            ("multi_steps", "multi_step"),
            ("multisteplr", "multi_step"),
            ("steplr", "step"),
            ("step_decay", "step"),
            ("exponential_decay", "exponential"),
            ("exp_decay", "exponential"),
            ("expo", "exponential"),
            ("poly", "polynomial"),
            ("polynomial_decay_warmup", "polynomial_decay"),
            ("inverse_square_root", "inverse_sqrt"),
            ("cosine_restarts", "cosine_with_restarts"),
            ("hard_restarts", "cosine_with_restarts"),
            ("cosine_schedule_with_warmup", "cosine_with_restarts"),
            ("wsd_scheduler", "warmup_stable_decay"),
            ("warmup_stable", "warmup_stable_decay"),
            ("noam_scheduler", "noam"),
            ("timm", "timm_cosine"),
            ("sequencial", "sequential"),
            ("chain", "chained"),
            ("constnat", "constant"),
            ("cosine_decay", "cosine_annealing"),
            ("linear_schedule_with_warmup", "linear"),
            ("get_linear_schedule_with_warmup", "linear"),
        ] {
            assert_eq!(closest(written).map(|s| s.canonical), Some(canonical), "{written}");
        }
        for nothing_close in ["", "adam", "sgd", "xyz", "lr", "schedule", "lr_scheduler"] {
            assert_eq!(closest(nothing_close), None, "{nothing_close}");
        }
        let alias = closest("cosine_warm").unwrap();
        assert_eq!(alias.name, "cosine_warm_restarts");
        assert_eq!(
            alias.to_string(),
            "`cosine_warm_restarts` (an alias of `cosine_annealing_warm_restarts`)"
        );
        assert_eq!(closest("cosine").unwrap().to_string(), "`cosine_annealing`");
    }

    #[test]
    fn every_name_is_unique() {
        let mut all: Vec<&str> = SCHEDULE_TYPES
            .iter()
            .flat_map(|t| std::iter::once(t.name).chain(t.aliases.iter().copied()))
            .collect();
        let n = all.len();
        all.sort_unstable();
        all.dedup();
        assert_eq!(all.len(), n);
    }
}
