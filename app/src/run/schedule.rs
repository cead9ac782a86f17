//! The run's schedule and optimizer: `[scheduler]` and each parameter group's as one
//! `LearnerSchedule` for the run's length, checked before any data is read, and `[optimizer]`.

use crate::config::{OptimizerName, TrainConfig};
use crate::data;
use crate::error::TrainError;
use crate::model::ResNet;
use burn::optim::ModuleOptimizer;
use burn::tensor::Device;
use burn_lr::learner::{LearnerRun, LearnerSchedule};
use burn_lr::optim::{CycledAdamWConfig, CycledSgdConfig};
use burn_lr::schedule::{MomentumCell, SchedulerConfig};

/// The optimizer of `[optimizer]`, as PyTorch defines it (SGD dampening 0, L2 weight decay;
/// AdamW decoupled decay). With a `momentum` cell (a schedule with `cycle_momentum`), SGD's
/// momentum or AdamW's `beta1` is read from it at every update, overriding the configured one,
/// as PyTorch's `cycle_momentum` overrides the optimizer's.
pub fn optimizer(
    cfg: &crate::config::OptimizerConfig,
    schedule: &LearnerSchedule,
) -> Result<ModuleOptimizer, TrainError> {
    let optimizer = match cfg.name {
        OptimizerName::Sgd => CycledSgdConfig {
            momentum: cfg.momentum,
            nesterov: cfg.nesterov,
            weight_decay: cfg.weight_decay,
        }
        .init(schedule.momentum()),
        OptimizerName::Adamw => CycledAdamWConfig {
            beta1: cfg.beta1,
            beta2: cfg.beta2,
            eps: cfg.eps,
            weight_decay: cfg.weight_decay,
        }
        .init(schedule.momentum()),
    };
    Ok(optimizer?)
}

/// Images in CIFAR-10's training set.
const CIFAR10_TRAIN_IMAGES: usize = 50_000;

/// Checks every schedule of `cfg` (`[scheduler]` and each `[[param_groups]]` scheduler, and
/// that each group's `params` matches a parameter of the model) before any data is read, on the run the config describes (its `train_limit`, or CIFAR-10's 50,000
/// training images): a bad `pct_start` fails in milliseconds, not after loading the images. The
/// run checks again with the real image count.
///
/// # Errors
/// [`TrainError::Schedule`] naming the schedule, the field and what is allowed.
pub fn check_schedules(cfg: &TrainConfig) -> Result<(), TrainError> {
    let images = cfg
        .data
        .train_limit
        .unwrap_or(CIFAR10_TRAIN_IMAGES)
        .min(CIFAR10_TRAIN_IMAGES);
    let schedule = quiet_schedule(cfg, images)?;
    if !cfg.param_groups.is_empty() {
        // The parameter paths do not depend on the device: a CPU copy of the model names them.
        schedule.check_groups(&ResNet::new(cfg.model.arch, data::CLASSES.len(), &Device::flex()))?;
    }
    Ok(())
}

/// The schedule of `cfg` for a run over `images` training images, without printing anything.
///
/// # Errors
/// As [`check_schedules`].
pub(crate) fn quiet_schedule(cfg: &TrainConfig, images: usize) -> Result<LearnerSchedule, TrainError> {
    schedule_for(cfg, images, None, true)
}

/// The schedule of this run (and of each parameter group), with the optimizer updates per
/// epoch Burn will make; a momentum-cycling schedule writes into `momentum_cell`; prints the
/// length warnings once unless `quiet`.
pub(crate) fn schedule_for(
    cfg: &TrainConfig,
    images: usize,
    momentum_cell: Option<&MomentumCell>,
    quiet: bool,
) -> Result<LearnerSchedule, TrainError> {
    let t = &cfg.training;
    let run = LearnerRun::new(images, t.batch_size, t.epochs)
        .with_grad_accumulation(t.grad_accumulation)
        .with_devices(t.devices.len());
    let mut schedule = LearnerSchedule::new(&cfg.scheduler, cfg.optimizer.lr, &run)?;
    for g in &cfg.param_groups {
        let config = g.scheduler.as_ref().unwrap_or(&cfg.scheduler);
        schedule = schedule.with_group(&g.params, config, g.lr.unwrap_or(cfg.optimizer.lr))?;
    }
    if let Some(cell) = momentum_cell {
        schedule = schedule.with_momentum_cell(cell.clone());
    }
    if !quiet {
        for warning in schedule.warnings() {
            tell!("warning: {warning}");
        }
        if let Some(warning) = swa_without_averaging(cfg) {
            tell!("warning: {warning}");
        }
    }
    Ok(schedule)
}

/// The warning for a `[scheduler.swa]` (SWALR's learning rates) in a run that keeps the weights
/// it steps: the averaged model SWA evaluates is not kept.
fn swa_without_averaging(cfg: &TrainConfig) -> Option<String> {
    let groups = cfg.param_groups.iter().filter_map(|g| g.scheduler.as_ref());
    std::iter::once(&cfg.scheduler)
        .chain(groups)
        .any(|s| matches!(s, SchedulerConfig::Swa(_)))
        .then(|| {
            "[scheduler.swa] sets SWALR's learning rates, but this run keeps and evaluates the weights it steps: \
             the weights are not averaged (no SWA model)"
                .to_string()
        })
}
