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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn constant() {
        let s = FixedLr { lr: 0.25 };
        assert_eq!([s.lr_at(0), s.lr_at(u64::MAX)], [0.25, 0.25]);
    }
}
