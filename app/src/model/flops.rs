//! The FLOPs of a training step counted from the layers, and the model-FLOP utilisation (MFU)
//! they give against a device's peak: a GPU figure read against the hardware's limit even where
//! no PyTorch runs beside it.
//!
//! Counted as in the usual MFU accounting (Kaplan et al. 2020, "Scaling Laws for Neural Language
//! Models"; Chowdhery et al. 2022, PaLM, appendix B): 2 FLOPs per multiply-add of every
//! convolution and of the classifier; batch norm, ReLU, pooling and the loss are left out; a
//! training step is 3x the forward pass (the backward pass computes the input and the weight
//! gradients, each as costly as the forward pass).

use super::{Block, ResNet, Stage};
use burn::nn::conv::Conv2d;
use burn::nn::Linear;

/// Dense peak throughput of common accelerators (TFLOP/s, no sparsity), from their makers' data
/// sheets: `(name, f32, bf16)`; `bf16` is the tensor-core rate with f32 accumulation, `None`
/// where the chip has no bf16 tensor cores (V100, T4: f16 only). H100 and H200 are the SXM
/// parts.
pub const PEAKS: &[(&str, f64, Option<f64>)] = &[
    ("H200", 67.0, Some(989.4)),
    ("H100", 67.0, Some(989.4)),
    ("A100", 19.5, Some(312.0)),
    ("L4", 30.3, Some(121.0)),
    ("V100", 15.7, None),
    ("T4", 8.1, None),
    ("RTX4090", 82.6, Some(165.2)),
    ("RTX3090", 35.6, Some(71.0)),
];

/// The peak of `name` (case and spaces ignored: `rtx 4090` is `RTX4090`) from [`PEAKS`].
pub fn peak(name: &str) -> Option<(&'static str, f64, Option<f64>)> {
    let key: String = name
        .chars()
        .filter(|c| !c.is_whitespace())
        .collect::<String>()
        .to_uppercase();
    PEAKS.iter().copied().find(|(n, _, _)| *n == key)
}

/// FLOPs of `conv` on one `h` x `h` input (padding `k / 2`, as every convolution here), and the
/// side of its output.
fn conv(conv: &Conv2d, h: usize) -> (u64, usize) {
    let [c_out, c_in_per_group, kh, kw] = conv.weight.lazy_shape().dims::<4>();
    let out = (h + 2 * (kh / 2) - kh) / conv.stride[0] + 1;
    ((2 * c_out * c_in_per_group * kh * kw * out * out) as u64, out)
}

fn linear(linear: &Linear) -> u64 {
    let [d_in, d_out] = linear.weight.lazy_shape().dims::<2>();
    (2 * d_in * d_out) as u64
}

impl Block {
    fn flops(&self, h: usize) -> (u64, usize) {
        let (f1, h1) = conv(&self.conv1, h);
        let (f2, h2) = conv(&self.conv2, h1);
        let f3 = self.conv3.as_ref().map_or(0, |c| conv(c, h2).0);
        let fs = self.shortcut.as_ref().map_or(0, |s| conv(&s.conv, h).0);
        (f1 + f2 + f3 + fs, h2)
    }
}

impl Stage {
    fn flops(&self, h: usize) -> (u64, usize) {
        let (f, h) = conv(&self.conv, h);
        let h = h / 2; // the 2x2 max-pool
        let fr = self
            .res
            .as_ref()
            .map_or(0, |r| conv(&r.conv1, h).0 + conv(&r.conv2, h).0);
        (f + fr, h)
    }
}

impl ResNet {
    /// FLOPs of the forward pass of one 32x32 image (see the module documentation).
    pub fn forward_flops(&self) -> u64 {
        let (mut total, mut h) = conv(&self.stem, 32);
        for block in &self.blocks {
            let (f, out) = block.flops(h);
            (total, h) = (total + f, out);
        }
        for stage in &self.stages {
            let (f, out) = stage.flops(h);
            (total, h) = (total + f, out);
        }
        total + linear(&self.fc)
    }

    /// FLOPs of a training step per image: 3x [`Self::forward_flops`].
    pub fn train_flops(&self) -> u64 {
        3 * self.forward_flops()
    }
}

/// The model-FLOP utilisation of `images_per_s` images of `train_flops` each against a peak of
/// `peak_tflops` TFLOP/s (a fraction, 0..1).
pub fn mfu(images_per_s: f64, train_flops: u64, peak_tflops: f64) -> f64 {
    images_per_s * train_flops as f64 / (peak_tflops * 1e12)
}

#[cfg(test)]
mod tests {
    use super::super::Arch;
    use super::*;
    use burn::tensor::Device;

    #[test]
    fn forward_flops_by_hand() {
        let device = Device::flex();
        // Tiny: stem 3->8 at 32x32; block 8->8 (two 3x3 at 32); block 8->16 stride 2 (3x3 to
        // 16x16, 3x3 at 16, 1x1 shortcut at 16); fc 16->10.
        let tiny = 2 * (3 * 8 * 9 * 32 * 32)
            + 2 * 2 * (8 * 8 * 9 * 32 * 32)
            + 2 * (8 * 16 * 9 * 16 * 16 + 16 * 16 * 9 * 16 * 16 + 8 * 16 * 16 * 16)
            + 2 * 16 * 10;
        assert_eq!(ResNet::new(Arch::Tiny, 10, &device).forward_flops(), tiny);
        // ResNet-9: prep 3->64 at 32; 64->128 at 32, pool, residual 2x 128 at 16; 128->256 at
        // 16, pool; 256->512 at 8, pool, residual 2x 512 at 4; fc 512->10.
        let page = 2 * (3 * 64 * 9 * 1024)
            + 2 * (64 * 128 * 9 * 1024 + 2 * 128 * 128 * 9 * 256)
            + 2 * (128 * 256 * 9 * 256)
            + 2 * (256 * 512 * 9 * 64 + 2 * 512 * 512 * 9 * 16)
            + 2 * 512 * 10;
        let r9 = ResNet::new(Arch::Resnet9, 10, &device);
        assert_eq!(r9.forward_flops(), page);
        assert_eq!(r9.train_flops(), 3 * page);
        // ResNet-20's usual 41 M multiply-adds per image; ResNet-8's and ResNet-18's (CIFAR stem,
        // 0.56 G) by the same count. Training: ResNet-8 0.075 GFLOP, ResNet-20 0.245, ResNet-9
        // 2.28, ResNet-18 3.33 (docs/gpu-training.md).
        for (arch, flops) in [
            (Arch::Resnet8, 25003264),
            (Arch::Resnet20, 81626368),
            (Arch::Resnet18, 1110845440),
        ] {
            assert_eq!(ResNet::new(arch, 10, &device).forward_flops(), flops, "{arch:?}");
        }
    }

    #[test]
    fn peaks_and_utilisation() {
        assert_eq!(peak("h200"), Some(("H200", 67.0, Some(989.4))));
        assert_eq!(peak("RTX 4090").unwrap().0, "RTX4090");
        assert_eq!(peak("B300"), None);
        // 10,000 images/s of 1 GFLOP each on a 100 TFLOP/s part: 10%.
        assert!((mfu(10_000.0, 1_000_000_000, 100.0) - 0.1).abs() < 1e-12);
    }
}
