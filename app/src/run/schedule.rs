//! The run's schedule and optimizer: `[scheduler]` and each parameter group's as one
//! `LearnerSchedule` for the run's length, checked before any data is read, and `[optimizer]`.

use crate::config::{OptimizerName, TrainConfig};
use crate::data;
use crate::error::TrainError;
use crate::model::ResNet;
use burn::optim::ModuleOptimizer;
use burn::tensor::Device;
use burn_lr::averaging::{AdamWScheduleFreeConfig, ScheduleFreeWeights, SgdScheduleFreeConfig};
use burn_lr::learner::{LearnerRun, LearnerSchedule};
use burn_lr::optim::{CycledAdamWConfig, CycledSgdConfig};
use burn_lr::schedule::{MomentumCell, SchedulerConfig};

/// The optimizer of `[optimizer]` for `model`, as PyTorch defines it (SGD dampening 0, L2
/// weight decay; AdamW decoupled decay), or as the schedule-free reference does (then with the
/// handle that gives `x`). With a `momentum` cell (a schedule with `cycle_momentum`), SGD's
/// momentum or AdamW's `beta1` is read from it at every update, overriding the configured one,
/// as PyTorch's `cycle_momentum` overrides the optimizer's.
pub fn optimizer(
    cfg: &crate::config::OptimizerConfig,
    schedule: &LearnerSchedule,
    model: &ResNet,
) -> Result<(ModuleOptimizer, Option<ScheduleFreeWeights>), TrainError> {
    let (warmup_steps, r, power) = (
        cfg.warmup_steps.unwrap_or(0),
        cfg.r.unwrap_or(0.0),
        cfg.weight_lr_power.unwrap_or(2.0),
    );
    let optimizer = match cfg.name {
        OptimizerName::SgdScheduleFree => {
            let (optim, weights) = SgdScheduleFreeConfig::new()
                .with_momentum(cfg.momentum)
                .with_weight_decay(cfg.weight_decay)
                .with_warmup_steps(warmup_steps)
                .with_r(r)
                .with_weight_lr_power(power)
                .init(model)?;
            return Ok((optim, Some(weights)));
        }
        OptimizerName::AdamwScheduleFree => {
            let (optim, weights) = AdamWScheduleFreeConfig::new()
                .with_betas(cfg.beta1, cfg.beta2)
                .with_eps(cfg.eps)
                .with_weight_decay(cfg.weight_decay)
                .with_warmup_steps(warmup_steps)
                .with_r(r)
                .with_weight_lr_power(power)
                .init(model)?;
            return Ok((optim, Some(weights)));
        }
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
    Ok((optimizer?, None))
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
    crate::run::weights::check_start(cfg, schedule.run().updates_per_epoch)?;
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
        if let Some(warning) = decaying_schedule_free(cfg, &schedule) {
            tell!("warning: {warning}");
        }
    }
    Ok(schedule)
}

/// The warning for a schedule-free optimizer under a schedule whose LR ends below its peak: the
/// reference's advice is a constant LR (its own `warmup_steps` for a warm-up), since `x` is
/// already the average a decaying schedule would approximate.
fn decaying_schedule_free(cfg: &TrainConfig, schedule: &LearnerSchedule) -> Option<String> {
    if !cfg.optimizer.name.is_schedule_free() {
        return None;
    }
    let (per_epoch, epochs) = (schedule.run().updates_per_epoch, cfg.training.epochs as u64);
    let lrs: Vec<f64> = (1..=epochs)
        .map(|e| schedule.base().lr_in_epoch(e, per_epoch))
        .collect();
    let peak = lrs.iter().copied().fold(f64::NAN, f64::max);
    let last = *lrs.last()?;
    (last < peak * (1.0 - 1e-9)).then(|| {
        format!(
            "[scheduler] type = \"{}\" decays the LR (to {last:.3e} from a peak of {peak:.3e}) under a schedule-free \
             optimizer, which needs no schedule: the reference advises a constant LR, with [optimizer] warmup_steps for a warm-up",
            cfg.scheduler.kind()
        )
    })
}

/// The warning for a `[scheduler.swa]` (SWALR's learning rates) in a run that keeps the weights
/// it steps: the averaged model SWA evaluates is not kept.
fn swa_without_averaging(cfg: &TrainConfig) -> Option<String> {
    if cfg.averaging.is_some() {
        return None;
    }
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
