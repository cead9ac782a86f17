//! SGD and AdamW as PyTorch defines them, whose momentum (SGD) or `beta1` (AdamW) follows the
//! schedule when it cycles momentum, as PyTorch's `cycle_momentum` does for `OneCycleLR` and
//! `CyclicLR`.
//!
//! Burn's optimizers fix their momentum at construction, so the scheduler writes the momentum
//! of each update into a shared [`MomentumCell`] in its `step()` (which Burn's `Learner` calls
//! just before the optimizer step) and [`CycledSgd`] / [`CycledAdamW`] read it there.
//! [`CycledSgdConfig`] / [`CycledAdamWConfig`] build the one that fits the schedule: the cycled
//! optimizer when [`LearnerSchedule::momentum`](crate::learner::LearnerSchedule::momentum) has a
//! cell, Burn's own `Sgd` / `AdamW` otherwise.
//!
//! ```
//! use burn_lr::learner::{LearnerRun, LearnerSchedule};
//! use burn_lr::optim::CycledSgdConfig;
//! use burn_lr::schedule::SchedulerConfig;
//!
//! let config: SchedulerConfig = toml::from_str("type = \"one_cycle\"\nmax_lr = 0.1")?;
//! let schedule = LearnerSchedule::new(&config, 0.1, &LearnerRun::new(50_000, 128, 30))?;
//! // torch.optim.SGD(params, lr, momentum=0.9, nesterov=True, weight_decay=5e-4); OneCycle then
//! // cycles the momentum between 0.85 and 0.95 at every update.
//! let optimizer = CycledSgdConfig::new()
//!     .with_momentum(0.9)
//!     .with_nesterov(true)
//!     .with_weight_decay(5e-4)
//!     .init(schedule.momentum())?;
//! # let _ = optimizer;
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

use burn::optim::decay::{WeightDecay, WeightDecayConfig};
use burn::optim::momentum::{Momentum, MomentumConfig};
use burn::optim::{
    AdamWConfig, AdamWState, AdaptiveMomentumState, LearningRate, ModuleOptimizer, Optimizer, SgdConfig, SgdState,
};
use burn::tensor::{Device, Tensor};

use crate::schedule::MomentumCell;

/// A setting of [`CycledSgdConfig`] or [`CycledAdamWConfig`] outside what this crate allows:
/// PyTorch's ranges, narrowed where PyTorch accepts a value that does not train (SGD momentum
/// of 1 or more, AdamW `eps = 0`).
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("{optimizer}: invalid `{field}` = {value}: {allowed}")]
pub struct InvalidOptimizerParam {
    /// `sgd` or `adamw`.
    pub optimizer: &'static str,
    /// The setting, by its PyTorch name.
    pub field: &'static str,
    /// The value given.
    pub value: String,
    /// What is allowed.
    pub allowed: &'static str,
}

fn check(
    optimizer: &'static str,
    field: &'static str,
    value: f64,
    ok: bool,
    allowed: &'static str,
) -> Result<(), InvalidOptimizerParam> {
    if ok {
        Ok(())
    } else {
        Err(InvalidOptimizerParam {
            optimizer,
            field,
            value: value.to_string(),
            allowed,
        })
    }
}

/// In [0, 1), as PyTorch requires of betas (and this crate of SGD momentum).
fn unit_interval(v: f64) -> bool {
    v.is_finite() && (0.0..1.0).contains(&v)
}

/// Finite and >= 0.
fn non_negative(v: f64) -> bool {
    v.is_finite() && v >= 0.0
}

/// The settings of `torch.optim.SGD` (L2 weight decay added to the gradient, momentum with
/// dampening 0, optional Nesterov); the learning rate comes from the schedule. Defaults are
/// PyTorch's: no momentum, no Nesterov, no weight decay.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct CycledSgdConfig {
    /// Momentum factor in [0, 1) (PyTorch's `momentum`); with a momentum-cycling schedule it
    /// applies only until the first update, after which the schedule sets it.
    pub momentum: f64,
    /// Nesterov momentum (PyTorch's `nesterov`).
    pub nesterov: bool,
    /// L2 penalty added to the gradient (PyTorch's `weight_decay`), >= 0; 0 disables it.
    pub weight_decay: f64,
}

impl CycledSgdConfig {
    /// PyTorch's defaults.
    pub fn new() -> Self {
        Self::default()
    }

    /// Sets `momentum`.
    pub fn with_momentum(mut self, momentum: f64) -> Self {
        self.momentum = momentum;
        self
    }

    /// Sets `nesterov`.
    pub fn with_nesterov(mut self, nesterov: bool) -> Self {
        self.nesterov = nesterov;
        self
    }

    /// Sets `weight_decay`.
    pub fn with_weight_decay(mut self, weight_decay: f64) -> Self {
        self.weight_decay = weight_decay;
        self
    }

    /// The optimizer for `Learner::new`: [`CycledSgd`] reading `momentum` at every update when
    /// given one (a schedule with `cycle_momentum`), else Burn's `Sgd` with these settings.
    ///
    /// # Errors
    /// [`InvalidOptimizerParam`]: `momentum` outside [0, 1), a negative or non-finite
    /// `weight_decay`, `nesterov` without momentum (`torch.optim.SGD` refuses the last two and
    /// a negative momentum; it accepts a momentum of 1 or more, which never forgets a gradient).
    pub fn init(&self, momentum: Option<&MomentumCell>) -> Result<ModuleOptimizer, InvalidOptimizerParam> {
        const S: &str = "sgd";
        check(
            S,
            "momentum",
            self.momentum,
            unit_interval(self.momentum),
            "must be in [0, 1)",
        )?;
        check(
            S,
            "weight_decay",
            self.weight_decay,
            non_negative(self.weight_decay),
            "must be a finite number >= 0",
        )?;
        let nesterov_ok = !self.nesterov || self.momentum > 0.0;
        check(
            S,
            "momentum",
            self.momentum,
            nesterov_ok,
            "must be > 0 with nesterov = true (as in PyTorch)",
        )?;
        if let Some(cell) = momentum {
            cell.set(u64::MAX, self.momentum);
            return Ok(CycledSgd::new(cell.clone(), self.nesterov, self.weight_decay).init());
        }
        let mut sgd = SgdConfig::new();
        if self.momentum > 0.0 {
            sgd = sgd.with_momentum(Some(
                MomentumConfig::new()
                    .with_momentum(self.momentum)
                    .with_dampening(0.0)
                    .with_nesterov(self.nesterov),
            ));
        }
        if self.weight_decay > 0.0 {
            sgd = sgd.with_weight_decay(Some(WeightDecayConfig::new(self.weight_decay as f32)));
        }
        Ok(sgd.init())
    }
}

/// The settings of `torch.optim.AdamW` (decoupled weight decay); the learning rate comes from
/// the schedule. Defaults are PyTorch's: `betas = (0.9, 0.999)`, `eps = 1e-8`,
/// `weight_decay = 0.01`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct CycledAdamWConfig {
    /// `betas[0]`, in [0, 1); with a momentum-cycling schedule the schedule sets it at every
    /// update.
    pub beta1: f64,
    /// `betas[1]`, in [0, 1).
    pub beta2: f64,
    /// `eps`, > 0.
    pub eps: f64,
    /// Decoupled weight decay (PyTorch's `weight_decay`), >= 0.
    pub weight_decay: f64,
}

impl Default for CycledAdamWConfig {
    fn default() -> Self {
        Self {
            beta1: 0.9,
            beta2: 0.999,
            eps: 1e-8,
            weight_decay: 0.01,
        }
    }
}

impl CycledAdamWConfig {
    /// PyTorch's defaults.
    pub fn new() -> Self {
        Self::default()
    }

    /// Sets `betas`.
    pub fn with_betas(mut self, beta1: f64, beta2: f64) -> Self {
        (self.beta1, self.beta2) = (beta1, beta2);
        self
    }

    /// Sets `eps`.
    pub fn with_eps(mut self, eps: f64) -> Self {
        self.eps = eps;
        self
    }

    /// Sets `weight_decay`.
    pub fn with_weight_decay(mut self, weight_decay: f64) -> Self {
        self.weight_decay = weight_decay;
        self
    }

    /// The optimizer for `Learner::new`: [`CycledAdamW`] reading `beta1` from `momentum` at
    /// every update when given one, else Burn's `AdamW` with these settings.
    ///
    /// # Errors
    /// [`InvalidOptimizerParam`]: a beta outside [0, 1), `eps` not > 0, a negative or
    /// non-finite `weight_decay` (`torch.optim.AdamW` refuses the same, but accepts `eps = 0`,
    /// a division by zero for a parameter whose gradients are all zero).
    pub fn init(&self, momentum: Option<&MomentumCell>) -> Result<ModuleOptimizer, InvalidOptimizerParam> {
        const S: &str = "adamw";
        check(S, "beta1", self.beta1, unit_interval(self.beta1), "must be in [0, 1)")?;
        check(S, "beta2", self.beta2, unit_interval(self.beta2), "must be in [0, 1)")?;
        check(
            S,
            "eps",
            self.eps,
            self.eps.is_finite() && self.eps > 0.0,
            "must be a finite number > 0",
        )?;
        check(
            S,
            "weight_decay",
            self.weight_decay,
            non_negative(self.weight_decay),
            "must be a finite number >= 0",
        )?;
        if let Some(cell) = momentum {
            cell.set(u64::MAX, self.beta1);
            return Ok(CycledAdamW::new(cell.clone(), self.beta2, self.eps, self.weight_decay).init());
        }
        Ok(AdamWConfig::new()
            .with_beta_1(self.beta1 as f32)
            .with_beta_2(self.beta2 as f32)
            .with_epsilon(self.eps as f32)
            .with_weight_decay(self.weight_decay as f32)
            .init())
    }
}

/// SGD (as `torch.optim.SGD`: L2 weight decay added to the gradient, momentum with dampening 0,
/// optional Nesterov) whose momentum is read from a [`MomentumCell`] at every update. Built by
/// [`CycledSgdConfig::init`] (inside the [`ModuleOptimizer`] it returns).
#[derive(Clone)]
pub struct CycledSgd {
    cell: MomentumCell,
    nesterov: bool,
    weight_decay: Option<WeightDecay>,
}

impl CycledSgd {
    /// SGD with momentum from `cell`, Nesterov or not, L2 `weight_decay` (0 disables).
    pub(crate) fn new(cell: MomentumCell, nesterov: bool, weight_decay: f64) -> Self {
        Self {
            cell,
            nesterov,
            weight_decay: (weight_decay > 0.0).then(|| WeightDecay::new(&WeightDecayConfig::new(weight_decay as f32))),
        }
    }

    /// As a Burn [`ModuleOptimizer`] for `Learner::new`.
    pub(crate) fn init(self) -> ModuleOptimizer {
        ModuleOptimizer::from(self)
    }
}

impl Optimizer for CycledSgd {
    type State<const D: usize> = SgdState<D>;

    fn step<const D: usize>(
        &self,
        lr: LearningRate,
        tensor: Tensor<D>,
        mut grad: Tensor<D>,
        state: Option<Self::State<D>>,
    ) -> (Tensor<D>, Option<Self::State<D>>) {
        if let Some(wd) = &self.weight_decay {
            grad = wd.transform(grad, tensor.clone());
        }
        let momentum = Momentum::new(
            &MomentumConfig::new()
                .with_momentum(self.cell.read())
                .with_dampening(0.0)
                .with_nesterov(self.nesterov),
        );
        let (grad, velocity) = momentum.transform(grad, state.and_then(|s| s.momentum));
        (tensor - grad.mul_scalar(lr), Some(SgdState::new(Some(velocity))))
    }

    fn to_device<const D: usize>(mut state: Self::State<D>, device: &Device) -> Self::State<D> {
        state.momentum = state.momentum.map(|m| m.to_device(device));
        state
    }
}

/// AdamW (as `torch.optim.AdamW`: decoupled weight decay) whose `beta1` is read from a
/// [`MomentumCell`] at every update, as PyTorch's `cycle_momentum` cycles `betas[0]`. Built by
/// [`CycledAdamWConfig::init`] (inside the [`ModuleOptimizer`] it returns).
#[derive(Clone)]
pub struct CycledAdamW {
    cell: MomentumCell,
    beta_2: f64,
    epsilon: f64,
    weight_decay: f64,
}

impl CycledAdamW {
    /// AdamW with `beta1` from `cell`.
    pub(crate) fn new(cell: MomentumCell, beta_2: f64, epsilon: f64, weight_decay: f64) -> Self {
        Self {
            cell,
            beta_2,
            epsilon,
            weight_decay,
        }
    }

    /// As a Burn [`ModuleOptimizer`] for `Learner::new`.
    pub(crate) fn init(self) -> ModuleOptimizer {
        ModuleOptimizer::from(self)
    }
}

impl Optimizer for CycledAdamW {
    type State<const D: usize> = AdamWState<D>;

    fn step<const D: usize>(
        &self,
        lr: LearningRate,
        tensor: Tensor<D>,
        grad: Tensor<D>,
        state: Option<Self::State<D>>,
    ) -> (Tensor<D>, Option<Self::State<D>>) {
        let (b1, b2) = (self.cell.read(), self.beta_2);
        let state = match state {
            Some(AdamWState { momentum: mut s }) => {
                s.moment_1 = s.moment_1.mul_scalar(b1).add(grad.clone().mul_scalar(1.0 - b1));
                s.moment_2 = s.moment_2.mul_scalar(b2).add(grad.square().mul_scalar(1.0 - b2));
                s.time += 1;
                s
            }
            None => {
                AdaptiveMomentumState::new(1, grad.clone().mul_scalar(1.0 - b1), grad.square().mul_scalar(1.0 - b2))
            }
        };
        let t = state.time as i32;
        let m_hat = state.moment_1.clone().div_scalar(1.0 - b1.powi(t));
        let v_hat = state.moment_2.clone().div_scalar(1.0 - b2.powi(t));
        let delta = m_hat.div(v_hat.sqrt().add_scalar(self.epsilon));
        let decayed = if self.weight_decay == 0.0 {
            tensor
        } else {
            tensor.mul_scalar(1.0 - lr * self.weight_decay)
        };
        (decayed - delta.mul_scalar(lr), Some(AdamWState { momentum: state }))
    }

    fn to_device<const D: usize>(mut state: Self::State<D>, device: &Device) -> Self::State<D> {
        state.momentum = state.momentum.to_device(device);
        state
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn settings_outside_pytorch_s_ranges_are_errors_naming_them() {
        let field = |r: Result<ModuleOptimizer, InvalidOptimizerParam>| r.err().map(|e| e.field);
        assert_eq!(
            field(CycledSgdConfig::new().with_nesterov(true).init(None)),
            Some("momentum")
        );
        assert_eq!(
            field(CycledSgdConfig::new().with_momentum(1.0).init(None)),
            Some("momentum")
        );
        assert_eq!(
            field(CycledSgdConfig::new().with_weight_decay(-1e-4).init(None)),
            Some("weight_decay")
        );
        assert_eq!(
            field(CycledAdamWConfig::new().with_betas(0.9, 1.0).init(None)),
            Some("beta2")
        );
        assert_eq!(field(CycledAdamWConfig::new().with_eps(0.0).init(None)), Some("eps"));
        let cell = MomentumCell::new(f64::NAN);
        assert!(CycledSgdConfig::new()
            .with_momentum(0.9)
            .with_nesterov(true)
            .init(Some(&cell))
            .is_ok());
        assert_eq!(
            cell.get(),
            0.9,
            "the configured momentum applies until the schedule writes"
        );
        let err = CycledSgdConfig::new()
            .with_momentum(-0.1)
            .init(None)
            .err()
            .unwrap()
            .to_string();
        assert_eq!(err, "sgd: invalid `momentum` = -0.1: must be in [0, 1)");
    }
}
