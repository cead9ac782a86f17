//! timm's LR noise (`noise_range_t`, `noise_pct`, `noise_std`, `noise_type`, `noise_seed`):
//! `lr * (1 + n)` with `n` drawn afresh at every step `t` from a generator seeded with
//! `noise_seed + t`, so the noise is a function of `t` alone (deterministic, exact on resume).

use super::error::{positive, ScheduleError};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rand_distr::StandardNormal;
use serde::{Deserialize, Serialize};

/// Where the noise applies (timm's `noise_range_t`): from a step on, or in `[start, end)`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum NoiseRange {
    /// `noise_range_t = 10`: every `t >= 10`.
    From(u64),
    /// `noise_range_t = [10, 40]`: `10 <= t < 40`.
    Between([u64; 2]),
}

impl NoiseRange {
    fn contains(self, t: u64) -> bool {
        match self {
            Self::From(start) => t >= start,
            Self::Between([start, end]) => start <= t && t < end,
        }
    }
}

/// The noise distribution (timm's `noise_type`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum NoiseType {
    /// `n = noise_std * z`, `z` standard normal, redrawn until `|n| < noise_pct` (default).
    Normal,
    /// `n` uniform in `[-noise_pct, noise_pct)`.
    Uniform,
}

/// A validated timm LR noise.
#[derive(Debug, Clone, PartialEq)]
pub struct LrNoise {
    range: NoiseRange,
    pct: f64,
    std: f64,
    kind: NoiseType,
    seed: u64,
}

impl LrNoise {
    /// Validates timm's noise parameters (always, so that a bad value is never silently
    /// ignored); `range = None` means no noise.
    ///
    /// # Errors
    /// [`ScheduleError::InvalidParam`] (for schedule `s`): `noise_pct` outside (0, 1] (a larger
    /// one could make the LR negative), `noise_std` not finite and > 0, a `noise_pct /
    /// noise_std` below 1e-3 (the redraw loop would spin), an empty `[start, end)` range.
    pub fn new(
        s: &'static str,
        range: Option<NoiseRange>,
        pct: f64,
        std: f64,
        kind: NoiseType,
        seed: u64,
    ) -> Result<Option<Self>, ScheduleError> {
        if let Some(NoiseRange::Between([a, b])) = range {
            if a >= b {
                return Err(ScheduleError::invalid(
                    s,
                    "noise_range_t",
                    format!("[{a}, {b}]"),
                    "must be [start, end) with start < end",
                ));
            }
        }
        if !(pct.is_finite() && pct > 0.0 && pct <= 1.0) {
            return Err(ScheduleError::invalid(
                s,
                "noise_pct",
                pct,
                "must be in (0, 1] (a larger noise could make the LR negative)",
            ));
        }
        positive(s, "noise_std", std)?;
        if kind == NoiseType::Normal && pct / std < 1e-3 {
            return Err(ScheduleError::invalid(
                s,
                "noise_std",
                std,
                format!(
                    "must be <= 1000 x noise_pct = {} (normal noise is redrawn until |n| < noise_pct)",
                    1000.0 * pct
                ),
            ));
        }
        Ok(range.map(|range| Self {
            range,
            pct,
            std,
            kind,
            seed,
        }))
    }

    /// The relative noise `n` at step `t` (0 outside the range): the LR becomes `lr + lr * n`.
    pub fn at(&self, t: u64) -> f64 {
        if !self.range.contains(t) {
            return 0.0;
        }
        let mut rng = ChaCha8Rng::seed_from_u64(self.seed.wrapping_add(t));
        match self.kind {
            NoiseType::Normal => loop {
                let z: f64 = rng.sample(StandardNormal);
                let n = z * self.std;
                if n.abs() < self.pct {
                    return n;
                }
            },
            NoiseType::Uniform => 2.0 * (rng.random::<f64>() - 0.5) * self.pct,
        }
    }

    /// Applies the noise of step `t` to `lr`, as timm's `_add_noise`.
    pub fn apply(&self, lr: f64, t: u64) -> f64 {
        let n = self.at(t);
        lr + lr * n
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn noise(kind: NoiseType, range: NoiseRange) -> LrNoise {
        LrNoise::new("t", Some(range), 0.5, 1.0, kind, 7).unwrap().unwrap()
    }

    #[test]
    fn range_seed_and_clipping() {
        let n = noise(NoiseType::Normal, NoiseRange::Between([2, 5]));
        assert_eq!(n.at(1), 0.0);
        assert_eq!(n.at(5), 0.0);
        assert_eq!(n.at(3), n.clone().at(3));
        assert!((2..5).all(|t| n.at(t).abs() < 0.5 && n.at(t) != 0.0));
        let u = noise(NoiseType::Uniform, NoiseRange::From(0));
        assert!((0..1000).all(|t| u.at(t).abs() <= 0.5));
    }

    #[test]
    fn invalid() {
        assert!(LrNoise::new("t", Some(NoiseRange::From(0)), 1.5, 1.0, NoiseType::Normal, 0).is_err());
        assert!(LrNoise::new("t", Some(NoiseRange::Between([4, 4])), 0.5, 1.0, NoiseType::Normal, 0).is_err());
        assert!(LrNoise::new("t", Some(NoiseRange::From(0)), 0.5, 0.0, NoiseType::Normal, 0).is_err());
        assert_eq!(LrNoise::new("t", None, 0.67, 1.0, NoiseType::Normal, 0), Ok(None));
        assert!(LrNoise::new("t", None, 9.0, 1.0, NoiseType::Normal, 0).is_err());
    }
}
