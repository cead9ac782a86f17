//! # burn-lr
//!
//! Exact, PyTorch-compatible learning-rate schedulers for [Burn](https://burn.dev) 0.22, and a
//! CIFAR-10 ResNet training stack that uses them through Burn's `Learner`.
//!
//! The library (always built; `default-features = false` gives it alone):
//! - [`schedule`]: every schedule as a Burn `LrScheduler`, numerically equal to its reference
//!   (PyTorch 2.15, Hugging Face, timm, Burn). Depends on nothing else in this crate.
//! - [`learner`]: the glue to use the schedules in any Burn `Learner` (plateau feed, per-group
//!   LR metrics, a quiet renderer).
//! - [`optim`]: SGD / AdamW whose momentum follows OneCycle / Cyclic (`cycle_momentum`).
//!
//! The CIFAR-10 app (cargo feature `app`, on by default), which uses the library:
//! `config` (the TOML run configuration), `data` (CIFAR-10 loading, download, augmentation,
//! batching), `model` (CIFAR ResNets) and `training` (a full `SupervisedTraining` run).
#![warn(missing_docs)]

#[cfg(feature = "app")]
pub mod config;
#[cfg(feature = "app")]
pub mod data;
pub mod learner;
#[cfg(feature = "app")]
pub mod model;
pub mod optim;
pub mod schedule;
#[cfg(feature = "app")]
pub mod training;
