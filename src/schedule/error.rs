//! [`ScheduleError`] and the validators every schedule's config uses: each names the schedule,
//! the field, the value and what is allowed.

/// Errors from building or restoring a schedule.
#[derive(Debug, thiserror::Error, Clone, PartialEq)]
pub enum ScheduleError {
    /// A parameter is outside its allowed range.
    #[error("{scheduler}: invalid `{field}` = {value}: {allowed}")]
    InvalidParam {
        /// The schedule (its TOML `type` name).
        scheduler: &'static str,
        /// The parameter, by its PyTorch name in snake_case.
        field: &'static str,
        /// The value that was given.
        value: String,
        /// What is allowed.
        allowed: String,
    },
    /// A record saved by another schedule, or by this schedule with other parameters.
    #[error(
        "scheduler record mismatch: the record was saved by {found}, but this run's scheduler is \
         {expected}; resume with the configuration the checkpoint was written with, or start a \
         new run in another artifact directory"
    )]
    RecordMismatch {
        /// What this scheduler is.
        expected: String,
        /// What the record says.
        found: String,
    },
    /// A record that lacks a key this scheduler needs.
    #[error("scheduler record is missing `{0}`: it was not written by burn-lr")]
    RecordIncomplete(String),
}

impl ScheduleError {
    pub(crate) fn invalid(
        scheduler: &'static str,
        field: &'static str,
        value: impl std::fmt::Display,
        allowed: impl Into<String>,
    ) -> Self {
        Self::InvalidParam {
            scheduler,
            field,
            value: value.to_string(),
            allowed: allowed.into(),
        }
    }
}

/// Checks that `value` is finite; names the field otherwise.
pub(crate) fn finite(s: &'static str, field: &'static str, v: f64) -> Result<f64, ScheduleError> {
    if v.is_finite() {
        Ok(v)
    } else {
        Err(ScheduleError::invalid(s, field, v, "must be a finite number"))
    }
}

/// Checks that `value` is finite and `> 0`.
pub(crate) fn positive(s: &'static str, field: &'static str, v: f64) -> Result<f64, ScheduleError> {
    if v.is_finite() && v > 0.0 {
        Ok(v)
    } else {
        Err(ScheduleError::invalid(s, field, v, "must be a finite number > 0"))
    }
}

/// Checks that `value` is finite and `>= 0`.
pub(crate) fn non_negative(s: &'static str, field: &'static str, v: f64) -> Result<f64, ScheduleError> {
    if v.is_finite() && v >= 0.0 {
        Ok(v)
    } else {
        Err(ScheduleError::invalid(s, field, v, "must be a finite number >= 0"))
    }
}

/// Checks that a starting factor (LinearLR's and a warmup's `start_factor`, ConstantLR's
/// `factor`) is finite and in (0, 1], as PyTorch requires.
pub(crate) fn start_fraction(s: &'static str, field: &'static str, v: f64) -> Result<f64, ScheduleError> {
    if v.is_finite() && v > 0.0 && v <= 1.0 {
        Ok(v)
    } else {
        Err(ScheduleError::invalid(s, field, v, "must be in (0, 1]"))
    }
}

/// Checks the momentum bounds of a momentum-cycling schedule (`base_momentum`, `max_momentum`):
/// each in [0, 1), as SGD momentum and Adam's `beta1` must be.
pub(crate) fn momentum_bounds(s: &'static str, base: f64, max: f64) -> Result<(), ScheduleError> {
    for (field, v) in [("base_momentum", base), ("max_momentum", max)] {
        if !(v.is_finite() && (0.0..1.0).contains(&v)) {
            return Err(ScheduleError::invalid(s, field, v, "must be in [0, 1)"));
        }
    }
    Ok(())
}

/// Checks that a decay factor is in [0, 1] (a growing LR would overflow to infinity).
pub(crate) fn decay_factor(s: &'static str, field: &'static str, v: f64) -> Result<f64, ScheduleError> {
    if (0.0..=1.0).contains(&v) {
        Ok(v)
    } else {
        Err(ScheduleError::invalid(
            s,
            field,
            v,
            "must be in [0, 1] (a decay factor; a growing LR would overflow)",
        ))
    }
}

/// Why a schedule that sets an absolute LR is not a factor (what `ChainedScheduler` refuses).
pub(crate) fn not_a_factor(name: &str) -> Result<(), String> {
    Err(format!("{name} sets an absolute LR, not a factor of the base LR"))
}
