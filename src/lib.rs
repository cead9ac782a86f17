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
//! - `monitor` (cargo feature `monitor`, part of `app`): `lr.csv`, TensorBoard event files,
//!   PNG plots, the LR range test, a terminal progress bar.
//!
//! The CIFAR-10 app (cargo feature `app`, on by default), which uses the library and is never
//! used by it: `app` (the TOML run configuration, CIFAR-10 data, ResNets, devices, the run and
//! its artifacts).
#![warn(missing_docs)]

pub mod learner;
#[cfg(feature = "monitor")]
pub mod monitor;
pub mod optim;
pub mod schedule;
