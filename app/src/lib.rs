//! The CIFAR-10 training app behind the `burn-lr` binary (package `burn-lr-cifar`). It uses the
//! library ([`burn_lr::schedule`], [`burn_lr::learner`], [`burn_lr::optim`]); the library never uses
//! it. Data flows one way: config (validated whole, schedules included, before any data is
//! read) -> data, model, device -> the run (Burn's `Learner`) -> artifacts.
//!
//! - [`config`]: the TOML run configuration (`configs/*.toml`), one-line errors.
//! - [`data`]: CIFAR-10 loading (binary batches, image folders), download, batching and
//!   augmentation.
//! - [`model`]: CIFAR ResNets; [`conv`]: the CPU convolution on oneDNN.
//! - [`device`]: devices by name, how several of them train (Burn's multi-device strategy or
//!   DDP), their float type.
//! - [`run`]: one training run: its schedule and optimizer, the end-of-epoch steps, sealed
//!   checkpoints, `metrics.csv`, `lr.csv`, TensorBoard, the charts, the artifact directory's life
//!   and layout; [`error`]: its errors.
//! - [`preview`]: a schedule without training, streamed; [`find_lr`]: the LR range test;
//!   [`compare`]: several configs on the same data.
//! - [`allocator`]: the binary's mimalloc settings.
//! - [`cli`]: the command line (one module per subcommand); [`paths`]: paths checked before use;
//!   [`out`]: printing that never panics.

#[macro_use]
pub mod out;
pub mod allocator;
pub mod cli;
pub mod compare;
pub mod config;
pub mod conv;
pub mod data;
pub mod device;
pub mod error;
pub mod find_lr;
pub mod model;
pub mod paths;
pub mod preview;
pub mod run;
