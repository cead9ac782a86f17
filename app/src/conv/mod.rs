//! `[training] cpu_conv`: the convolution of a CPU run. Burn's flex backend convolves by im2col +
//! GEMM (its input gradient through a transposed convolution, its weight gradient as a
//! convolution of swapped dimensions); oneDNN, the library behind PyTorch's CPU convolutions,
//! is ~2x faster on a ResNet step here (docs/measured.md, "Speed"). oneDNN runs through a Burn backend
//! extension ([`extension::OneDnnConv`]) for the forward pass and both gradients; batch norm,
//! pooling and everything else stay Burn's, and GPU devices never use it.
//!
//! ```toml
//! [training]
//! cpu_conv = "auto"   # auto (default) | onednn | burn
//! ```
//!
//! or `burn-lr train --cpu-conv onednn`.

pub mod elf;
pub mod extension;
pub mod onednn;
mod onednn_api;

use burn::backend::{Dispatch, DispatchDevice};
use burn::nn::conv::Conv2d;
use burn::nn::PaddingConfig2d;
use burn::tensor::{DType, Device, Tensor};
use serde::{Deserialize, Serialize};

use extension::OneDnnConv;

/// TOML `[training] cpu_conv`: which convolution a CPU (flex) run in f32 uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum CpuConv {
    /// oneDNN when `libdnnl.so.2` opens (`apt-get install libdnnl-dev`), else Burn's; Burn's on
    /// a GPU or in bf16/f16. The default.
    #[default]
    Auto,
    /// oneDNN, or one line and exit code 2 where it cannot run (library missing, a GPU device,
    /// a precision other than f32).
    Onednn,
    /// Burn's own convolution (flex's im2col + GEMM).
    Burn,
}

/// The convolution a model computes with, [`CpuConv`] resolved for one run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ConvKernel {
    /// The backend's own (`burn::nn::conv::Conv2d::forward`).
    #[default]
    Burn,
    /// oneDNN on the CPU ([`extension::OneDnnConv`]); a convolution it does not cover (bias,
    /// dilation, groups, asymmetric padding, another float type or device) uses Burn's.
    OneDnn,
}

impl CpuConv {
    /// The kernel for a run whose devices are the CPU (`cpu`) and whose precision is f32
    /// (`f32`).
    ///
    /// # Errors
    /// `onednn` where it cannot run: the reason, in one line.
    pub fn resolve(self, cpu: bool, f32: bool) -> Result<ConvKernel, String> {
        let why = match (cpu, f32) {
            (false, _) => Some("it runs on Burn's flex CPU backend only (device = \"cpu\")"),
            (true, false) => Some("it runs in f32 only (precision = \"f32\")"),
            (true, true) => None,
        };
        match (self, why) {
            (CpuConv::Burn, _) => Ok(ConvKernel::Burn),
            (CpuConv::Auto, Some(_)) => Ok(ConvKernel::Burn),
            (CpuConv::Auto, None) => Ok(onednn::get().map_or(ConvKernel::Burn, |_| ConvKernel::OneDnn)),
            (CpuConv::Onednn, Some(why)) => Err(format!(
                "[training] cpu_conv = \"onednn\": {why}; use \"auto\" or \"burn\""
            )),
            (CpuConv::Onednn, None) => match onednn::get() {
                Ok(_) => Ok(ConvKernel::OneDnn),
                Err(e) => Err(format!(
                    "[training] cpu_conv = \"onednn\": {e}; or use \"auto\" or \"burn\""
                )),
            },
        }
    }
}

impl ConvKernel {
    /// For the run header: `oneDNN 2.6.3 (jit:avx2)` or `Burn's`.
    pub fn describe(self) -> String {
        let probe = onednn::Conv2dShape {
            input: [8, 16, 32, 32],
            weight: [16, 16, 3, 3],
            stride: [1, 1],
            padding: [1, 1],
        };
        match (self, onednn::get()) {
            (ConvKernel::OneDnn, Ok(lib)) => match lib.implementation(&probe) {
                Ok(imp) => format!("oneDNN {} ({imp})", lib.version()),
                Err(_) => format!("oneDNN {}", lib.version()),
            },
            _ => "Burn's".into(),
        }
    }
}

/// Makes oneDNN's idle OpenMP threads sleep at once instead of spinning
/// (`OMP_WAIT_POLICY=PASSIVE`), unless the environment sets `OMP_WAIT_POLICY` itself: spinning,
/// they hold a core that Burn's own threads need between two convolutions (the ResNet-20 step
/// ~11% faster here, docs/measured.md, "Speed"). OpenMP reads it when oneDNN is first opened: call it
/// first thing in `main`, before other threads start (it sets an environment variable).
pub fn passive_openmp_threads() {
    if std::env::var_os("OMP_WAIT_POLICY").is_none() {
        std::env::set_var("OMP_WAIT_POLICY", "PASSIVE");
    }
}

/// `conv.forward(x)` with `kernel`: images `[batch, c_in, h, w]` to `[batch, c_out, oh, ow]`.
/// oneDNN where it applies (see [`ConvKernel::OneDnn`]), else Burn's.
pub fn conv2d(conv: &Conv2d, x: Tensor<4>, kernel: ConvKernel) -> Tensor<4> {
    match onednn_params(conv, &x, kernel) {
        Some([sh, sw, ph, pw]) => {
            let weight = conv.weight.val().into_dispatch();
            Tensor::from_dispatch(Dispatch::onednn_conv2d(x.into_dispatch(), weight, sh, sw, ph, pw))
        }
        None => conv.forward(x),
    }
}

/// Whether `device` is Burn's flex CPU backend (with or without autodiff), where oneDNN runs.
pub fn is_flex(device: &Device) -> bool {
    matches!(device.clone().without_autodiff().as_dispatch(), DispatchDevice::Flex(_))
}

/// `[stride_h, stride_w, pad_h, pad_w]` when `kernel` is oneDNN and it covers `conv` on `x`.
fn onednn_params(conv: &Conv2d, x: &Tensor<4>, kernel: ConvKernel) -> Option<[usize; 4]> {
    let plain = conv.bias.is_none() && conv.dilation == [1, 1] && conv.groups == 1;
    if kernel != ConvKernel::OneDnn || !plain || !is_flex(&x.device()) || x.dtype() != DType::F32 {
        return None;
    }
    let [ph, pw] = match conv.padding {
        PaddingConfig2d::Valid => [0, 0],
        PaddingConfig2d::Explicit(t, l, b, r) if t == b && l == r => [t, l],
        _ => return None,
    };
    Some([conv.stride[0], conv.stride[1], ph, pw])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn burn_is_burns_everywhere_and_auto_off_the_cpu_or_f32_too() {
        for (cpu, f32) in [(true, true), (true, false), (false, true), (false, false)] {
            assert_eq!(CpuConv::Burn.resolve(cpu, f32), Ok(ConvKernel::Burn));
        }
        for (cpu, f32) in [(true, false), (false, true), (false, false)] {
            assert_eq!(CpuConv::Auto.resolve(cpu, f32), Ok(ConvKernel::Burn));
        }
        let on_cpu = CpuConv::Auto.resolve(true, true).unwrap();
        assert_eq!(on_cpu == ConvKernel::OneDnn, onednn::get().is_ok());
    }

    #[test]
    fn onednn_where_it_cannot_run_is_one_line() {
        let gpu = CpuConv::Onednn.resolve(false, true).unwrap_err();
        assert_eq!(gpu, "[training] cpu_conv = \"onednn\": it runs on Burn's flex CPU backend only (device = \"cpu\"); use \"auto\" or \"burn\"");
        let half = CpuConv::Onednn.resolve(true, false).unwrap_err();
        assert!(half.contains("f32 only") && !half.contains('\n'), "{half}");
    }

    #[test]
    fn cpu_conv_reads_from_toml_by_its_names() {
        #[derive(Deserialize)]
        struct T {
            cpu_conv: CpuConv,
        }
        for (name, conv) in [
            ("auto", CpuConv::Auto),
            ("onednn", CpuConv::Onednn),
            ("burn", CpuConv::Burn),
        ] {
            let t: T = toml::from_str(&format!("cpu_conv = \"{name}\"")).unwrap();
            assert_eq!(t.cpu_conv, conv);
        }
        assert!(toml::from_str::<T>("cpu_conv = \"mkldnn\"").is_err());
    }
}
