//! Composition: `SequentialLR`, `ChainedScheduler` and warmup, nestable to any depth, each child
//! keeping its own unit. Everything is evaluated per optimizer update `k`, so a composite is as
//! closed-form (and as resumable) as its children.

use super::{ClosedForm, ClosedFormScheduler};
use burn::optim::LearningRate;
use serde::{Deserialize, Serialize};

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

impl<S: ClosedForm + std::fmt::Debug> Schedule for ClosedFormScheduler<S> {
    fn lr(&self, k: u64) -> LearningRate {
        self.lr_at_update(k)
    }

    fn momentum(&self, k: u64) -> Option<f64> {
        self.momentum_at_update(k)
    }

    fn fingerprint(&self) -> String {
        format!(
            "{}({}, per={})",
            S::KIND,
            self.schedule().fingerprint(),
            self.steps_per_unit()
        )
    }

    fn clone_box(&self) -> Box<dyn Schedule> {
        Box::new(self.clone())
    }
}

/// PyTorch's
/// [`SequentialLR`](https://pytorch.org/docs/stable/generated/torch.optim.lr_scheduler.SequentialLR.html):
/// child `i` runs from milestone `i - 1` on, restarted at its own step 0. Milestones are given
/// here in optimizer updates. A milestone at 0 skips the first child, as PyTorch 2.15 does.
#[derive(Debug, Clone)]
pub struct Sequential {
    children: Vec<Box<dyn Schedule>>,
    starts: Vec<u64>,
}

impl Sequential {
    /// `children.len() == starts.len() + 1` and `starts` non-decreasing (checked by the config).
    pub fn new(children: Vec<Box<dyn Schedule>>, starts: Vec<u64>) -> Self {
        Self { children, starts }
    }

    fn active(&self, k: u64) -> (usize, u64) {
        let i = self.starts.partition_point(|s| *s <= k);
        (i, if i == 0 { k } else { k - self.starts[i - 1] })
    }
}

impl Schedule for Sequential {
    fn lr(&self, k: u64) -> LearningRate {
        let (i, local) = self.active(k);
        self.children[i].lr(local)
    }

    fn momentum(&self, k: u64) -> Option<f64> {
        let (i, local) = self.active(k);
        self.children[i].momentum(local)
    }

    fn fingerprint(&self) -> String {
        let children: Vec<String> = self.children.iter().map(|c| c.fingerprint()).collect();
        format!("sequential(starts={:?}, [{}])", self.starts, children.join(", "))
    }

    fn clone_box(&self) -> Box<dyn Schedule> {
        Box::new(self.clone())
    }
}

/// PyTorch's
/// [`ChainedScheduler`](https://pytorch.org/docs/stable/generated/torch.optim.lr_scheduler.ChainedScheduler.html):
/// every child steps together and their multiplicative factors combine,
/// `lr(k) = base_lr * prod(child_i(k) / base_lr)`.
#[derive(Debug, Clone)]
pub struct Chained {
    children: Vec<Box<dyn Schedule>>,
    base_lr: LearningRate,
}

impl Chained {
    /// Chains `children`, all defined on `base_lr`.
    pub fn new(children: Vec<Box<dyn Schedule>>, base_lr: LearningRate) -> Self {
        Self { children, base_lr }
    }
}

impl Schedule for Chained {
    fn lr(&self, k: u64) -> LearningRate {
        if self.base_lr == 0.0 {
            return 0.0;
        }
        self.children
            .iter()
            .fold(self.base_lr, |lr, c| lr * (c.lr(k) / self.base_lr))
    }

    fn momentum(&self, k: u64) -> Option<f64> {
        self.children.iter().rev().find_map(|c| c.momentum(k))
    }

    fn fingerprint(&self) -> String {
        let children: Vec<String> = self.children.iter().map(|c| c.fingerprint()).collect();
        format!("chained(base_lr={:?}, [{}])", self.base_lr, children.join(", "))
    }

    fn clone_box(&self) -> Box<dyn Schedule> {
        Box::new(self.clone())
    }
}

/// The warmup curve.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum WarmupMode {
    /// `factor = start + (1 - start) * k / W` (PyTorch's `LinearLR` warmup, timm's linear).
    Linear,
    /// `factor = start^(1 - k / W)`: geometric from `start` to 1.
    Exponential,
}

/// A warmup phase of `updates` optimizer updates in front of `inner`: the LR rises from
/// `start_factor × inner(0)` to `inner(0)`, then `inner` runs from its own step 0.
/// Zero updates is a no-op.
#[derive(Debug, Clone)]
pub struct Warmup {
    inner: Box<dyn Schedule>,
    updates: u64,
    start_factor: f64,
    mode: WarmupMode,
}

impl Warmup {
    /// Warmup of `updates` updates from `start_factor` (in (0, 1], checked by the config).
    pub fn new(inner: Box<dyn Schedule>, updates: u64, start_factor: f64, mode: WarmupMode) -> Self {
        Self {
            inner,
            updates,
            start_factor,
            mode,
        }
    }
}

impl Schedule for Warmup {
    fn lr(&self, k: u64) -> LearningRate {
        if k >= self.updates {
            return self.inner.lr(k - self.updates);
        }
        let p = k as f64 / self.updates as f64;
        let factor = match self.mode {
            WarmupMode::Linear => self.start_factor + (1.0 - self.start_factor) * p,
            WarmupMode::Exponential => self.start_factor.powf(1.0 - p),
        };
        self.inner.lr(0) * factor
    }

    fn momentum(&self, k: u64) -> Option<f64> {
        self.inner.momentum(k.saturating_sub(self.updates))
    }

    fn fingerprint(&self) -> String {
        format!(
            "warmup(updates={}, start_factor={:?}, mode={:?}, {})",
            self.updates,
            self.start_factor,
            self.mode,
            self.inner.fingerprint()
        )
    }

    fn clone_box(&self) -> Box<dyn Schedule> {
        Box::new(self.clone())
    }
}
