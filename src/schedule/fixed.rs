//! A fixed learning rate: no scheduler (HF's `get_constant_schedule`).

use super::{non_negative, ClosedForm, LearningRate, ScheduleError};

/// A fixed learning rate (no schedule): `lr(t) = lr`.
#[derive(Debug, Clone, PartialEq)]
pub struct FixedLr {
    lr: LearningRate,
}

impl FixedLr {
    /// A fixed learning rate.
    ///
    /// # Errors
    /// [`ScheduleError::InvalidParam`] for a negative or non-finite `lr`.
    pub fn new(lr: LearningRate) -> Result<Self, ScheduleError> {
        Ok(Self {
            lr: non_negative("fixed", "lr", lr)?,
        })
    }
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn constant() {
        let s = FixedLr::new(0.25).unwrap();
        assert!(FixedLr::new(f64::NAN).is_err());
        assert_eq!([s.lr_at(0), s.lr_at(u64::MAX)], [0.25, 0.25]);
    }
}
