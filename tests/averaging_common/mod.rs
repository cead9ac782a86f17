//! Shared by the averaging tests: the reference traces, a float64 CPU device, the reference's
//! models with PyTorch's layout, and a PyTorch-convention BatchNorm1d.
#![allow(dead_code)]

use std::collections::BTreeMap;
use std::sync::OnceLock;

use burn::module::{Module, Param, RunningState};
use burn::nn::loss::CrossEntropyLossConfig;
use burn::nn::Linear;
use burn::tensor::{Device, FloatDType, Int, Tensor, TensorData};
use burn_lr::burn;
use serde_json::Value;

/// A trace of `tests/golden/averaging/` (copied from PyTorch 2.15 / schedulefree 1.4.1 runs).
pub fn trace(name: &str) -> Value {
    let path = format!("{}/tests/golden/averaging/{name}.json", env!("CARGO_MANIFEST_DIR"));
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

/// Flex with float64 tensors (configured once per process).
pub fn device() -> Device {
    static DEVICE: OnceLock<Device> = OnceLock::new();
    DEVICE
        .get_or_init(|| {
            let mut device = Device::flex();
            device.configure(FloatDType::F64).unwrap();
            device
        })
        .clone()
}

pub fn floats(v: &Value) -> Vec<f64> {
    v.as_array().unwrap().iter().map(|x| x.as_f64().unwrap()).collect()
}

/// `{"shape": [...], "values": [...]}`.
pub fn named(v: &Value) -> (Vec<usize>, Vec<f64>) {
    let shape = v["shape"]
        .as_array()
        .unwrap()
        .iter()
        .map(|x| x.as_u64().unwrap() as usize)
        .collect();
    (shape, floats(&v["values"]))
}

pub fn tensor1(values: Vec<f64>, device: &Device) -> Tensor<1> {
    let n = values.len();
    Tensor::from_data(TensorData::new(values, [n]), device)
}

/// A `[rows, cols]` tensor from rows of numbers.
pub fn matrix(rows: &Value, device: &Device) -> Tensor<2> {
    let rows: Vec<Vec<f64>> = rows.as_array().unwrap().iter().map(floats).collect();
    let cols = rows[0].len();
    let n = rows.len();
    Tensor::from_data(TensorData::new(rows.concat(), [n, cols]), device)
}

pub fn targets(v: &Value, device: &Device) -> Tensor<1, Int> {
    let t: Vec<i64> = v.as_array().unwrap().iter().map(|x| x.as_i64().unwrap()).collect();
    let n = t.len();
    Tensor::from_data(TensorData::new(t, [n]), device)
}

pub fn values<const D: usize>(t: Tensor<D>) -> Vec<f64> {
    t.into_data().convert::<f64>().try_to_vec::<f64>().unwrap()
}

/// A Linear from PyTorch's `[out, in]` weight and bias.
pub fn linear(init: &Value, name: &str, device: &Device) -> Linear {
    let (shape, w) = named(&init[format!("{name}.weight")]);
    let weight = Tensor::<2>::from_data(TensorData::new(w, [shape[0], shape[1]]), device).transpose();
    let (_, b) = named(&init[format!("{name}.bias")]);
    Linear {
        weight: Param::from_tensor(weight),
        bias: Some(Param::from_tensor(tensor1(b, device))),
    }
}

/// A Linear's weight and bias in PyTorch's layout, under `name`.
pub fn linear_values(l: &Linear, name: &str, out: &mut BTreeMap<String, Vec<f64>>) {
    out.insert(format!("{name}.weight"), values(l.weight.val().transpose()));
    out.insert(format!("{name}.bias"), values(l.bias.as_ref().unwrap().val()));
}

/// PyTorch's `BatchNorm1d(n, momentum, eps)`: batch statistics in train mode (input on an
/// autodiff device), the running variance updated with the unbiased batch variance.
#[derive(Module, Debug)]
pub struct TorchBatchNorm {
    pub gamma: Param<Tensor<1>>,
    pub beta: Param<Tensor<1>>,
    pub running_mean: RunningState<Tensor<1>>,
    pub running_var: RunningState<Tensor<1>>,
    pub momentum: f64,
    pub eps: f64,
}

impl TorchBatchNorm {
    pub fn forward(&self, x: Tensor<2>) -> Tensor<2> {
        let [n, c] = x.dims();
        let device = x.device();
        let (mean, var) = if device.is_autodiff() {
            let mean = x.clone().mean_dim(0);
            let biased = (x.clone() - mean.clone()).square().mean_dim(0);
            let m = self.momentum;
            let rm = self.running_mean.value_sync().to_device(&device);
            let rv = self.running_var.value_sync().to_device(&device);
            let unbiased = biased
                .clone()
                .detach()
                .reshape([c])
                .mul_scalar(n as f64 / (n as f64 - 1.0));
            self.running_mean
                .update((rm.mul_scalar(1.0 - m) + mean.clone().detach().reshape([c]).mul_scalar(m)).detach());
            self.running_var
                .update((rv.mul_scalar(1.0 - m) + unbiased.mul_scalar(m)).detach());
            (mean, biased)
        } else {
            let mean = self.running_mean.value().to_device(&device).reshape([1, c]);
            let var = self.running_var.value().to_device(&device).reshape([1, c]);
            (mean, var)
        };
        let normalized = (x - mean) / var.add_scalar(self.eps).sqrt();
        normalized * self.gamma.val().reshape([1, c]) + self.beta.val().reshape([1, c])
    }
}

/// `Linear(4,6) -> BatchNorm1d(6) -> ReLU -> Linear(6,3)`.
#[derive(Module, Debug)]
pub struct BnNet {
    pub fc1: Linear,
    pub bn: TorchBatchNorm,
    pub fc2: Linear,
}

impl BnNet {
    pub fn from_init(init: &Value, device: &Device) -> Self {
        let v = |k: &str| tensor1(named(&init[k]).1, device);
        Self {
            fc1: linear(init, "fc1", device),
            bn: TorchBatchNorm {
                gamma: Param::from_tensor(v("bn.weight")),
                beta: Param::from_tensor(v("bn.bias")),
                running_mean: RunningState::new(v("bn.running_mean")),
                running_var: RunningState::new(v("bn.running_var")),
                momentum: 0.1,
                eps: 1e-5,
            },
            fc2: linear(init, "fc2", device),
        }
    }

    pub fn forward(&self, x: Tensor<2>) -> Tensor<2> {
        let h = self.bn.forward(self.fc1.forward(x));
        self.fc2.forward(burn::tensor::activation::relu(h))
    }

    /// Every tensor under PyTorch's `state_dict` names and layout.
    pub fn state(&self) -> BTreeMap<String, Vec<f64>> {
        let mut out = BTreeMap::new();
        linear_values(&self.fc1, "fc1", &mut out);
        out.insert("bn.weight".into(), values(self.bn.gamma.val()));
        out.insert("bn.bias".into(), values(self.bn.beta.val()));
        out.insert("bn.running_mean".into(), values(self.bn.running_mean.value_sync()));
        out.insert("bn.running_var".into(), values(self.bn.running_var.value_sync()));
        linear_values(&self.fc2, "fc2", &mut out);
        out
    }
}

/// `Linear(4,6) -> tanh -> Linear(6,3)`.
#[derive(Module, Debug)]
pub struct TanhNet {
    pub fc1: Linear,
    pub fc2: Linear,
}

impl TanhNet {
    pub fn from_init(init: &Value, device: &Device) -> Self {
        Self {
            fc1: linear(init, "fc1", device),
            fc2: linear(init, "fc2", device),
        }
    }

    pub fn forward(&self, x: Tensor<2>) -> Tensor<2> {
        self.fc2.forward(self.fc1.forward(x).tanh())
    }

    pub fn state(&self) -> BTreeMap<String, Vec<f64>> {
        let mut out = BTreeMap::new();
        linear_values(&self.fc1, "fc1", &mut out);
        linear_values(&self.fc2, "fc2", &mut out);
        out
    }
}

/// Mean cross-entropy, as `torch.nn.functional.cross_entropy`.
pub fn loss(logits: Tensor<2>, y: Tensor<1, Int>) -> Tensor<1> {
    CrossEntropyLossConfig::new().init(&logits.device()).forward(logits, y)
}

/// Every recorded tensor equal within `tol` (relative, absolute below 1).
pub fn assert_state(what: &str, ours: &BTreeMap<String, Vec<f64>>, reference: &Value, tol: f64) {
    for (name, v) in reference.as_object().unwrap() {
        let expected = named(v).1;
        let got = ours.get(name).unwrap_or_else(|| panic!("{what}: no {name}"));
        assert_close(&format!("{what} {name}"), got, &expected, tol);
    }
}

pub fn assert_close(what: &str, got: &[f64], expected: &[f64], tol: f64) {
    assert_eq!(got.len(), expected.len(), "{what}: length");
    for (i, (g, e)) in got.iter().zip(expected).enumerate() {
        assert!((g - e).abs() <= tol * e.abs().max(1.0), "{what}[{i}]: {g} != {e}");
    }
}

/// `torch.optim.SGD(lr, momentum)` (dampening 0, no weight decay) with the momentum in float64:
/// Burn's `Momentum` keeps it as an `f32` (0.9 becomes 0.899999976), 2e-8 away from PyTorch's
/// float64 trace after two updates.
#[derive(Clone)]
pub struct Sgd64 {
    pub momentum: f64,
}

/// Sgd64's velocity.
#[derive(Clone)]
pub struct Velocity<const D: usize>(Tensor<D>);

impl<const D: usize> burn::optim::RecordState for Velocity<D> {
    fn state_flatten(&self, prefix: &str, out: &mut burn::optim::StateSink) {
        out.push_tensor(prefix, "velocity", self.0.to_data());
    }

    fn state_unflatten(prefix: &str, src: &mut burn::optim::StateSource, device: &Device) -> Option<Self> {
        Some(Self(Tensor::from_data(src.take_tensor(prefix, "velocity")?, device)))
    }
}

impl burn::optim::Optimizer for Sgd64 {
    type State<const D: usize> = Velocity<D>;

    fn step<const D: usize>(
        &self,
        lr: burn::optim::LearningRate,
        tensor: Tensor<D>,
        grad: Tensor<D>,
        state: Option<Self::State<D>>,
    ) -> (Tensor<D>, Option<Self::State<D>>) {
        let velocity = match state {
            Some(Velocity(v)) => v.mul_scalar(self.momentum) + grad,
            None => grad,
        };
        (tensor - velocity.clone().mul_scalar(lr), Some(Velocity(velocity)))
    }

    fn to_device<const D: usize>(state: Self::State<D>, device: &Device) -> Self::State<D> {
        Velocity(state.0.to_device(device))
    }
}
