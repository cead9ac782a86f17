//! [`DeviceError`]: a device, strategy or precision a run cannot use (exit code 2, like every
//! bad input).

/// A device, execution strategy or float type this run cannot use, said in one line.
#[derive(Debug, thiserror::Error)]
pub enum DeviceError {
    /// The requested device is not compiled in.
    #[error("device `{0}` is not available in this build: rebuild with `--features {0}`")]
    Unavailable(&'static str),
    /// A device setting that does not fit the run (a device index, a strategy, a split).
    #[error("{0}")]
    Settings(String),
    /// `[training] precision` the device cannot compute in, or that this process cannot set.
    #[error("[training] precision = \"{precision}\": {why}")]
    Precision {
        /// The requested precision, as the config spells it (`bf16`).
        precision: &'static str,
        /// Why it cannot be used.
        why: String,
    },
}
