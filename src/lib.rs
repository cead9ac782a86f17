//! # burn-lr
//!
//! Exact, PyTorch-compatible learning-rate schedulers for [Burn](https://burn.dev) 0.22, and a
//! CIFAR-10 ResNet training stack that uses them through Burn's `Learner`.
//!
//! - [`schedule`]: every schedule as a Burn `LrScheduler`, numerically equal to PyTorch 2.15.
//! - [`data`]: CIFAR-10 (official binary archive or an image folder), augmentation, batching.
//! - [`model`]: CIFAR ResNets (ResNet-8/20/32/56, ResNet-18/50).
//! - [`optim`]: SGD / AdamW whose momentum follows OneCycle / Cyclic (`cycle_momentum`).
//! - [`training`]: a full `SupervisedTraining` run driven by a TOML [`config::TrainConfig`].
#![warn(missing_docs)]

pub mod config;
pub mod data;
pub mod model;
pub mod optim;
pub mod schedule;
pub mod training;
