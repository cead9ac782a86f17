//! `LambdaLR`: the base LR times a user function of the step.

use super::base::{ClosedForm, ClosedFormScheduler};
use super::error::{non_negative, ScheduleError};
use burn::optim::LearningRate;
use std::sync::{Arc, Mutex};

/// PyTorch's
/// [`torch.optim.lr_scheduler.LambdaLR`](https://pytorch.org/docs/stable/generated/torch.optim.lr_scheduler.LambdaLR.html):
/// `lr(t) = base_lr * lr_lambda(t)`.
///
/// `lr_lambda` receives the step count `t` (PyTorch's `last_epoch`, from 0) and returns a
/// multiplicative factor. It is Rust code, so this schedule has no TOML form; a record saved by
/// a `LambdaLr` is checked against `name`, which should change whenever the closure does.
/// `t` counts `step()` calls (one per PyTorch `scheduler.step()`); the LR is in the optimizer's
/// units.
///
/// ```
/// # use burn_lr::burn;
/// use burn::lr_scheduler::LrScheduler;
/// use burn_lr::schedule::LambdaLr;
///
/// # fn main() -> Result<(), burn_lr::schedule::ScheduleError> {
/// // PyTorch: LambdaLR(SGD(params, lr=0.1), lr_lambda=lambda t: 0.5 ** t)
/// let mut s = LambdaLr::new(0.1, "halve every step", |t| 0.5f64.powi(t as i32))?.init();
/// assert_eq!([s.step(), s.step(), s.step()], [0.1, 0.05, 0.025]);
/// # Ok(())
/// # }
/// ```
#[derive(Clone)]
pub struct LambdaLr {
    base_lr: LearningRate,
    name: String,
    lr_lambda: Arc<dyn Fn(u64) -> f64 + Send + Sync>,
}

impl std::fmt::Debug for LambdaLr {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LambdaLr")
            .field("base_lr", &self.base_lr)
            .field("name", &self.name)
            .finish()
    }
}

impl LambdaLr {
    /// A LambdaLR starting at `base_lr`; `name` identifies the function in checkpoints.
    ///
    /// # Errors
    /// [`ScheduleError::InvalidParam`] for a negative or non-finite `base_lr`.
    pub fn new(
        base_lr: LearningRate,
        name: impl Into<String>,
        lr_lambda: impl Fn(u64) -> f64 + Send + Sync + 'static,
    ) -> Result<Self, ScheduleError> {
        non_negative("lambda", "lr", base_lr)?;
        Ok(Self {
            base_lr,
            name: name.into(),
            lr_lambda: Arc::new(lr_lambda),
        })
    }

    /// A scheduler whose every `step()` call is one PyTorch `scheduler.step()`.
    pub fn init(self) -> LambdaLrScheduler {
        ClosedFormScheduler::new(self)
    }
}

impl ClosedForm for LambdaLr {
    const KIND: &'static str = "lambda";

    fn lr_at(&self, t: u64) -> LearningRate {
        self.base_lr * (self.lr_lambda)(t)
    }

    fn fingerprint(&self) -> String {
        format!("base_lr={:?} name={}", self.base_lr, self.name)
    }
}

/// [`LambdaLr`]'s scheduler: a Burn `LrScheduler`.
pub type LambdaLrScheduler = ClosedFormScheduler<LambdaLr>;

/// PyTorch's
/// [`torch.optim.lr_scheduler.MultiplicativeLR`](https://pytorch.org/docs/stable/generated/torch.optim.lr_scheduler.MultiplicativeLR.html):
/// `lr(0) = base_lr`, `lr(t) = lr(t - 1) * lr_lambda(t)`, i.e. `base_lr * prod(lr_lambda(1..=t))`.
///
/// ```
/// # use burn_lr::burn;
/// use burn::lr_scheduler::LrScheduler;
/// use burn_lr::schedule::MultiplicativeLr;
///
/// # fn main() -> Result<(), burn_lr::schedule::ScheduleError> {
/// // PyTorch: MultiplicativeLR(SGD(params, lr=1.0), lr_lambda=lambda t: 0.5)
/// let mut s = MultiplicativeLr::new(1.0, "halve", |_| 0.5)?.init();
/// assert_eq!([s.step(), s.step(), s.step()], [1.0, 0.5, 0.25]);
/// # Ok(())
/// # }
/// ```
///
/// The product is evaluated in PyTorch's order; the last value is cached so stepping costs one
/// call of `lr_lambda` per step, and a jump (resume) recomputes the product from the start.
pub struct MultiplicativeLr {
    base_lr: LearningRate,
    name: String,
    lr_lambda: Arc<dyn Fn(u64) -> f64 + Send + Sync>,
    cache: Arc<Mutex<(u64, f64)>>,
}

impl Clone for MultiplicativeLr {
    fn clone(&self) -> Self {
        let cache = *self.cache.lock().expect("multiplicative cache lock poisoned");
        Self {
            base_lr: self.base_lr,
            name: self.name.clone(),
            lr_lambda: self.lr_lambda.clone(),
            cache: Arc::new(Mutex::new(cache)),
        }
    }
}

impl std::fmt::Debug for MultiplicativeLr {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MultiplicativeLr")
            .field("base_lr", &self.base_lr)
            .field("name", &self.name)
            .finish()
    }
}

impl MultiplicativeLr {
    /// A MultiplicativeLR starting at `base_lr`; `name` identifies the function in checkpoints.
    ///
    /// # Errors
    /// [`ScheduleError::InvalidParam`] for a negative or non-finite `base_lr`.
    pub fn new(
        base_lr: LearningRate,
        name: impl Into<String>,
        lr_lambda: impl Fn(u64) -> f64 + Send + Sync + 'static,
    ) -> Result<Self, ScheduleError> {
        non_negative("multiplicative", "lr", base_lr)?;
        Ok(Self {
            base_lr,
            name: name.into(),
            lr_lambda: Arc::new(lr_lambda),
            cache: Arc::new(Mutex::new((0, base_lr))),
        })
    }

    /// A scheduler whose every `step()` call is one PyTorch `scheduler.step()`.
    pub fn init(self) -> MultiplicativeLrScheduler {
        ClosedFormScheduler::new(self)
    }
}

impl ClosedForm for MultiplicativeLr {
    const KIND: &'static str = "multiplicative";

    fn lr_at(&self, t: u64) -> LearningRate {
        let mut cache = self.cache.lock().expect("multiplicative cache lock poisoned");
        if cache.0 > t {
            *cache = (0, self.base_lr);
        }
        while cache.0 < t {
            cache.0 += 1;
            cache.1 *= (self.lr_lambda)(cache.0);
        }
        cache.1
    }

    fn fingerprint(&self) -> String {
        format!("base_lr={:?} name={}", self.base_lr, self.name)
    }
}

/// [`MultiplicativeLr`]'s scheduler: a Burn `LrScheduler`.
pub type MultiplicativeLrScheduler = ClosedFormScheduler<MultiplicativeLr>;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn by_hand() {
        let lambda = LambdaLr::new(2.0, "0.5^t", |t| 0.5f64.powf(t as f64)).unwrap();
        assert_eq!([lambda.lr_at(0), lambda.lr_at(1), lambda.lr_at(3)], [2.0, 1.0, 0.25]);
        let multiplicative = MultiplicativeLr::new(1.0, "0.5", |_| 0.5).unwrap();
        assert_eq!([multiplicative.lr_at(0), multiplicative.lr_at(2)], [1.0, 0.25]);
    }
}
