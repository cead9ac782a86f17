//! The base every schedule is built on: the [`Unit`] it counts in, the [`ClosedForm`] trait (the
//! LR as a pure function of the position `t`), its one Burn `LrScheduler` shell
//! [`ClosedFormScheduler`], the object-safe [`Schedule`] that composites and
//! [`Scheduler`](super::Scheduler) hold, and the arithmetic helpers that land exactly on a
//! schedule's endpoints.

use super::error::ScheduleError;
use super::record;
use burn::lr_scheduler::{LrScheduler, LrSchedulerRecord};
use burn::optim::LearningRate;
use serde::{Deserialize, Serialize};

/// An interpolation `from + (to - from) * weight` that lands exactly on its ends: `from` at
/// `weight = 0`, `to` at `weight = 1` (the plain formula can miss `to` by a rounding residue,
/// e.g. `0.1 + (0.0 - 0.1) * 3.0 / 3.0 = -1.4e-17`). `weight` may be given pre-split as
/// `scaled = (to - from) * weight` evaluated by the caller in PyTorch's operation order.
pub(crate) fn land(from: f64, to: f64, weight: f64, scaled: f64) -> f64 {
    if weight <= 0.0 {
        from
    } else if weight >= 1.0 {
        to
    } else {
        from + scaled
    }
}

/// Hugging Face's linear warmup factor from 0: `t / max(1, warmup)`.
pub(crate) fn hf_warmup(t: u64, warmup: u64) -> f64 {
    t as f64 / warmup.max(1) as f64
}

/// PyTorch's cosine form `low + (high - low) * (1 + cos(x)) / 2`, given `cos_out = 1 + cos(x)`,
/// landing exactly on `high` at `cos_out = 2` and on `low` at `cos_out = 0`.
pub(crate) fn cosine_between(low: f64, high: f64, cos_out: f64) -> f64 {
    if cos_out >= 2.0 {
        high
    } else if cos_out <= 0.0 {
        low
    } else {
        low + (high - low) * cos_out / 2.0
    }
}

/// A returned learning rate is never below zero (nor `-0.0`): the last guard of every
/// schedule, after each has landed exactly on its endpoints.
pub(crate) fn clamp_lr(lr: LearningRate) -> LearningRate {
    if lr <= 0.0 {
        0.0
    } else {
        lr
    }
}

/// `x^n` through the C library's `pow` (as Python's `**`): correctly rounded to within an ulp
/// for any `n`, where repeated squaring (`powi`) loses ~`log2(n)` bits at large `n`.
pub(crate) fn pow_u64(x: f64, n: u64) -> f64 {
    x.powf(n as f64)
}

/// The unit a schedule counts in: what one PyTorch `scheduler.step()` call stands for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Unit {
    /// One step per epoch (PyTorch's convention for StepLR, ExponentialLR, CosineAnnealingLR,
    /// ReduceLROnPlateau): inside Burn's per-update `Learner` the LR changes only at epoch
    /// boundaries.
    Epoch,
    /// One step per optimizer update (PyTorch's convention for OneCycleLR and CyclicLR).
    Iteration,
}

impl std::fmt::Display for Unit {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Unit::Epoch => "epoch",
            Unit::Iteration => "iteration",
        })
    }
}

/// A learning-rate schedule in closed form: the LR at PyTorch position `t` (`last_epoch`).
pub trait ClosedForm: Clone + std::fmt::Debug + Send + Sync + 'static {
    /// The schedule's TOML `type` name, stored in records (`"step"`, `"one_cycle"`, ...).
    const KIND: &'static str;

    /// Learning rate after `t` PyTorch `scheduler.step()` calls (`t` in the schedule's unit).
    fn lr_at(&self, t: u64) -> LearningRate;

    /// Learning rate at update `k` when one unit is `per` updates. The default is
    /// `lr_at(k / per)` (the LR changes only at unit boundaries); schedules defined on
    /// fractional epochs (warm restarts) override it.
    fn lr_at_fraction(&self, k: u64, per: u64) -> LearningRate {
        self.lr_at(k / per.max(1))
    }

    /// Momentum (or Adam's `beta1`) after `t` steps, for schedules that cycle it (PyTorch's
    /// `cycle_momentum`); `None` for the others.
    fn momentum_at(&self, _t: u64) -> Option<f64> {
        None
    }

    /// A canonical description of every parameter, used to refuse records written with other
    /// parameters. Default: the `Debug` form, which names every field and its value.
    fn fingerprint(&self) -> String {
        format!("{self:?}")
    }
}

/// A Burn [`LrScheduler`] over any [`ClosedForm`] schedule.
///
/// It counts its `step()` calls `k` (0-based: the first call returns the LR of optimizer update
/// 0) and returns `lr_at(k / steps_per_unit)`. With `steps_per_unit = 1` one `step()` is one
/// PyTorch `scheduler.step()`; for an epoch-unit schedule inside a `Learner`,
/// `steps_per_unit` is the number of optimizer updates per epoch.
///
/// Its record holds the step count plus the schedule's kind and parameter hash;
/// [`LrScheduler::load_record`] refuses (panics with the reason) a record from another schedule,
/// and [`ClosedFormScheduler::try_load_record`] returns that reason as an error.
#[derive(Clone, Debug)]
pub struct ClosedFormScheduler<S: ClosedForm> {
    schedule: S,
    steps_per_unit: u64,
    step: u64,
}

impl<S: ClosedForm> ClosedFormScheduler<S> {
    /// Wraps `schedule`, one `step()` call per schedule unit.
    pub fn new(schedule: S) -> Self {
        Self {
            schedule,
            steps_per_unit: 1,
            step: 0,
        }
    }

    /// Wraps `schedule` so that its position advances once every `steps_per_unit` calls
    /// (optimizer updates per epoch for an epoch-unit schedule). `0` is treated as `1`.
    pub fn with_steps_per_unit(schedule: S, steps_per_unit: u64) -> Self {
        Self {
            schedule,
            steps_per_unit: steps_per_unit.max(1),
            step: 0,
        }
    }

    /// The schedule's parameters.
    pub fn schedule(&self) -> &S {
        &self.schedule
    }

    /// Number of `step()` calls made so far (optimizer updates).
    pub fn steps_taken(&self) -> u64 {
        self.step
    }

    /// Optimizer updates per schedule unit (1 for iteration-unit schedules).
    pub fn steps_per_unit(&self) -> u64 {
        self.steps_per_unit
    }

    /// The LR of optimizer update `k` (0-based), without changing any state.
    pub fn lr_at_update(&self, k: u64) -> LearningRate {
        clamp_lr(self.schedule.lr_at_fraction(k, self.steps_per_unit))
    }

    /// The momentum of optimizer update `k`, for momentum-cycling schedules.
    pub fn momentum_at_update(&self, k: u64) -> Option<f64> {
        self.schedule.momentum_at(k / self.steps_per_unit)
    }

    /// The momentum that goes with the LR returned by the last `step()` call (`None` before the
    /// first call or for schedules that do not cycle momentum).
    pub fn momentum(&self) -> Option<f64> {
        self.step.checked_sub(1).and_then(|k| self.momentum_at_update(k))
    }

    /// The schedule's identity in records: its kind, parameters and steps per unit (the same
    /// format as inside composites).
    pub(crate) fn fingerprint(&self) -> String {
        format!(
            "{}({}, per={})",
            S::KIND,
            self.schedule.fingerprint(),
            self.steps_per_unit
        )
    }

    /// Restores the step count from `record`, refusing a record of another schedule or other
    /// parameters.
    ///
    /// # Errors
    /// [`ScheduleError::RecordMismatch`] or [`ScheduleError::RecordIncomplete`].
    pub fn try_load_record(&mut self, record: &LrSchedulerRecord) -> Result<(), ScheduleError> {
        self.step = record::read_step(record, S::KIND, &self.fingerprint())?;
        Ok(())
    }
}

impl<S: ClosedForm> LrScheduler for ClosedFormScheduler<S> {
    fn step(&mut self) -> LearningRate {
        let lr = self.lr_at_update(self.step);
        self.step = self.step.saturating_add(1);
        lr
    }

    fn to_record(&self) -> LrSchedulerRecord {
        record::step_record(S::KIND, &self.fingerprint(), self.step)
    }

    fn load_record(&mut self, record: LrSchedulerRecord) {
        record::refuse(self.try_load_record(&record));
    }
}

/// A schedule as a function of the optimizer update `k` (0-based): the object-safe form that
/// composites are built from. Every [`ClosedFormScheduler`] is one (its unit and steps per unit
/// fixed); composites hold boxed children.
pub trait Schedule: Send + Sync + std::fmt::Debug {
    /// LR of optimizer update `k`.
    fn lr(&self, k: u64) -> LearningRate;

    /// Momentum of optimizer update `k`, for schedules that cycle it.
    fn momentum(&self, _k: u64) -> Option<f64> {
        None
    }

    /// A canonical description of every parameter (checked when loading records).
    fn fingerprint(&self) -> String;

    /// Clones into a box.
    fn clone_box(&self) -> Box<dyn Schedule>;
}

impl Clone for Box<dyn Schedule> {
    fn clone(&self) -> Self {
        self.clone_box()
    }
}

impl<S: ClosedForm> Schedule for ClosedFormScheduler<S> {
    fn lr(&self, k: u64) -> LearningRate {
        self.lr_at_update(k)
    }

    fn momentum(&self, k: u64) -> Option<f64> {
        self.momentum_at_update(k)
    }

    fn fingerprint(&self) -> String {
        ClosedFormScheduler::fingerprint(self)
    }

    fn clone_box(&self) -> Box<dyn Schedule> {
        Box::new(self.clone())
    }
}

/// A closed-form schedule advancing once every `per` optimizer updates, as a [`Schedule`].
pub(crate) fn leaf<S: ClosedForm>(s: S, per: u64) -> Box<dyn Schedule> {
    Box::new(ClosedFormScheduler::with_steps_per_unit(s, per))
}

/// Declares a schedule's config: the struct with PyTorch's field names (its doc and each
/// field's doc as written), its `NAME` (the TOML `type`), its TOML form (unknown keys refused,
/// each field's default where the table leaves it out), `new` with the arguments listed (the
/// other fields at their defaults), `with_*` setters, and `defaults()`, every field at its
/// default (a required field at its type's zero):
///
/// ```text
/// schedule_config! {
///     /// Configuration of [`StepLrScheduler`], PyTorch's `StepLR`.
///     pub struct StepLrSchedulerConfig = "step", new(step_size: u64) {
///         /// Period of the decay (required: no default).
///         pub step_size: u64,
///         /// Decay factor (PyTorch default 0.1), with a setter.
///         pub gamma: f64 = 0.1 => with_gamma,
///     }
/// }
/// ```
macro_rules! schedule_config {
    (
        $(#[$meta:meta])*
        pub struct $name:ident = $kind:literal $(, new($($arg:ident: $arg_ty:ty),*))? { $($fields:tt)* }
    ) => {
        impl $name {
            /// The canonical TOML `type` (also the kind in records).
            pub const NAME: &'static str = $kind;

            $(
                #[doc = concat!("A config with the given ", $("`", stringify!($arg), "` ",)* "and PyTorch's default for every other field.")]
                pub fn new($($arg: $arg_ty),*) -> Self {
                    Self { $($arg,)* ..Self::defaults() }
                }
            )?
        }

        $crate::schedule::base::schedule_config!(@field [$(#[$meta])*] $name [] [] [] [] [] [] $($fields)*);
    };
    // An optional field (default `None`) with a setter that takes the value.
    (@field $metas:tt $name:ident [$($all:tt)*] [$($shadow:tt)*] [$($names:ident)*] [$($fill:tt)*] [$($dflt:tt)*] [$($set:tt)*]
        $(#[$fm:meta])* pub $f:ident : Option<$t:ty> = None => $setter:ident, $($rest:tt)*) => {
        $crate::schedule::base::schedule_config!(@field $metas $name
            [$($all)* $(#[$fm])* pub $f: Option<$t>,]
            [$($shadow)* #[serde(default)] $f: Option<$t>,]
            [$($names)* $f]
            [$($fill)* $f,]
            [$($dflt)* $f: None,]
            [$($set)* #[doc = concat!("Sets `", stringify!($f), "`.")] pub fn $setter(mut self, $f: $t) -> Self { self.$f = Some($f); self }]
            $($rest)*);
    };
    // A field with a default and a setter.
    (@field $metas:tt $name:ident [$($all:tt)*] [$($shadow:tt)*] [$($names:ident)*] [$($fill:tt)*] [$($dflt:tt)*] [$($set:tt)*]
        $(#[$fm:meta])* pub $f:ident : $t:ty = $d:expr => $setter:ident, $($rest:tt)*) => {
        $crate::schedule::base::schedule_config!(@field $metas $name
            [$($all)* $(#[$fm])* pub $f: $t,]
            [$($shadow)* #[serde(default)] $f: Option<$t>,]
            [$($names)* $f]
            [$($fill)* $f: $f.unwrap_or_else(|| $d),]
            [$($dflt)* $f: $d,]
            [$($set)* #[doc = concat!("Sets `", stringify!($f), "`.")] pub fn $setter(mut self, $f: $t) -> Self { self.$f = $f; self }]
            $($rest)*);
    };
    // A field with a default.
    (@field $metas:tt $name:ident [$($all:tt)*] [$($shadow:tt)*] [$($names:ident)*] [$($fill:tt)*] [$($dflt:tt)*] [$($set:tt)*]
        $(#[$fm:meta])* pub $f:ident : $t:ty = $d:expr, $($rest:tt)*) => {
        $crate::schedule::base::schedule_config!(@field $metas $name
            [$($all)* $(#[$fm])* pub $f: $t,]
            [$($shadow)* #[serde(default)] $f: Option<$t>,]
            [$($names)* $f]
            [$($fill)* $f: $f.unwrap_or_else(|| $d),]
            [$($dflt)* $f: $d,]
            [$($set)*]
            $($rest)*);
    };
    // A required field.
    (@field $metas:tt $name:ident [$($all:tt)*] [$($shadow:tt)*] [$($names:ident)*] [$($fill:tt)*] [$($dflt:tt)*] [$($set:tt)*]
        $(#[$fm:meta])* pub $f:ident : $t:ty, $($rest:tt)*) => {
        $crate::schedule::base::schedule_config!(@field $metas $name
            [$($all)* $(#[$fm])* pub $f: $t,]
            [$($shadow)* $f: $t,]
            [$($names)* $f]
            [$($fill)* $f,]
            [$($dflt)* $f: Default::default(),]
            [$($set)*]
            $($rest)*);
    };
    (@field [$($meta:tt)*] $name:ident [$($all:tt)*] [$($shadow:tt)*] [$($names:ident)*] [$($fill:tt)*] [$($dflt:tt)*] [$($set:tt)*]) => {
        $($meta)*
        #[derive(Debug, Clone, PartialEq, ::serde::Serialize)]
        pub struct $name {
            $($all)*
        }

        impl<'de> ::serde::Deserialize<'de> for $name {
            fn deserialize<D: ::serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
                #[derive(::serde::Deserialize)]
                #[serde(deny_unknown_fields)]
                struct Fields {
                    $($shadow)*
                }
                let Fields { $($names),* } = Fields::deserialize(deserializer)?;
                Ok(Self { $($fill)* })
            }
        }

        impl $name {
            /// Every field at its default, a required one at its type's zero (for `new`).
            fn defaults() -> Self {
                Self { $($dflt)* }
            }

            $($set)*
        }
    };
}
pub(crate) use schedule_config;
