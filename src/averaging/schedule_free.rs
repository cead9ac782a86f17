//! Schedule-Free SGD and AdamW (Defazio et al. 2024, "The Road Less Scheduled";
//! `facebookresearch/schedule_free`, package `schedulefree` 1.4.1) as Burn optimizers.
//!
//! Three sequences: the model holds `y` (where gradients are taken, what is stepped), the
//! optimizer state holds `z` (the base SGD / AdamW iterate), and `x = (y - (1 - β) z) / β` is the
//! weighted average that is evaluated and saved. The reference switches a model between `y` and
//! `x` in place (`optimizer.eval()` / `optimizer.train()`); here the model always holds `y` and
//! [`ScheduleFreeWeights::eval`] returns `x` as a new module, so a forgotten switch cannot train
//! on `x` or save `y`.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use crate::burn::module::{Module, ModuleMapper, Param, ParamGroup};
use crate::burn::optim::LearningRate;
use crate::burn::optim::{ModuleOptimizer, Optimizer, RecordState, StateSink, StateSource};
use crate::burn::tensor::{Device, Tensor, TensorData};

use super::error::{check, AveragingError};
use super::tensors::{leaves, lerp};

/// The latest `z` of one parameter, `[numel]`, shared with [`ScheduleFreeWeights`].
type ZSlot = Arc<Mutex<Option<Tensor<1>>>>;

#[derive(Clone, Copy, Debug, PartialEq)]
enum Base {
    Sgd,
    AdamW { beta2: f64, eps: f64 },
}

/// The settings both reference optimizers share (their names and defaults).
#[derive(Clone, Copy, Debug, PartialEq)]
struct Shared {
    /// `momentum` (SGD) or `betas[0]` (AdamW): the interpolation `y = (1 - β) z + β x`.
    beta: f64,
    weight_decay: f64,
    warmup_steps: u64,
    r: f64,
    weight_lr_power: f64,
}

/// Schedule-Free SGD: the reference's `SGDScheduleFree` arguments, its defaults. The learning
/// rate is Burn's (the scheduler's, constant for schedule-free training: the reference's `lr`,
/// default 1.0); `warmup_steps` warms it up inside the optimizer, as the reference does.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct SgdScheduleFreeConfig {
    /// `momentum` (default 0.9), in `(0, 1)`.
    pub momentum: f64,
    /// `weight_decay` (default 0): L2, added to the gradient at `y`.
    pub weight_decay: f64,
    /// `warmup_steps` (default 0): the LR rises linearly over this many optimizer updates.
    pub warmup_steps: u64,
    /// `r` (default 0): polynomial weighting `(k + 1)^r` of the average.
    pub r: f64,
    /// `weight_lr_power` (default 2): the average weighs each update by `lr_max^weight_lr_power`.
    pub weight_lr_power: f64,
}

impl Default for SgdScheduleFreeConfig {
    fn default() -> Self {
        Self::new()
    }
}

impl SgdScheduleFreeConfig {
    /// The reference's defaults.
    pub fn new() -> Self {
        Self {
            momentum: 0.9,
            weight_decay: 0.0,
            warmup_steps: 0,
            r: 0.0,
            weight_lr_power: 2.0,
        }
    }

    /// `momentum`, in `(0, 1)`.
    pub fn with_momentum(mut self, momentum: f64) -> Self {
        self.momentum = momentum;
        self
    }

    /// `weight_decay`, `>= 0`.
    pub fn with_weight_decay(mut self, weight_decay: f64) -> Self {
        self.weight_decay = weight_decay;
        self
    }

    /// `warmup_steps`, in optimizer updates.
    pub fn with_warmup_steps(mut self, warmup_steps: u64) -> Self {
        self.warmup_steps = warmup_steps;
        self
    }

    /// `r`, `>= 0`.
    pub fn with_r(mut self, r: f64) -> Self {
        self.r = r;
        self
    }

    /// `weight_lr_power`, `>= 0`.
    pub fn with_weight_lr_power(mut self, weight_lr_power: f64) -> Self {
        self.weight_lr_power = weight_lr_power;
        self
    }

    /// The optimizer for `model` (for `Learner::new`) and the handle that gives its `x`.
    /// Errors: a setting out of range, named.
    pub fn init<M: Module>(&self, model: &M) -> Result<(ModuleOptimizer, ScheduleFreeWeights), AveragingError> {
        check(
            self.momentum > 0.0 && self.momentum < 1.0,
            "momentum",
            self.momentum,
            "a number in (0, 1)",
        )?;
        let shared = Shared {
            beta: self.momentum,
            weight_decay: self.weight_decay,
            warmup_steps: self.warmup_steps,
            r: self.r,
            weight_lr_power: self.weight_lr_power,
        };
        build(Base::Sgd, shared, model)
    }
}

/// Schedule-Free AdamW: the reference's `AdamWScheduleFree` arguments, its defaults. The
/// learning rate is Burn's (the reference's `lr`, default 0.0025), constant.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct AdamWScheduleFreeConfig {
    /// `betas` (default `(0.9, 0.999)`): `betas[0]` in `(0, 1)` interpolates, `betas[1]` in
    /// `[0, 1)` averages the squared gradients.
    pub betas: (f64, f64),
    /// `eps` (default 1e-8), `>= 0`.
    pub eps: f64,
    /// `weight_decay` (default 0): decoupled, applied at `y` after the normalization.
    pub weight_decay: f64,
    /// `warmup_steps` (default 0).
    pub warmup_steps: u64,
    /// `r` (default 0).
    pub r: f64,
    /// `weight_lr_power` (default 2).
    pub weight_lr_power: f64,
}

impl Default for AdamWScheduleFreeConfig {
    fn default() -> Self {
        Self::new()
    }
}

impl AdamWScheduleFreeConfig {
    /// The reference's defaults.
    pub fn new() -> Self {
        Self {
            betas: (0.9, 0.999),
            eps: 1e-8,
            weight_decay: 0.0,
            warmup_steps: 0,
            r: 0.0,
            weight_lr_power: 2.0,
        }
    }

    /// `betas`.
    pub fn with_betas(mut self, beta1: f64, beta2: f64) -> Self {
        self.betas = (beta1, beta2);
        self
    }

    /// `eps`.
    pub fn with_eps(mut self, eps: f64) -> Self {
        self.eps = eps;
        self
    }

    /// `weight_decay`.
    pub fn with_weight_decay(mut self, weight_decay: f64) -> Self {
        self.weight_decay = weight_decay;
        self
    }

    /// `warmup_steps`, in optimizer updates.
    pub fn with_warmup_steps(mut self, warmup_steps: u64) -> Self {
        self.warmup_steps = warmup_steps;
        self
    }

    /// `r`.
    pub fn with_r(mut self, r: f64) -> Self {
        self.r = r;
        self
    }

    /// `weight_lr_power`.
    pub fn with_weight_lr_power(mut self, weight_lr_power: f64) -> Self {
        self.weight_lr_power = weight_lr_power;
        self
    }

    /// The optimizer for `model` (for `Learner::new`) and the handle that gives its `x`.
    /// Errors: a setting out of range, named.
    pub fn init<M: Module>(&self, model: &M) -> Result<(ModuleOptimizer, ScheduleFreeWeights), AveragingError> {
        let (b1, b2) = self.betas;
        check(b1 > 0.0 && b1 < 1.0, "betas[0]", b1, "a number in (0, 1)")?;
        check((0.0..1.0).contains(&b2), "betas[1]", b2, "a number in [0, 1)")?;
        check(
            self.eps >= 0.0 && self.eps.is_finite(),
            "eps",
            self.eps,
            "a finite number >= 0",
        )?;
        let shared = Shared {
            beta: b1,
            weight_decay: self.weight_decay,
            warmup_steps: self.warmup_steps,
            r: self.r,
            weight_lr_power: self.weight_lr_power,
        };
        build(
            Base::AdamW {
                beta2: b2,
                eps: self.eps,
            },
            shared,
            model,
        )
    }
}

fn build<M: Module>(
    base: Base,
    shared: Shared,
    model: &M,
) -> Result<(ModuleOptimizer, ScheduleFreeWeights), AveragingError> {
    let finite = "a finite number >= 0";
    check(
        shared.weight_decay >= 0.0 && shared.weight_decay.is_finite(),
        "weight_decay",
        shared.weight_decay,
        finite,
    )?;
    check(shared.r >= 0.0 && shared.r.is_finite(), "r", shared.r, finite)?;
    let power = shared.weight_lr_power;
    check(power >= 0.0 && power.is_finite(), "weight_lr_power", power, finite)?;
    let fallback = ScheduleFree {
        base,
        shared,
        slot: None,
    };
    let mut optimizer = ModuleOptimizer::from(fallback.clone());
    let mut slots = HashMap::new();
    // One group per parameter, matched by its path: a checkpoint loaded into the model gives
    // its parameters the ids of the run that wrote it, and their paths stay.
    for leaf in leaves(model).into_iter().filter(|leaf| !leaf.buffer) {
        let slot: ZSlot = Arc::default();
        let one = ScheduleFree {
            slot: Some(slot.clone()),
            ..fallback.clone()
        };
        optimizer = optimizer.with_group(ParamGroup::from_paths(vec![leaf.path.clone()]), one, None);
        slots.insert(leaf.path, slot);
    }
    let weights = ScheduleFreeWeights {
        beta: shared.beta,
        adamw: matches!(base, Base::AdamW { .. }),
        slots,
    };
    Ok((optimizer, weights))
}

/// One parameter's step of the reference's `SGDScheduleFree` / `AdamWScheduleFree` (its
/// `foreach=False` arithmetic, with PyTorch's `lerp`). Built by the configs' `init`.
#[derive(Clone)]
pub struct ScheduleFree {
    base: Base,
    shared: Shared,
    slot: Option<ZSlot>,
}

/// A parameter's schedule-free state: `z`, AdamW's `exp_avg_sq`, and the reference's per-group
/// scalars `k` (updates done), `weight_sum`, `lr_max`, kept per parameter (equal across them).
#[derive(Clone)]
pub struct ScheduleFreeState<const D: usize> {
    z: Tensor<D>,
    exp_avg_sq: Option<Tensor<D>>,
    k: u64,
    weight_sum: f64,
    lr_max: f64,
}

impl ScheduleFree {
    /// The reference's scalars for update `k + 1`: the warmed-up LR, `ckp1`, and the new
    /// `weight_sum` and `lr_max`.
    fn scalars(&self, lr: LearningRate, k: u64, weight_sum: f64, lr_max: f64) -> (f64, f64, f64, f64) {
        let s = &self.shared;
        let sched = if k < s.warmup_steps {
            (k + 1) as f64 / s.warmup_steps as f64
        } else {
            1.0
        };
        let lr = lr * sched;
        let lr_max = lr.max(lr_max);
        let weight = ((k + 1) as f64).powf(s.r) * lr_max.powf(s.weight_lr_power);
        let weight_sum = weight_sum + weight;
        let ckp1 = if weight_sum == 0.0 { 0.0 } else { weight / weight_sum };
        (lr, ckp1, weight_sum, lr_max)
    }
}

impl Optimizer for ScheduleFree {
    type State<const D: usize> = ScheduleFreeState<D>;

    fn step<const D: usize>(
        &self,
        lr: LearningRate,
        y: Tensor<D>,
        grad: Tensor<D>,
        state: Option<Self::State<D>>,
    ) -> (Tensor<D>, Option<Self::State<D>>) {
        let (z, v, k, weight_sum, lr_max) = match state {
            Some(s) => (s.z, s.exp_avg_sq, s.k, s.weight_sum, s.lr_max),
            None => (y.clone(), None, 0, 0.0, -1.0),
        };
        let (lr, ckp1, weight_sum, lr_max) = self.scalars(lr, k, weight_sum, lr_max);
        let wd = self.shared.weight_decay;
        let (grad, exp_avg_sq) = match self.base {
            Base::Sgd => (
                if wd != 0.0 {
                    grad + y.clone().mul_scalar(wd)
                } else {
                    grad
                },
                None,
            ),
            Base::AdamW { beta2, eps } => {
                let v = v.unwrap_or_else(|| grad.zeros_like()).mul_scalar(beta2)
                    + grad.clone().square().mul_scalar(1.0 - beta2);
                let denom = v
                    .clone()
                    .div_scalar(1.0 - beta2.powf((k + 1) as f64))
                    .sqrt()
                    .add_scalar(eps);
                let normalized = grad / denom;
                let normalized = if wd != 0.0 {
                    normalized + y.clone().mul_scalar(wd)
                } else {
                    normalized
                };
                (normalized, Some(v))
            }
        };
        let y = lerp(y, z.clone(), ckp1) + grad.clone().mul_scalar(lr * (self.shared.beta * (1.0 - ckp1) - 1.0));
        let z = z - grad.mul_scalar(lr);
        if let Some(slot) = &self.slot {
            let numel = z.shape().num_elements();
            *slot.lock().unwrap_or_else(|e| e.into_inner()) = Some(z.clone().reshape([numel]));
        }
        let state = ScheduleFreeState {
            z,
            exp_avg_sq,
            k: k + 1,
            weight_sum,
            lr_max,
        };
        (y, Some(state))
    }

    fn to_device<const D: usize>(mut state: Self::State<D>, device: &Device) -> Self::State<D> {
        state.z = state.z.to_device(device);
        state.exp_avg_sq = state.exp_avg_sq.map(|v| v.to_device(device));
        state
    }
}

impl<const D: usize> RecordState for ScheduleFreeState<D> {
    fn state_flatten(&self, prefix: &str, out: &mut StateSink) {
        out.push_tensor(prefix, "z", self.z.to_data());
        if let Some(v) = &self.exp_avg_sq {
            out.push_tensor(prefix, "exp_avg_sq", v.to_data());
        }
        // k, weight_sum, lr_max: one f64 leaf (k exact up to 2^53 updates).
        let scalars = TensorData::new(vec![self.k as f64, self.weight_sum, self.lr_max], [3]);
        out.push_tensor(prefix, "schedule_free", scalars);
    }

    fn state_unflatten(prefix: &str, src: &mut StateSource, device: &Device) -> Option<Self> {
        let z = Tensor::from_data(src.take_tensor(prefix, "z")?, device);
        let exp_avg_sq = src
            .take_tensor(prefix, "exp_avg_sq")
            .map(|v| Tensor::from_data(v, device));
        let scalars: Vec<f64> = src
            .take_tensor(prefix, "schedule_free")?
            .convert::<f64>()
            .try_to_vec::<f64>()
            .ok()?;
        let [k, weight_sum, lr_max] = scalars[..] else {
            return None;
        };
        Some(Self {
            z,
            exp_avg_sq,
            k: k as u64,
            weight_sum,
            lr_max,
        })
    }
}

/// The handle that turns the model's `y` into the reference's `x` (`optimizer.eval()`): what is
/// evaluated and saved. Made with the optimizer by the configs' `init`.
#[derive(Clone)]
pub struct ScheduleFreeWeights {
    beta: f64,
    adamw: bool,
    /// `z` of each parameter, by its dotted path in the module.
    slots: HashMap<String, ZSlot>,
}

impl ScheduleFreeWeights {
    /// `x` for the live model (which holds `y`): each parameter `lerp(y, z, 1 - 1/β)`, the
    /// reference's `eval()`; a parameter not stepped yet by this optimizer value keeps `y`, as in
    /// the reference (after a resume, `x` is known again after the first update). Running
    /// statistics are kept: recompute them for `x` with [`update_bn`](super::update_bn).
    pub fn eval<M: Module>(&self, model: M) -> M {
        model.valid().map(&mut ToX {
            weights: self,
            path: Vec::new(),
        })
    }

    /// Checks that an optimizer record (Burn's `checkpoint/optim-N.bpk`) holds this optimizer's
    /// state (`z` and the reference's counters, AdamW's `exp_avg_sq`), so loading it does not
    /// silently restart the average (Burn re-initializes a state it cannot read).
    /// Errors: [`AveragingError::Resume`] naming what the record holds instead.
    pub fn check_record(&self, record: crate::burn::optim::OptimizerRecord, path: &str) -> Result<(), AveragingError> {
        let refuse = |why: &str| AveragingError::Resume {
            path: path.to_string(),
            why: why.to_string(),
        };
        if record.is_empty() {
            return Err(refuse("it holds no optimizer state"));
        }
        let bytes = record.into_bytes().map_err(|e| refuse(&format!("unreadable ({e})")))?;
        let holds = |name: &[u8]| bytes.windows(name.len()).any(|w| w == name);
        let (sf, adam) = (holds(b".schedule_free"), holds(b".exp_avg_sq"));
        match (sf, adam, self.adamw) {
            (false, _, _) => Err(refuse("it was written by another optimizer (no schedule-free state)")),
            (true, false, true) => Err(refuse(
                "it was written by SGDScheduleFree, this run uses AdamWScheduleFree",
            )),
            (true, true, false) => Err(refuse(
                "it was written by AdamWScheduleFree, this run uses SGDScheduleFree",
            )),
            _ => Ok(()),
        }
    }

    /// How many parameters have a `z` (were stepped by this optimizer value), of how many.
    pub fn known(&self) -> (usize, usize) {
        let known = self
            .slots
            .values()
            .filter(|s| s.lock().map(|z| z.is_some()).unwrap_or(false))
            .count();
        (known, self.slots.len())
    }
}

struct ToX<'a> {
    weights: &'a ScheduleFreeWeights,
    path: Vec<String>,
}

impl ModuleMapper for ToX<'_> {
    fn enter_module(&mut self, name: &str, _container_type: &str) {
        self.path.push(name.to_string());
    }

    fn exit_module(&mut self, _name: &str, _container_type: &str) {
        self.path.pop();
    }

    fn map_float<const D: usize>(&mut self, param: Param<Tensor<D>>) -> Param<Tensor<D>> {
        let z = self
            .weights
            .slots
            .get(&self.path.join("."))
            .and_then(|slot| slot.lock().ok().and_then(|z| z.clone()));
        let Some(z) = z else { return param };
        let beta = self.weights.beta;
        param.map(|y| {
            let z = z.reshape(y.dims()).to_device(&y.device());
            lerp(y, z, 1.0 - 1.0 / beta)
        })
    }
}
