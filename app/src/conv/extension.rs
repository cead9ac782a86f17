//! The oneDNN convolution as a Burn backend extension (`#[backend_extension(Flex, Autodiff)]`):
//! forward on Burn's flex CPU backend, and under autodiff a backward node whose input and weight
//! gradients are oneDNN's too (the structure of burn-autodiff's own `conv2d`). Anything oneDNN
//! refuses at run time falls back to flex's own convolution for that call, with one warning per
//! process, so a result is never lost.

use burn::backend::autodiff::checkpoint::base::Checkpointer;
use burn::backend::autodiff::checkpoint::strategy::CheckpointStrategy;
use burn::backend::autodiff::grads::Gradients;
use burn::backend::autodiff::ops::{Backward, Ops, OpsKind};
use burn::backend::autodiff::NodeId;
use burn::backend::flex::FlexTensor;
use burn::backend::ops::{ConvOptions, ModuleOps};
use burn::backend::tensor::FloatTensor;
use burn::backend::{backend_extension, Autodiff, Backend, Flex};
use burn::tensor::{DType, TensorData};

use super::onednn::{self, Conv2dShape};
use std::sync::atomic::{AtomicUsize, Ordering};

/// A 2-D convolution without bias, dilation or groups, computed by oneDNN: `x` `[batch, c_in,
/// h, w]`, `weight` `[c_out, c_in, kh, kw]`, strides and symmetric zero padding in pixels;
/// returns `[batch, c_out, (h + 2 pad_h - kh) / stride_h + 1, ...]`, as `torch.nn.functional.conv2d`.
#[backend_extension(Flex, Autodiff)]
pub trait OneDnnConv: Backend {
    /// The convolution (see the trait).
    fn onednn_conv2d(
        x: FloatTensor<Self>,
        weight: FloatTensor<Self>,
        stride_h: usize,
        stride_w: usize,
        pad_h: usize,
        pad_w: usize,
    ) -> FloatTensor<Self>;
}

/// The gradients of [`OneDnnConv::onednn_conv2d`] on a concrete backend, for the autodiff node.
pub trait OneDnnConvGrads: Backend {
    /// `dL/dx` `[batch, c_in, h, w]` from `weight` and `dL/dy` `grad`.
    fn onednn_conv2d_x_backward(
        x: FloatTensor<Self>,
        weight: FloatTensor<Self>,
        grad: FloatTensor<Self>,
        p: Params,
    ) -> FloatTensor<Self>;
    /// `dL/dweight` `[c_out, c_in, kh, kw]` from `x` and `dL/dy` `grad`.
    fn onednn_conv2d_weight_backward(
        x: FloatTensor<Self>,
        weight: FloatTensor<Self>,
        grad: FloatTensor<Self>,
        p: Params,
    ) -> FloatTensor<Self>;
}

/// Strides and symmetric padding `[rows, columns]`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Params {
    /// In pixels, at least 1.
    pub stride: [usize; 2],
    /// Zeros on each side, in pixels.
    pub padding: [usize; 2],
}

impl Params {
    fn options(self) -> ConvOptions<2> {
        ConvOptions::new(self.stride, self.padding, [1, 1], 1)
    }
}

fn dims4(t: &FlexTensor) -> Option<[usize; 4]> {
    let s = t.layout().shape();
    (s.num_dims() == 4).then(|| [s[0], s[1], s[2], s[3]])
}

static FALLBACKS: AtomicUsize = AtomicUsize::new(0);
static ONEDNN_CALLS: AtomicUsize = AtomicUsize::new(0);

/// How many convolutions (forward or gradient) of this process oneDNN computed.
pub fn onednn_calls() -> usize {
    ONEDNN_CALLS.load(Ordering::Relaxed)
}

/// How many convolutions (forward or gradient) of this process the extension handed back to
/// flex's own: a tensor not in f32, a shape oneDNN refused, or no oneDNN.
pub fn fallbacks() -> usize {
    FALLBACKS.load(Ordering::Relaxed)
}

/// Runs `op` on the contiguous f32 buffers of `a` and `b` with the convolution's shape, or
/// `None` (the caller falls back to flex, counted in [`fallbacks`]) when a tensor is not f32
/// or oneDNN refuses.
fn with_onednn(
    a: &FlexTensor,
    b: &FlexTensor,
    shape: Option<Conv2dShape>,
    op: impl FnOnce(&onednn::OneDnn, &Conv2dShape, &[f32], &[f32]) -> Result<Vec<f32>, String>,
) -> Option<Vec<f32>> {
    let out = try_onednn(a, b, shape, op);
    let counter = if out.is_some() { &ONEDNN_CALLS } else { &FALLBACKS };
    counter.fetch_add(1, Ordering::Relaxed);
    out
}

fn try_onednn(
    a: &FlexTensor,
    b: &FlexTensor,
    shape: Option<Conv2dShape>,
    op: impl FnOnce(&onednn::OneDnn, &Conv2dShape, &[f32], &[f32]) -> Result<Vec<f32>, String>,
) -> Option<Vec<f32>> {
    if a.dtype() != DType::F32 || b.dtype() != DType::F32 {
        return None;
    }
    let shape = shape?;
    let lib = onednn::get().map_err(warn_once).ok()?;
    let (a, b) = (a.to_contiguous(), b.to_contiguous());
    let (sa, sb) = (a.as_slice::<f32>()?, b.as_slice::<f32>()?);
    op(lib, &shape, sa, sb).map_err(|e| warn_once(&e)).ok()
}

fn warn_once(why: &str) {
    static WARNED: std::sync::Once = std::sync::Once::new();
    WARNED.call_once(|| tell!("warning: {why}; this run continues with Burn's own convolution where oneDNN fails"));
}

fn shape_of(x: &FlexTensor, weight: &FlexTensor, p: Params) -> Option<Conv2dShape> {
    let shape = Conv2dShape {
        input: dims4(x)?,
        weight: dims4(weight)?,
        stride: p.stride,
        padding: p.padding,
    };
    shape.output().map(|_| shape)
}

fn flex_tensor(values: Vec<f32>, dims: [usize; 4]) -> FlexTensor {
    FlexTensor::from_data(TensorData::new(values, dims))
}

impl OneDnnConv for Flex {
    fn onednn_conv2d(
        x: FlexTensor,
        weight: FlexTensor,
        stride_h: usize,
        stride_w: usize,
        pad_h: usize,
        pad_w: usize,
    ) -> FlexTensor {
        let p = Params {
            stride: [stride_h, stride_w],
            padding: [pad_h, pad_w],
        };
        let shape = shape_of(&x, &weight, p);
        match with_onednn(&x, &weight, shape, |lib, s, x, w| lib.forward(s, x, w)) {
            Some(y) => flex_tensor(y, shape.and_then(|s| s.output()).expect("checked")),
            None => Flex::conv2d(x, weight, None, p.options()),
        }
    }
}

impl OneDnnConvGrads for Flex {
    fn onednn_conv2d_x_backward(x: FlexTensor, weight: FlexTensor, grad: FlexTensor, p: Params) -> FlexTensor {
        let shape = shape_of(&x, &weight, p);
        match with_onednn(&weight, &grad, shape, |lib, s, w, g| lib.backward_data(s, w, g)) {
            Some(dx) => flex_tensor(dx, shape.expect("checked").input),
            None => Flex::conv2d_x_backward(x, weight, grad, p.options()),
        }
    }

    fn onednn_conv2d_weight_backward(x: FlexTensor, weight: FlexTensor, grad: FlexTensor, p: Params) -> FlexTensor {
        let shape = shape_of(&x, &weight, p);
        match with_onednn(&x, &grad, shape, |lib, s, x, g| lib.backward_weights(s, x, g)) {
            Some(dw) => flex_tensor(dw, shape.expect("checked").weight),
            None => Flex::conv2d_weight_backward(x, weight, grad, p.options()),
        }
    }
}

/// The autodiff node of the convolution: its state is the checkpointed input and weight.
#[derive(Debug)]
struct OneDnnConvBackward;

impl<B: Backend + OneDnnConvGrads> Backward<B, 2> for OneDnnConvBackward {
    type State = (NodeId, NodeId, Params);

    fn backward(self, ops: Ops<Self::State, 2>, grads: &mut Gradients, checkpointer: &mut Checkpointer) {
        let [node_x, node_weight] = ops.parents;
        let grad = grads.consume::<B>(&ops.node);
        let (x_state, weight_state, p) = ops.state;
        let x = checkpointer.retrieve_node_output::<FloatTensor<B>>(x_state);
        let weight = checkpointer.retrieve_node_output::<FloatTensor<B>>(weight_state);
        if let Some(node) = node_x {
            let dx = B::onednn_conv2d_x_backward(x.clone(), weight.clone(), grad.clone(), p);
            grads.register::<B>(node.id, dx);
        }
        if let Some(node) = node_weight {
            grads.register::<B>(node.id, B::onednn_conv2d_weight_backward(x, weight, grad, p));
        }
    }
}

impl<B: Backend + OneDnnConv + OneDnnConvGrads, C: CheckpointStrategy> OneDnnConv for Autodiff<B, C> {
    fn onednn_conv2d(
        x: FloatTensor<Self>,
        weight: FloatTensor<Self>,
        stride_h: usize,
        stride_w: usize,
        pad_h: usize,
        pad_w: usize,
    ) -> FloatTensor<Self> {
        let p = Params {
            stride: [stride_h, stride_w],
            padding: [pad_h, pad_w],
        };
        let forward = |x: FloatTensor<B>, w: FloatTensor<B>| B::onednn_conv2d(x, w, stride_h, stride_w, pad_h, pad_w);
        match OneDnnConvBackward
            .prepare::<C>([x.node(), weight.node()])
            .compute_bound()
            .stateful()
        {
            OpsKind::Tracked(mut prep) => {
                let x_state = prep.checkpoint(&x);
                let weight_state = prep.checkpoint(&weight);
                prep.finish(
                    (x_state, weight_state, p),
                    forward(x.into_primitive(), weight.into_primitive()),
                )
            }
            OpsKind::UnTracked(prep) => prep.finish(forward(x.into_primitive(), weight.into_primitive())),
        }
    }
}
