//! # burn-lr
//!
//! Exact, PyTorch-compatible learning-rate schedulers for [Burn](https://burn.dev)'s `Learner`
//! (Burn 0.22, or 0.23 with the feature `burn-0-23`): every schedule of
//! `torch.optim.lr_scheduler`, the Hugging Face and timm schedules, warmup and composition, with
//! PyTorch's names and parameters.
//!
//! - [`schedule`]: every schedule as a Burn `LrScheduler`, numerically equal to its reference
//!   (PyTorch 2.15, Hugging Face, timm, Burn); PyTorch-style stepping through each config's
//!   `init()`. Depends on nothing else in this crate.
//! - [`learner`]: the one entry point for a Burn `Learner` run, [`learner::LearnerSchedule`]:
//!   updates per epoch as Burn counts them, the plateau feed, per-group schedules, a resume
//!   check, a stop at the first non-finite loss.
//! - [`averaging`]: weights evaluated but not stepped: PyTorch's `AveragedModel` (SWA, EMA) and
//!   `update_bn`, Schedule-Free SGD / AdamW; depends on Burn only.
//! - [`optim`]: SGD / AdamW as PyTorch defines them, whose momentum follows OneCycle / Cyclic
//!   (`cycle_momentum`).
//! - `monitor` (cargo feature `monitor`): `lr.csv`, TensorBoard event files, PNG plots, the LR
//!   range test, a terminal progress bar.
//!
//! ```
//! use burn_lr::learner::{LearnerRun, LearnerSchedule};
//! use burn_lr::optim::CycledSgdConfig;
//! use burn_lr::schedule::SchedulerConfig;
//!
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! // PyTorch: OneCycleLR(opt, max_lr=0.1, epochs=30, steps_per_epoch=len(loader))
//! let config: SchedulerConfig = toml::from_str("type = \"one_cycle\"\nmax_lr = 0.1")?;
//! // 50,000 images, batch 128, 30 epochs: 391 optimizer updates per epoch.
//! let schedule = LearnerSchedule::new(&config, 0.1, &LearnerRun::new(50_000, 128, 30))?;
//! assert_eq!(schedule.run().total_updates, 391 * 30);
//! let optimizer = CycledSgdConfig::new().with_momentum(0.9).init(schedule.momentum())?;
//! let scheduler = schedule.into_scheduler();
//! // Learner::new(model, optimizer, scheduler)
//! # let _ = (optimizer, scheduler);
//! # Ok(())
//! # }
//! ```
#![warn(missing_docs)]
#![cfg_attr(docsrs, feature(doc_cfg))]

#[cfg(all(feature = "burn-0-22", feature = "burn-0-23"))]
compile_error!("burn-lr: enable one of its features `burn-0-22` (the default) and `burn-0-23`, not both");
#[cfg(not(any(feature = "burn-0-22", feature = "burn-0-23")))]
compile_error!("burn-lr: enable one of its features `burn-0-22` (the default) or `burn-0-23` (the Burn you use)");
/// The Burn this library is built on (0.22 by default, 0.23 with the feature `burn-0-23`):
/// name Burn through it where your code must use the same one.
#[cfg(feature = "burn-0-22")]
pub use burn;
/// The Burn this library is built on (0.22 by default, 0.23 with the feature `burn-0-23`):
/// name Burn through it where your code must use the same one.
#[cfg(all(feature = "burn-0-23", not(feature = "burn-0-22")))]
pub extern crate burn_0_23 as burn;

pub mod averaging;
pub mod learner;
#[cfg(feature = "monitor")]
#[cfg_attr(docsrs, doc(cfg(feature = "monitor")))]
pub mod monitor;
pub mod optim;
pub mod schedule;
