//! Weight averaging and schedule-free optimization: the half of PyTorch's learning-rate
//! documentation where **the weights you evaluate and keep are not the weights you step**.
//!
//! - [`AveragedModel`]: `torch.optim.swa_utils.AveragedModel` for any Burn module: equal-weight
//!   SWA (`get_swa_multi_avg_fn`) or EMA (`get_ema_multi_avg_fn(decay)`), PyTorch's
//!   `use_buffers`, timm's EMA decay warm-up (`ModelEmaV3`), updated after the optimizer updates
//!   you choose ([`AveragedModelConfig::start_update`], [`AveragedModelConfig::every`]).
//! - [`update_bn`]: `torch.optim.swa_utils.update_bn`: the BatchNorm running statistics
//!   recomputed for the averaged weights, a cumulative average over the batches you give.
//! - [`SgdScheduleFreeConfig`] / [`AdamWScheduleFreeConfig`]: `SGDScheduleFree` and
//!   `AdamWScheduleFree` (Defazio et al. 2024, `schedulefree` 1.4.1) as Burn optimizers; the
//!   model holds `y` (what is stepped), [`ScheduleFreeWeights::eval`] gives `x` (what is
//!   evaluated and saved).
//! - SWALR is a schedule: `[scheduler.swa]` in [`crate::schedule`].
//!
//! Depends on Burn only (no other module of this crate).
//!
//! ```
//! use burn_lr::averaging::{AveragedModel, AveragedModelConfig, AveragingKind};
//! use burn_lr::burn::nn::{Linear, LinearConfig};
//! use burn_lr::burn::tensor::Device;
//!
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let device = Device::default();
//! let model: Linear = LinearConfig::new(4, 2).init(&device);
//! // PyTorch: AveragedModel(model, multi_avg_fn=get_ema_multi_avg_fn(0.999))
//! let config = AveragedModelConfig::new(AveragingKind::Ema).with_decay(0.999);
//! let mut ema = AveragedModel::new(config, &model)?;
//! // After each optimizer update `u` (1-based): averages when the config says so.
//! assert!(ema.after_update(1, &model)?);
//! assert_eq!(ema.n_averaged(), 1);
//! let _for_evaluation: Linear = ema.model();
//! # Ok(())
//! # }
//! ```

mod averaged;
mod error;
mod schedule_free;
mod tensors;
mod update_bn;

pub use averaged::{AveragedModel, AveragedModelConfig, AveragingKind, EmaWarmup};
pub use error::AveragingError;
pub use schedule_free::{
    AdamWScheduleFreeConfig, ScheduleFree, ScheduleFreeState, ScheduleFreeWeights, SgdScheduleFreeConfig,
};
pub use update_bn::{update_bn, UpdateBnReport};

/// Every float tensor of `module` flattened, in traversal order (for the Learner's wrappers).
pub(crate) fn flat_tensors<M: crate::burn::module::Module>(module: &M) -> Vec<crate::burn::tensor::Tensor<1>> {
    tensors::leaves(module).into_iter().map(|leaf| leaf.value).collect()
}

/// Which of [`flat_tensors`] are running statistics (PyTorch's buffers).
pub(crate) fn buffer_flags<M: crate::burn::module::Module>(module: &M) -> Vec<bool> {
    tensors::leaves(module).into_iter().map(|leaf| leaf.buffer).collect()
}

/// `module` with the tensors of [`flat_tensors`] replaced where `Some`.
pub(crate) fn with_flat_tensors<M: crate::burn::module::Module>(
    module: M,
    values: &[Option<crate::burn::tensor::Tensor<1>>],
) -> M {
    tensors::rewrite(module, values)
}

pub(crate) use tensors::lerp;
