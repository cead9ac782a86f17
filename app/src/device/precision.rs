//! `[training] precision`: the float type a run computes in, through Burn's device settings.

use super::error::DeviceError;
use burn::module::{Module, ModuleMapper, Param};
use burn::tensor::{DType, Device, FloatDType, Tensor};
use serde::{Deserialize, Serialize};
use std::fmt;

/// The float type of every tensor a run creates on its training devices (`[training]
/// precision`; default `f32`), set with Burn's `Device::configure` before the first tensor.
///
/// Burn 0.22 has no mixed-precision autocast (PyTorch's `torch.autocast` keeps f32 master
/// weights and runs only matmuls and convolutions in half precision). With `bf16` or `f16`
/// *everything* on the device is in that type: weights, activations, gradients, the optimizer's
/// state (momentum, Adam's moments), batch norm's running statistics and the loss, like a
/// PyTorch model after `model.to(torch.bfloat16)`. The learning rate and the schedule stay f64
/// on the host; the weights are drawn on the CPU from the seed and stored in the device's type.
///
/// `bf16` keeps f32's exponent range (no loss scaling needed) with 8 bits of mantissa; `f16`
/// has 11 bits of mantissa but overflows above 65504 and has no loss scaling here, so `bf16` is
/// the one to try first. A backend that cannot compute in the type (`DType` support as Burn
/// reports it) is refused before any data is read.
///
/// ```toml
/// [training]
/// precision = "bf16"   # f32 (default) | bf16 | f16
/// ```
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum Precision {
    /// IEEE single precision (the default).
    #[default]
    F32,
    /// bfloat16: f32's 8-bit exponent, 8-bit mantissa.
    Bf16,
    /// IEEE half precision: 5-bit exponent, 11-bit mantissa.
    F16,
}

impl Precision {
    /// Burn's float type for this precision.
    pub fn float_dtype(self) -> FloatDType {
        match self {
            Precision::F32 => FloatDType::F32,
            Precision::Bf16 => FloatDType::BF16,
            Precision::F16 => FloatDType::F16,
        }
    }

    /// The config's spelling: `f32`, `bf16`, `f16`.
    pub fn name(self) -> &'static str {
        match self {
            Precision::F32 => "f32",
            Precision::Bf16 => "bf16",
            Precision::F16 => "f16",
        }
    }
}

impl fmt::Display for Precision {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// Sets the float type of each of `devices` to `precision` (Burn's `Device::configure`), before
/// any tensor is created on them. Burn fixes a device's types once per process: a device already
/// in `precision` (an earlier call, or f32 by an earlier tensor) is fine.
///
/// # Errors
/// [`DeviceError::Precision`] where a device cannot compute in that type, or where this process
/// already uses the device with another float type.
pub fn configure(devices: &[Device], precision: Precision) -> Result<(), DeviceError> {
    let dtype = precision.float_dtype();
    for device in devices {
        let current = device.settings().float_dtype;
        if current == dtype && precision == Precision::F32 {
            // Burn's default: nothing to set (and nothing locked for a later configure).
            continue;
        }
        let err = |why: String| DeviceError::Precision {
            precision: precision.name(),
            why,
        };
        match device.clone().configure(dtype) {
            Ok(()) => {}
            Err(burn::tensor::DeviceError::UnsupportedDType { .. }) => {
                return Err(err(format!(
                    "{} cannot compute in {precision} (Burn reports no general support for it on this device); use \"f32\" or another device",
                    label(device)
                )));
            }
            Err(_) if device.settings().float_dtype == dtype => {}
            Err(_) => {
                let now = dtype_name(device.settings().float_dtype.into());
                return Err(err(format!(
                    "this process already computes in {now} on {} (Burn sets a device's float type once, before its first tensor); run it in a process of its own",
                    label(device)
                )));
            }
        }
    }
    Ok(())
}

/// How an error names `device`: `device "wgpu"` as `[training] device` names it (Burn's own
/// debug name for a backend this list does not know).
fn label(device: &Device) -> String {
    let debug = format!("{device:?}");
    [
        ("Wgpu", "wgpu"),
        ("Cuda", "cuda"),
        ("Flex", "cpu"),
        ("NdArray", "ndarray"),
    ]
    .iter()
    .find(|(part, _)| debug.contains(part))
    .map_or(debug.clone(), |(_, name)| format!("device \"{name}\""))
}

fn dtype_name(dtype: DType) -> String {
    match dtype {
        DType::F32 => "f32".into(),
        DType::BF16 => "bf16".into(),
        DType::F16 => "f16".into(),
        other => format!("{other:?}"),
    }
}

/// `module` with every float parameter and buffer (batch norm's running statistics) cast to
/// `dtype`, gradients still required where they were. The weights are drawn in f32 on the CPU;
/// this rounds them to the training device's type after the move.
pub fn cast_floats<M: Module>(module: M, dtype: FloatDType) -> M {
    struct Cast(FloatDType);
    impl ModuleMapper for Cast {
        fn map_float<const D: usize>(&mut self, param: Param<Tensor<D>>) -> Param<Tensor<D>> {
            let dtype = self.0;
            param.map(|t| {
                if FloatDType::from(t.dtype()) == dtype {
                    return t;
                }
                let grad = t.is_require_grad();
                let t = t.cast(dtype).detach();
                if grad {
                    t.require_grad()
                } else {
                    t
                }
            })
        }
    }
    module.map(&mut Cast(dtype))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_parse_and_round_trip() {
        #[derive(Deserialize, Serialize)]
        struct T {
            precision: Precision,
        }
        for p in [Precision::F32, Precision::Bf16, Precision::F16] {
            let text = toml::to_string(&T { precision: p }).unwrap();
            assert_eq!(text.trim(), format!("precision = \"{p}\""));
            assert_eq!(toml::from_str::<T>(&text).unwrap().precision, p);
        }
        let err = toml::from_str::<T>("precision = \"fp16\"").err().unwrap().to_string();
        assert!(err.contains("f32") && err.contains("bf16"), "{err}");
    }

    #[test]
    fn cast_floats_rounds_parameters_and_keeps_them_trainable() {
        use burn::nn::{BatchNorm, BatchNormConfig, Linear, LinearConfig};
        #[derive(Module, Debug)]
        struct Net {
            linear: Linear,
            norm: BatchNorm,
        }
        let device = Device::flex().autodiff();
        let net = Net {
            linear: LinearConfig::new(3, 2).init(&device),
            norm: BatchNormConfig::new(2).init(&device),
        };
        let before = net.linear.weight.val().into_data().try_to_vec::<f32>().unwrap();
        let net = cast_floats(net, FloatDType::BF16);
        let w = net.linear.weight.val();
        assert_eq!(w.dtype(), DType::BF16);
        assert!(w.is_require_grad());
        assert_eq!(net.norm.running_mean.value().dtype(), DType::BF16);
        let after = w.cast(FloatDType::F32).into_data().try_to_vec::<f32>().unwrap();
        for (a, b) in before.iter().zip(&after) {
            assert!((a - b).abs() <= a.abs() / 128.0, "{a} -> {b}");
            // Round to nearest, ties to even, on the top 16 bits.
            let bits = a.to_bits();
            let rounded = (bits + 0x7fff + ((bits >> 16) & 1)) & 0xffff_0000;
            assert_eq!(f32::from_bits(rounded), *b);
        }
    }
}
