//! CIFAR ResNets (He et al. 2016, "Deep Residual Learning for Image Recognition").
//!
//! - ResNet-8/20/32/56 (paper §4.2): a 3×3 stem with 16 channels, three stages of `n` basic
//!   blocks (16, 32, 64 channels; `n = 1, 3, 5, 9`), global average pooling, a linear classifier.
//! - ResNet-18/50: the ImageNet block layouts (`[2,2,2,2]` basic, `[3,4,6,3]` bottleneck, 64 to
//!   512 channels) with the CIFAR stem: one 3×3 stride-1 convolution, no max-pool.
//!
//! - ResNet-9 (David Page, "How to train your ResNet", 2018, the DAWNBench CIFAR-10 entry): a
//!   3×3 conv of 64 channels; three layers of conv + BN + ReLU + 2×2 max-pool (128, 256, 512
//!   channels), the first and the last followed by a residual of two conv-BN-ReLU (`x + f(x)`);
//!   a global max-pool; a linear classifier without bias whose logits are scaled by 0.125.
//!
//! Down-sampling shortcuts are 1×1 convolutions + batch norm (the paper's option B).
//! Convolutions use Kaiming-normal init (fan-out, ReLU gain), as `torchvision` does.
//! Input `[batch, 3, 32, 32]`, output logits `[batch, num_classes]`.

pub mod flops;

use crate::conv::{conv2d, ConvKernel};
use crate::data::CifarBatch;
use burn::module::{Initializer, Module};
use burn::nn::conv::{Conv2d, Conv2dConfig};
use burn::nn::loss::CrossEntropyLossConfig;
use burn::nn::pool::{AdaptiveAvgPool2d, AdaptiveAvgPool2dConfig, MaxPool2d, MaxPool2dConfig};
use burn::nn::{BatchNorm, BatchNormConfig, Linear, LinearConfig, PaddingConfig2d};
use burn::tensor::activation::relu;
use burn::tensor::{Device, Tensor};
use burn::train::{ClassificationOutput, InferenceStep, TrainOutput, TrainStep};
use serde::{Deserialize, Serialize};

/// The supported architectures (TOML `[model] arch`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Arch {
    /// ResNet-8 (`n = 1`, the smallest of the paper's 6n+2 family), 0.08 M parameters.
    Resnet8,
    /// ResNet-20, 0.27 M parameters.
    Resnet20,
    /// ResNet-32, 0.46 M parameters.
    Resnet32,
    /// ResNet-56, 0.85 M parameters.
    Resnet56,
    /// ResNet-18 with a CIFAR stem, 11.2 M parameters.
    Resnet18,
    /// ResNet-50 with a CIFAR stem, 23.5 M parameters.
    Resnet50,
    /// David Page's DAWNBench ResNet-9, 6.57 M parameters (see the module documentation).
    Resnet9,
    /// A two-block, 8/16-channel residual network (~4 k parameters) for tests and smoke runs.
    Tiny,
}

/// Page's output scale of ResNet-9's logits.
const RESNET9_SCALE: f32 = 0.125;

fn conv(c_in: usize, c_out: usize, k: usize, stride: usize, device: &Device) -> Conv2d {
    let p = k / 2;
    Conv2dConfig::new([c_in, c_out], [k, k])
        .with_stride([stride, stride])
        .with_padding(PaddingConfig2d::Explicit(p, p, p, p))
        .with_bias(false)
        .with_initializer(Initializer::KaimingNormal {
            gain: 2f64.sqrt(),
            fan_out_only: true,
        })
        .init(device)
}

fn bn(c: usize, device: &Device) -> BatchNorm {
    BatchNormConfig::new(c).init(device)
}

/// A 1×1 projection shortcut.
#[derive(Module, Debug)]
pub struct Shortcut {
    conv: Conv2d,
    bn: BatchNorm,
}

/// A residual block: basic (two 3×3 convs) or bottleneck (1×1, 3×3, 1×1 with `conv3`).
#[derive(Module, Debug)]
pub struct Block {
    conv1: Conv2d,
    bn1: BatchNorm,
    conv2: Conv2d,
    bn2: BatchNorm,
    conv3: Option<Conv2d>,
    bn3: Option<BatchNorm>,
    shortcut: Option<Shortcut>,
}

impl Block {
    fn basic(c_in: usize, c_out: usize, stride: usize, device: &Device) -> Self {
        Self {
            conv1: conv(c_in, c_out, 3, stride, device),
            bn1: bn(c_out, device),
            conv2: conv(c_out, c_out, 3, 1, device),
            bn2: bn(c_out, device),
            conv3: None,
            bn3: None,
            shortcut: (stride != 1 || c_in != c_out).then(|| Shortcut {
                conv: conv(c_in, c_out, 1, stride, device),
                bn: bn(c_out, device),
            }),
        }
    }

    fn bottleneck(c_in: usize, width: usize, stride: usize, device: &Device) -> Self {
        let c_out = width * 4;
        Self {
            conv1: conv(c_in, width, 1, 1, device),
            bn1: bn(width, device),
            conv2: conv(width, width, 3, stride, device),
            bn2: bn(width, device),
            conv3: Some(conv(width, c_out, 1, 1, device)),
            bn3: Some(bn(c_out, device)),
            shortcut: (stride != 1 || c_in != c_out).then(|| Shortcut {
                conv: conv(c_in, c_out, 1, stride, device),
                bn: bn(c_out, device),
            }),
        }
    }

    fn forward(&self, x: Tensor<4>, k: ConvKernel) -> Tensor<4> {
        let identity = match &self.shortcut {
            Some(s) => s.bn.forward(conv2d(&s.conv, x.clone(), k)),
            None => x.clone(),
        };
        let mut y = relu(self.bn1.forward(conv2d(&self.conv1, x, k)));
        y = self.bn2.forward(conv2d(&self.conv2, y, k));
        if let (Some(conv3), Some(bn3)) = (&self.conv3, &self.bn3) {
            y = bn3.forward(conv2d(conv3, relu(y), k));
        }
        relu(y + identity)
    }
}

/// Two 3×3 conv-BN-ReLU of `c` channels added to their input: ResNet-9's residual.
#[derive(Module, Debug)]
pub struct Residual {
    conv1: Conv2d,
    bn1: BatchNorm,
    conv2: Conv2d,
    bn2: BatchNorm,
}

/// A layer of ResNet-9: 3×3 conv, BN, ReLU, 2×2 max-pool, then its residual if it has one.
#[derive(Module, Debug)]
pub struct Stage {
    conv: Conv2d,
    bn: BatchNorm,
    pool: MaxPool2d,
    res: Option<Residual>,
}

impl Stage {
    fn new(c_in: usize, c_out: usize, residual: bool, device: &Device) -> Self {
        Self {
            conv: conv(c_in, c_out, 3, 1, device),
            bn: bn(c_out, device),
            pool: MaxPool2dConfig::new([2, 2]).with_strides([2, 2]).init(),
            res: residual.then(|| Residual {
                conv1: conv(c_out, c_out, 3, 1, device),
                bn1: bn(c_out, device),
                conv2: conv(c_out, c_out, 3, 1, device),
                bn2: bn(c_out, device),
            }),
        }
    }

    fn forward(&self, x: Tensor<4>, k: ConvKernel) -> Tensor<4> {
        let x = self.pool.forward(relu(self.bn.forward(conv2d(&self.conv, x, k))));
        match &self.res {
            Some(r) => {
                let y = relu(r.bn1.forward(conv2d(&r.conv1, x.clone(), k)));
                x + relu(r.bn2.forward(conv2d(&r.conv2, y, k)))
            }
            None => x,
        }
    }
}

/// A CIFAR ResNet; see the module documentation.
#[derive(Module, Debug)]
pub struct ResNet {
    stem: Conv2d,
    stem_bn: BatchNorm,
    blocks: Vec<Block>,
    /// ResNet-9's layers (empty for the others).
    stages: Vec<Stage>,
    pool: AdaptiveAvgPool2d,
    fc: Linear,
    /// ResNet-9: a global max-pool (the others average) and logits times [`RESNET9_SCALE`].
    page_head: bool,
    /// The loss's label smoothing (`[training] label_smoothing`; 0: none). A constant: not in
    /// the checkpoint, set from the config when the model is built.
    label_smoothing: f32,
    /// The convolution it computes with (`[training] cpu_conv`; default Burn's). Not in the
    /// checkpoint: the same weights in either.
    #[module(skip)]
    conv_kernel: ConvKernel,
}

impl ResNet {
    /// Builds `arch` with `num_classes` outputs on `device` (autodiff for training) with the
    /// initial weights of `seed`, drawn on the CPU (Burn's flex) and then moved: a seed starts
    /// from the same weights on every device, as a PyTorch model built on the CPU and moved
    /// with `.to(device)` does. (Built directly on a device, the weights would come from that
    /// backend's own generator.)
    pub fn seeded(arch: Arch, num_classes: usize, seed: u64, device: &Device) -> Self {
        // Burn's CPU generator is one per process: seed and draw without another model (another
        // thread's run) drawing in between.
        static DRAWING: std::sync::Mutex<()> = std::sync::Mutex::new(());
        let _drawing = DRAWING.lock().unwrap_or_else(|e| e.into_inner());
        Device::flex().seed(seed);
        let cpu = match device.is_autodiff() {
            true => Device::flex().autodiff(),
            false => Device::flex(),
        };
        let model = Self::new(arch, num_classes, &cpu);
        // Burn draws a parameter at its first use: draw them all now, in module order.
        struct Draw;
        impl burn::module::ModuleVisitor for Draw {
            fn visit_float<const D: usize>(&mut self, param: &burn::module::Param<Tensor<D>>) {
                let _ = param.val();
            }
        }
        model.visit(&mut Draw);
        // In the device's float type (`[training] precision`; drawn in the CPU's).
        let dtype = device.settings().float_dtype;
        crate::device::cast_floats(model.fork(device), dtype)
    }

    /// Builds `arch` with `num_classes` outputs on `device`.
    pub fn new(arch: Arch, num_classes: usize, device: &Device) -> Self {
        let mut blocks = Vec::new();
        let mut stages = Vec::new();
        let (stem_c, c_final) = match arch {
            Arch::Resnet9 => {
                stages.push(Stage::new(64, 128, true, device));
                stages.push(Stage::new(128, 256, false, device));
                stages.push(Stage::new(256, 512, true, device));
                (64, 512)
            }
            Arch::Resnet8 | Arch::Resnet20 | Arch::Resnet32 | Arch::Resnet56 => {
                let n = match arch {
                    Arch::Resnet8 => 1,
                    Arch::Resnet20 => 3,
                    Arch::Resnet32 => 5,
                    _ => 9,
                };
                let mut c_in = 16;
                for (stage, c) in [16, 32, 64].into_iter().enumerate() {
                    for i in 0..n {
                        let stride = if stage > 0 && i == 0 { 2 } else { 1 };
                        blocks.push(Block::basic(c_in, c, stride, device));
                        c_in = c;
                    }
                }
                (16, 64)
            }
            Arch::Resnet18 => {
                let mut c_in = 64;
                for (stage, c) in [64, 128, 256, 512].into_iter().enumerate() {
                    for i in 0..2 {
                        let stride = if stage > 0 && i == 0 { 2 } else { 1 };
                        blocks.push(Block::basic(c_in, c, stride, device));
                        c_in = c;
                    }
                }
                (64, 512)
            }
            Arch::Tiny => {
                blocks.push(Block::basic(8, 8, 1, device));
                blocks.push(Block::basic(8, 16, 2, device));
                (8, 16)
            }
            Arch::Resnet50 => {
                let mut c_in = 64;
                for (stage, (w, n)) in [(64, 3), (128, 4), (256, 6), (512, 3)].into_iter().enumerate() {
                    for i in 0..n {
                        let stride = if stage > 0 && i == 0 { 2 } else { 1 };
                        blocks.push(Block::bottleneck(c_in, w, stride, device));
                        c_in = w * 4;
                    }
                }
                (64, 2048)
            }
        };
        Self {
            stem: conv(3, stem_c, 3, 1, device),
            stem_bn: bn(stem_c, device),
            blocks,
            stages,
            pool: AdaptiveAvgPool2dConfig::new([1, 1]).init(),
            // Page's classifier has no bias.
            fc: LinearConfig::new(c_final, num_classes)
                .with_bias(arch != Arch::Resnet9)
                .init(device),
            page_head: arch == Arch::Resnet9,
            label_smoothing: 0.0,
            conv_kernel: ConvKernel::Burn,
        }
    }

    /// The same network with label smoothing `a` (in [0, 1], checked by the config) in its
    /// cross-entropy loss: targets `(1 - a) * one_hot + a / num_classes`, PyTorch's
    /// `CrossEntropyLoss(label_smoothing=a)`.
    pub fn with_label_smoothing(mut self, a: f64) -> Self {
        self.label_smoothing = a as f32;
        self
    }

    /// The same network computing its convolutions with `kernel` (see [`ConvKernel`]; the
    /// weights are unchanged).
    pub fn with_conv_kernel(mut self, kernel: ConvKernel) -> Self {
        self.conv_kernel = kernel;
        self
    }

    /// The convolution it computes with.
    pub fn conv_kernel(&self) -> ConvKernel {
        self.conv_kernel
    }

    /// The classifier head (parameter paths `fc.weight`, `fc.bias`).
    pub fn head(&self) -> &Linear {
        &self.fc
    }

    /// The stem convolution (parameter path `stem.weight`).
    pub fn stem(&self) -> &Conv2d {
        &self.stem
    }

    /// Logits `[batch, num_classes]` for images `[batch, 3, 32, 32]`.
    pub fn forward(&self, images: Tensor<4>) -> Tensor<2> {
        let k = self.conv_kernel;
        let mut x = relu(self.stem_bn.forward(conv2d(&self.stem, images, k)));
        for block in &self.blocks {
            x = block.forward(x, k);
        }
        for stage in &self.stages {
            x = stage.forward(x, k);
        }
        let [b, c, _, _] = x.dims();
        if self.page_head {
            let pooled = x.max_dim(3).max_dim(2).reshape([b, c]);
            return self.fc.forward(pooled).mul_scalar(RESNET9_SCALE);
        }
        self.fc.forward(self.pool.forward(x).reshape([b, c]))
    }

    /// Forward pass plus the cross-entropy loss (mean over the batch), with the model's label
    /// smoothing (see [`Self::with_label_smoothing`]).
    pub fn forward_classification(&self, batch: CifarBatch) -> ClassificationOutput {
        let logits = self.forward(batch.images);
        // Without smoothing, Burn's plain path (bit-identical to runs before the setting).
        let smoothing = (self.label_smoothing > 0.0).then_some(self.label_smoothing);
        let loss = CrossEntropyLossConfig::new()
            .with_smoothing(smoothing)
            .init(&logits.device())
            .forward(logits.clone(), batch.targets.clone());
        ClassificationOutput::new(loss, logits, batch.targets)
    }
}

impl TrainStep for ResNet {
    type Input = CifarBatch;
    type Output = ClassificationOutput;

    fn step(&self, batch: CifarBatch) -> TrainOutput<ClassificationOutput> {
        let item = self.forward_classification(batch);
        TrainOutput::new(self, item.loss.backward(), item)
    }
}

impl InferenceStep for ResNet {
    type Input = CifarBatch;
    type Output = ClassificationOutput;

    fn step(&self, batch: CifarBatch) -> ClassificationOutput {
        self.forward_classification(batch)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use burn::tensor::{Distribution, Int, TensorData};

    /// PyTorch's `CrossEntropyLoss(label_smoothing=a)` written out: per image,
    /// `logsumexp(z) - (1 - a) * z[y] - a / K * sum(z)`, then the mean.
    fn smoothed_cross_entropy(logits: &[f32], targets: &[i64], k: usize, a: f64) -> f64 {
        let rows = logits.chunks(k).zip(targets);
        let per: Vec<f64> = rows
            .map(|(z, &y)| {
                let z: Vec<f64> = z.iter().map(|&v| v as f64).collect();
                let max = z.iter().cloned().fold(f64::NEG_INFINITY, f64::max);
                let lse = max + z.iter().map(|v| (v - max).exp()).sum::<f64>().ln();
                lse - (1.0 - a) * z[y as usize] - a / k as f64 * z.iter().sum::<f64>()
            })
            .collect();
        per.iter().sum::<f64>() / per.len() as f64
    }

    #[test]
    fn the_loss_is_pytorchs_label_smoothed_cross_entropy() {
        let device = Device::flex();
        let images = Tensor::<4>::random([4, 3, 32, 32], Distribution::Normal(0.0, 1.0), &device);
        let targets = [3_i64, 0, 9, 3];
        for a in [0.0, 0.1, 0.4] {
            let model = ResNet::new(Arch::Tiny, 10, &device).with_label_smoothing(a);
            let batch = CifarBatch {
                images: images.clone(),
                targets: Tensor::<1, Int>::from_data(TensorData::from(targets), &device),
            };
            let logits = model.forward(images.clone()).into_data().try_to_vec::<f32>().unwrap();
            let loss = model.forward_classification(batch).loss.into_scalar::<f32>() as f64;
            let want = smoothed_cross_entropy(&logits, &targets, 10, a);
            assert!((loss - want).abs() <= 1e-5 * want, "a = {a}: {loss} vs {want}");
        }
    }

    #[test]
    fn shapes_and_sizes() {
        let device = Device::flex();
        for (arch, params) in [
            (Arch::Tiny, 0..10_000),
            (Arch::Resnet8, 70_000..90_000),
            (Arch::Resnet20, 265_000..285_000),
            (Arch::Resnet9, 6_570_000..6_580_000),
        ] {
            let model = ResNet::new(arch, 10, &device);
            let n = model.num_params();
            assert!(params.contains(&n), "{arch:?}: {n} parameters");
            let logits = model.forward(Tensor::zeros([2, 3, 32, 32], &device));
            assert_eq!(logits.dims(), [2, 10]);
        }
        // The big ones: sizes only (their forward pass is slow in a test).
        for (arch, params) in [
            (Arch::Resnet56, 840_000..880_000),
            (Arch::Resnet18, 11_100_000..11_250_000),
            (Arch::Resnet50, 23_400_000..23_700_000),
        ] {
            let n = ResNet::new(arch, 10, &device).num_params();
            assert!(params.contains(&n), "{arch:?}: {n} parameters");
        }
    }
}
