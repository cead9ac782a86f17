//! Smith's learning-rate range test (Smith 2017, "Cyclical Learning Rates for Training Neural
//! Networks", section 3.3; fastai's `lr_find`, Lightning's `Tuner.lr_find`): train for
//! `num_iter` optimizer updates on real training batches while the LR grows from `start_lr` to
//! `end_lr` (exponentially or linearly), record the loss smoothed by a bias-corrected
//! exponential moving average (`beta` 0.98), stop once the smoothed loss exceeds
//! `diverge_factor` (4) times its best or is not finite, and suggest an LR:
//!
//! - `steepest`: where the smoothed loss falls fastest against log10(LR);
//! - `valley`: fastai's default: the middle of the longest falling stretch of the curve;
//! - `minimum`: the LR of the lowest smoothed loss, divided by 10.
//!
//! As fastai, the suggestions skip the first 10% and the last 5 points (start-up noise and
//! the blow-up). The caller's model (weights and BatchNorm statistics) and optimizer are not
//! touched: the test trains detached copies.
//!
//! ```no_run
//! # use burn_lr::burn;
//! # use burn_lr::monitor::{lr_find, LrFindConfig};
//! # fn run<M>(model: &M, optimizer: &burn::optim::ModuleOptimizer,
//! #          loader: &dyn burn::data::dataloader::DataLoader<M::Input>)
//! # where M: burn::train::TrainStep + burn::module::Module,
//! #       M::Output: burn::train::metric::Adaptor<burn_lr::learner::StepLoss> {
//! let result = lr_find(model, optimizer, loader, &LrFindConfig::default()).unwrap();
//! println!("OneCycle max_lr: {:?}", result.recommended_max_lr());
//! # }
//! ```

use super::error::MonitorError;
use crate::learner::StepLoss;
use burn::data::dataloader::DataLoader;
use burn::module::Module;
use burn::optim::ModuleOptimizer;
use burn::train::metric::Adaptor;
use burn::train::TrainStep;

/// How the LR grows from `start_lr` to `end_lr`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LrFindMode {
    /// `start * (end / start)^(i / (n - 1))` (fastai, Lightning's default).
    #[default]
    Exp,
    /// `start + (end - start) * i / (n - 1)`.
    Linear,
}

/// The range test's settings (defaults: fastai's and Lightning's).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct LrFindConfig {
    /// Learning rate of the first update (default 1e-7).
    pub start_lr: f64,
    /// Learning rate of the last update (default 10).
    pub end_lr: f64,
    /// Optimizer updates at most (default 100); batches are reused if the loader has fewer.
    pub num_iter: usize,
    /// Exponential (default) or linear growth.
    pub mode: LrFindMode,
    /// Smoothing of the loss's moving average, in [0, 1) (default 0.98).
    pub beta: f64,
    /// Stop once the smoothed loss exceeds this times its best (default 4).
    pub diverge_factor: f64,
}

impl Default for LrFindConfig {
    fn default() -> Self {
        Self {
            start_lr: 1e-7,
            end_lr: 10.0,
            num_iter: 100,
            mode: LrFindMode::Exp,
            beta: 0.98,
            diverge_factor: 4.0,
        }
    }
}

impl LrFindConfig {
    /// Checks the settings.
    ///
    /// # Errors
    /// [`MonitorError::Invalid`] naming the setting and what is allowed.
    pub fn validate(&self) -> Result<(), MonitorError> {
        let bad = |what: &str, v: String, allowed: &str| Err(MonitorError::Invalid(format!("{what} = {v}: {allowed}")));
        if !(self.start_lr.is_finite() && self.start_lr > 0.0) {
            return bad("start_lr", self.start_lr.to_string(), "must be a finite number > 0");
        }
        if !(self.end_lr.is_finite() && self.end_lr > self.start_lr) {
            return bad(
                "end_lr",
                self.end_lr.to_string(),
                "must be finite and greater than start_lr",
            );
        }
        if self.num_iter < 2 {
            return bad("num_iter", self.num_iter.to_string(), "must be >= 2");
        }
        if !(0.0..1.0).contains(&self.beta) {
            return bad("beta", self.beta.to_string(), "must be in [0, 1)");
        }
        if !(self.diverge_factor.is_finite() && self.diverge_factor > 1.0) {
            return bad(
                "diverge_factor",
                self.diverge_factor.to_string(),
                "must be a finite number > 1",
            );
        }
        Ok(())
    }

    /// The learning rate of update `i` (from 0): `start_lr` at 0, `end_lr` at `num_iter - 1`
    /// (a `num_iter` below 2, which [`Self::validate`] refuses, counts as 2).
    pub fn lr_at(&self, i: usize) -> f64 {
        let t = i as f64 / (self.num_iter.max(2) - 1) as f64;
        match self.mode {
            LrFindMode::Exp => self.start_lr * (self.end_lr / self.start_lr).powf(t),
            LrFindMode::Linear => self.start_lr + (self.end_lr - self.start_lr) * t,
        }
    }
}

/// One update of the test.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct LrFindPoint {
    /// Learning rate used.
    pub lr: f64,
    /// Mean loss of the batch.
    pub loss: f64,
    /// The bias-corrected moving average of the loss up to here.
    pub smoothed_loss: f64,
}

/// Why the test ended.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum LrFindStop {
    /// All `num_iter` updates were made.
    Completed,
    /// The smoothed loss exceeded `diverge_factor` times its best at this LR.
    Diverged(f64),
    /// The loss was NaN or infinite at this LR.
    NonFinite(f64),
}

/// The suggested learning rates (`None` where the curve is too short to tell).
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct Suggestions {
    /// Steepest descent of the smoothed loss against log10(LR).
    pub steepest: Option<f64>,
    /// fastai's valley.
    pub valley: Option<f64>,
    /// The LR of the lowest smoothed loss, divided by 10.
    pub minimum: Option<f64>,
}

impl Suggestions {
    /// The suggestions of a curve: the points of a test of `num_iter` updates, in order.
    /// As fastai, the first `num_iter / 10` points and the last 5 are left out (start-up noise,
    /// the blow-up), then any non-finite one; a curve too short for that uses every finite point.
    pub fn from_points(points: &[LrFindPoint], num_iter: usize) -> Self {
        let finite = |p: &[LrFindPoint]| -> Vec<(f64, f64)> {
            p.iter()
                .filter(|p| p.smoothed_loss.is_finite())
                .map(|p| (p.lr, p.smoothed_loss))
                .collect()
        };
        let (start, end) = (num_iter / 10, points.len().saturating_sub(5));
        let mut curve = if end > start + 2 {
            finite(&points[start..end])
        } else {
            Vec::new()
        };
        if curve.len() < 3 {
            curve = finite(points);
        }
        if curve.len() < 2 {
            return Self::default();
        }
        let (lrs, losses): (Vec<f64>, Vec<f64>) = curve.iter().copied().unzip();
        let min_at = (0..losses.len())
            .min_by(|&a, &b| losses[a].total_cmp(&losses[b]))
            .expect("non-empty");
        let slopes: Vec<f64> = (1..lrs.len())
            .map(|i| (losses[i] - losses[i - 1]) / (lrs[i].log10() - lrs[i - 1].log10()))
            .collect();
        let steepest = (0..slopes.len())
            .filter(|&i| slopes[i].is_finite())
            .min_by(|&a, &b| slopes[a].total_cmp(&slopes[b]));
        Self {
            steepest: steepest.map(|i| lrs[i]),
            valley: Some(lrs[valley(&losses)]),
            minimum: Some(lrs[min_at] / 10.0),
        }
    }
}

/// fastai's `valley`: the longest decreasing subsequence of the losses, and the middle of its
/// stretch (`start + len/3 + len/6`).
fn valley(losses: &[f64]) -> usize {
    let n = losses.len();
    let mut lds = vec![1isize; n];
    // fastai's `max_start` is one before the stretch (-1 for a stretch from the first point).
    let (mut max_start, mut max_end) = (0isize, 0usize);
    for i in 1..n {
        for j in 0..i {
            if losses[i] < losses[j] && lds[i] < lds[j] + 1 {
                lds[i] = lds[j] + 1;
            }
            if lds[max_end] < lds[i] {
                max_end = i;
                max_start = max_end as isize - lds[max_end];
            }
        }
    }
    let sections = (max_end as isize - max_start) as f64 / 3.0;
    let idx = max_start + sections as isize + (sections / 2.0) as isize;
    // fastai would index from the end for -1 (a stretch of two points from the first).
    idx.clamp(0, n as isize - 1) as usize
}

/// What [`lr_find`] found.
#[derive(Debug, Clone, PartialEq)]
pub struct LrFindResult {
    /// One point per update made.
    pub points: Vec<LrFindPoint>,
    /// Why it ended.
    pub stop: LrFindStop,
    /// The suggestions.
    pub suggestions: Suggestions,
    /// The smoothing `beta` of `smoothed_loss`.
    pub beta: f64,
}

impl LrFindResult {
    /// The `max_lr` to give OneCycle and which suggestion it is: the steepest descent (Lightning's `suggestion()`; Smith's
    /// LR where the loss falls fastest, near the largest LR at which it still falls), else the
    /// valley, else the minimum / 10. fastai's valley sits lower (here, on CIFAR-10 with SGD, it
    /// trains slower in a short OneCycle run: see docs/look-at-it.md).
    pub fn recommended_max_lr(&self) -> Option<f64> {
        self.recommendation().map(|(lr, _)| lr)
    }

    /// [`Self::recommended_max_lr`] with the name of the suggestion it is (`"steepest"`,
    /// `"valley"`, `"minimum / 10"`).
    pub fn recommendation(&self) -> Option<(f64, &'static str)> {
        let s = self.suggestions;
        let named = [
            (s.steepest, "steepest"),
            (s.valley, "valley"),
            (s.minimum, "minimum / 10"),
        ];
        named.into_iter().find_map(|(lr, name)| lr.map(|lr| (lr, name)))
    }

    /// `lr_find.csv`: `iteration,lr,loss,smoothed_loss`, one row per update.
    pub fn csv(&self) -> String {
        let mut text = String::from("iteration,lr,loss,smoothed_loss\n");
        for (i, p) in self.points.iter().enumerate() {
            text += &format!("{i},{},{},{}\n", p.lr, p.loss, p.smoothed_loss);
        }
        text
    }
}

/// Runs the range test on clones of `model` and `optimizer` (the caller's are unchanged) over
/// the batches of `loader` (re-read from the start if it runs out), one optimizer update per
/// batch. `model` is the (autodiff) model a `Learner` would train.
///
/// # Errors
/// [`MonitorError::Invalid`] for bad settings, [`MonitorError::Empty`] for a loader without
/// batches, [`MonitorError::Data`] for a batch the loader could not make.
pub fn lr_find<M>(
    model: &M,
    optimizer: &ModuleOptimizer,
    loader: &dyn DataLoader<M::Input>,
    config: &LrFindConfig,
) -> Result<LrFindResult, MonitorError>
where
    M: TrainStep + Module,
    M::Output: Adaptor<StepLoss>,
{
    config.validate()?;
    // A detached copy: a clone shares Burn's `RunningState` buffers (BatchNorm statistics) with
    // the caller's model; `valid().train()` rebuilds them from their values.
    let (mut model, mut optimizer) = (model.valid().train(), optimizer.clone());
    let mut batches = loader.iter();
    let (mut avg, mut best) = (0.0f64, f64::INFINITY);
    let mut points = Vec::with_capacity(config.num_iter.min(100_000));
    let mut stop = LrFindStop::Completed;
    for i in 0..config.num_iter {
        let batch = match batches.next() {
            Some(b) => b,
            None => {
                batches = loader.iter();
                batches
                    .next()
                    .ok_or_else(|| MonitorError::Empty("the range test's loader has no batch".into()))?
            }
        };
        let batch = batch.map_err(|e| MonitorError::Data(format!("the range test's training batch {i}: {e}")))?;
        let lr = config.lr_at(i);
        let output = model.step(batch);
        let StepLoss(loss) = output.item.adapt();
        let loss = loss.mean().try_into_scalar::<f64>().unwrap_or(f64::NAN);
        avg = config.beta * avg + (1.0 - config.beta) * loss;
        let smoothed = avg / (1.0 - config.beta.powi(i as i32 + 1));
        points.push(LrFindPoint {
            lr,
            loss,
            smoothed_loss: smoothed,
        });
        if !smoothed.is_finite() {
            stop = LrFindStop::NonFinite(lr);
            break;
        }
        if smoothed > config.diverge_factor * best {
            stop = LrFindStop::Diverged(lr);
            break;
        }
        best = best.min(smoothed);
        model = optimizer.step(lr, model, output.grads);
    }
    let suggestions = Suggestions::from_points(&points, config.num_iter);
    Ok(LrFindResult {
        points,
        stop,
        suggestions,
        beta: config.beta,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn curve(lrs: &[f64], loss: impl Fn(f64) -> f64) -> Vec<LrFindPoint> {
        lrs.iter()
            .map(|&lr| LrFindPoint {
                lr,
                loss: loss(lr),
                smoothed_loss: loss(lr),
            })
            .collect()
    }

    fn exp_lrs(n: usize) -> Vec<f64> {
        let c = LrFindConfig {
            num_iter: n,
            ..LrFindConfig::default()
        };
        (0..n).map(|i| c.lr_at(i)).collect()
    }

    #[test]
    fn lr_grows_from_start_to_end() {
        let c = LrFindConfig::default();
        assert_eq!(c.lr_at(0), 1e-7);
        assert!((c.lr_at(99) - 10.0).abs() < 1e-12);
        let lin = LrFindConfig {
            mode: LrFindMode::Linear,
            start_lr: 0.0 + 1e-3,
            end_lr: 1.0,
            num_iter: 11,
            ..c
        };
        assert!((lin.lr_at(5) - (1e-3 + 0.999 * 0.5)).abs() < 1e-15);
    }

    #[test]
    fn a_bowl_curve_suggests_below_its_minimum() {
        // Loss falls fastest around lr = 1e-3 and is lowest at 1e-1, then blows up.
        let lrs = exp_lrs(100);
        let points = curve(&lrs, |lr| {
            let x = lr.log10();
            2.0 - 1.5 / (1.0 + (-(x + 3.0) * 2.0).exp()) + if x > -1.0 { (x + 1.0).powi(2) * 3.0 } else { 0.0 }
        });
        let s = Suggestions::from_points(&points, 100);
        let steep = s.steepest.unwrap();
        assert!((3e-4..3e-3).contains(&steep), "steepest {steep}");
        let min = s.minimum.unwrap();
        assert!((5e-3..2e-2).contains(&min), "minimum/10 {min}");
        let valley = s.valley.unwrap();
        assert!(valley > 1e-5 && valley < 1e-1, "valley {valley}");
    }

    #[test]
    fn valley_is_fastai_s() {
        // fastai: lds over [5,4,3,2,6,1,7] -> longest decreasing run 5,4,3,2,1 (ends at 5).
        let losses = [5.0, 4.0, 3.0, 2.0, 6.0, 1.0, 7.0];
        // max_end 5, lds 5: max_start 0, sections 5/3 = 1.67 -> 0 + 1 + 0 = 1.
        assert_eq!(valley(&losses), 1);
    }

    #[test]
    fn bad_settings_are_named() {
        let c = LrFindConfig {
            end_lr: 1e-8,
            ..LrFindConfig::default()
        };
        assert!(c.validate().unwrap_err().to_string().contains("end_lr"));
        let c = LrFindConfig {
            num_iter: 1,
            ..LrFindConfig::default()
        };
        assert!(c.validate().unwrap_err().to_string().contains("num_iter"));
    }
}
