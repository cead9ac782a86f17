//! The errors of weight averaging, `update_bn` and the schedule-free optimizers.

/// What went wrong, in one line: the setting or the module, and what is allowed.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum AveragingError {
    /// A setting outside its range (`decay` outside `[0, 1]`, `every = 0`, ...).
    #[error("{setting} = {value} is invalid: {allowed}")]
    Setting {
        /// The setting's name, PyTorch's / timm's / the reference's.
        setting: &'static str,
        /// The value given.
        value: String,
        /// What is allowed.
        allowed: &'static str,
    },
    /// The module given is not the one averaged (another number or shape of tensors).
    #[error("the model has {found} where the average has {expected}: average the module it was made from")]
    ModuleMismatch {
        /// What the average holds (tensor count, or the first differing tensor and shape).
        expected: String,
        /// What the model holds.
        found: String,
    },
    /// `update_bn` saw no running statistic change: no batch ran a BatchNorm in train mode.
    #[error("update_bn: no running statistic changed over the first batch: the forward must run the module it is given (in train mode, as update_bn sets it), not a `valid()` copy")]
    NoBatchStatistics,
    /// A checkpoint that cannot continue this run's average.
    #[error("cannot resume from {path}: {why}")]
    Resume {
        /// The checkpoint file.
        path: String,
        /// What it lacks or how it differs.
        why: String,
    },
    /// `update_bn` met a running statistic with momentum 0, which never records a batch.
    #[error("update_bn: the running statistic `{path}` has momentum 0: it never records a batch, so its average cannot be recomputed")]
    ZeroMomentum {
        /// The running statistic's path in the module (`bn.running_var`).
        path: String,
    },
}

pub(crate) fn check(
    ok: bool,
    setting: &'static str,
    value: impl ToString,
    allowed: &'static str,
) -> Result<(), AveragingError> {
    if ok {
        Ok(())
    } else {
        Err(AveragingError::Setting {
            setting,
            value: value.to_string(),
            allowed,
        })
    }
}
