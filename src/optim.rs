//! Optimizers whose momentum (SGD) or `beta1` (AdamW) follows the schedule, as PyTorch's
//! `cycle_momentum` does for `OneCycleLR` and `CyclicLR`.
//!
//! Burn's optimizers fix their momentum at construction, so the scheduler writes the momentum
//! of each update into a shared [`MomentumCell`] in its `step()` (which Burn's `Learner` calls
//! just before the optimizer step) and [`CycledSgd`] / [`CycledAdamW`] read it there.

use burn::optim::decay::{WeightDecay, WeightDecayConfig};
use burn::optim::momentum::{Momentum, MomentumConfig};
use burn::optim::{AdamWState, AdaptiveMomentumState, LearningRate, ModuleOptimizer, Optimizer, SgdState};
use burn::tensor::{Device, Tensor};

pub use crate::schedule::MomentumCell;

/// SGD (as `torch.optim.SGD`: L2 weight decay added to the gradient, momentum with dampening 0,
/// optional Nesterov) whose momentum is read from a [`MomentumCell`] at every update.
#[derive(Clone)]
pub struct CycledSgd {
    cell: MomentumCell,
    nesterov: bool,
    weight_decay: Option<WeightDecay>,
}

impl CycledSgd {
    /// SGD with momentum from `cell`, Nesterov or not, L2 `weight_decay` (0 disables).
    pub fn new(cell: MomentumCell, nesterov: bool, weight_decay: f64) -> Self {
        Self {
            cell,
            nesterov,
            weight_decay: (weight_decay > 0.0).then(|| WeightDecay::new(&WeightDecayConfig::new(weight_decay as f32))),
        }
    }

    /// As a Burn [`ModuleOptimizer`] for `Learner::new`.
    pub fn init(self) -> ModuleOptimizer {
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
/// [`MomentumCell`] at every update, as PyTorch's `cycle_momentum` cycles `betas[0]`.
#[derive(Clone)]
pub struct CycledAdamW {
    cell: MomentumCell,
    beta_2: f64,
    epsilon: f64,
    weight_decay: f64,
}

impl CycledAdamW {
    /// AdamW with `beta1` from `cell`.
    pub fn new(cell: MomentumCell, beta_2: f64, epsilon: f64, weight_decay: f64) -> Self {
        Self {
            cell,
            beta_2,
            epsilon,
            weight_decay,
        }
    }

    /// As a Burn [`ModuleOptimizer`] for `Learner::new`.
    pub fn init(self) -> ModuleOptimizer {
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
