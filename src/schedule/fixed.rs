//! A fixed learning rate: no scheduler (HF's `get_constant_schedule`).

use super::{ClosedForm, LearningRate};

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
