//! The CIFAR-10 training app behind the `burn-lr` binary (cargo feature `app`). It uses the
//! library ([`crate::schedule`], [`crate::learner`], [`crate::optim`]); the library never uses
//! it. Data flows one way: config (validated whole, schedules included, before any data is
//! read) -> data, model, device -> the run (Burn's `Learner`) -> artifacts.
//!
//! - [`config`]: the TOML run configuration (`configs/*.toml`), one-line errors.
//! - [`data`]: CIFAR-10 loading (binary batches, image folders), download, batching and
//!   augmentation.
//! - [`model`]: CIFAR ResNets.
//! - [`device`]: the Burn device of a `device = ...` name.
//! - [`run`]: a full training run and the schedule preview.
//! - [`artifacts`]: `metrics.csv`, atomic writes, checkpoints.

pub mod artifacts;
pub mod config;
pub mod data;
pub mod device;
pub mod model;
pub mod run;
