//! `burn-lr find-lr`: the library's LR range test ([`burn_lr::monitor::lr_find()`]) on a config's
//! model, optimizer and augmented training batches; writes `lr_find.csv` and `lr_find.png`.

use super::config::TrainConfig;
use super::data::{self, Cifar10, CifarBatcher, EpochDataset, EpochLoader};
use super::device::devices;
use super::model::ResNet;
use crate::error::TrainError;
use crate::run::artifacts::write_atomic;
use crate::run::layout::LR_FIND_CSV;
use crate::run::optimizer;
use burn::data::dataloader::DataLoaderBuilder;
use burn_lr::learner::{LearnerRun, LearnerSchedule};
use burn_lr::monitor::plot::{self, LR_FIND_PNG};
use burn_lr::monitor::{lr_find, LrFindConfig, LrFindResult, LrFindStop};
use std::path::{Path, PathBuf};

use std::sync::Arc;

/// What [`find_lr`] returns: the test and the files it wrote.
pub struct FoundLr {
    /// The range test.
    pub result: LrFindResult,
    /// `lr_find.csv` and `lr_find.png`.
    pub files: [PathBuf; 2],
}

/// Runs the range test with `settings` on a fresh `cfg.model` (seeded with `[training] seed`),
/// the `[optimizer]` (at its configured momentum), `[training] batch_size` and the training
/// images of `data` (augmented as configured), and writes `out/lr_find.csv` and
/// `out/lr_find.png`. Nothing of a training run is read or changed.
///
/// # Errors
/// [`TrainError`]: bad settings, no training images, an unavailable device, a file that cannot
/// be written.
pub fn find_lr(cfg: &TrainConfig, data: Cifar10, settings: &LrFindConfig, out: &Path) -> Result<FoundLr, TrainError> {
    settings.validate()?;
    let t = &cfg.training;
    // One device: the first of `[training] devices`.
    let device = devices(t.device, &t.devices)?.swap_remove(0);
    crate::device::configure(std::slice::from_ref(&device), t.precision)?;
    device.seed(t.seed);
    let model = ResNet::seeded(cfg.model.arch, data::CLASSES.len(), t.seed, &device.clone().autodiff())
        .with_label_smoothing(t.label_smoothing)
        .with_conv_kernel(t.conv_kernel().map_err(TrainError::Settings)?);
    // The optimizer as a run builds it; the schedule itself is not stepped (the test sets the
    // LR), so a cycled momentum stays at the configured `momentum` / `beta1`.
    let run = LearnerRun::new(data.train.len().max(1), t.batch_size, t.epochs);
    let schedule = LearnerSchedule::new(&cfg.scheduler, cfg.optimizer.lr, &run)?;
    let (optim, _) = optimizer(&cfg.optimizer, &schedule, &model)?;
    let epochs = Arc::new(EpochDataset::new(data.train, t.seed, cfg.data.augment, 0).with_cutout(cfg.data.cutout));
    let loader = DataLoaderBuilder::new(CifarBatcher)
        .batch_size(t.batch_size)
        .set_device(device.clone())
        .build(epochs.clone());
    let loader = EpochLoader::new(loader, epochs);
    let result = lr_find(&model, &optim, &loader, settings)?;
    let csv = out.join(LR_FIND_CSV);
    write_atomic(&csv, result.csv().as_bytes())?;
    let png = out.join(LR_FIND_PNG);
    // Its own file: checked again right before drawing (the library's chart functions write
    // into a pipe at a path you give them).
    burn_lr::monitor::check_output(&png, burn_lr::monitor::Output::Own)?;
    plot::lr_find(&result, &png)?;
    Ok(FoundLr {
        result,
        files: [csv, png],
    })
}

/// The lines `burn-lr find-lr` prints: the test, the suggestions, the recommended OneCycle
/// `max_lr`.
pub fn report(found: &FoundLr, settings: &LrFindConfig) -> Vec<String> {
    let r = &found.result;
    let last = r.points.last().map_or(f64::NAN, |p| p.lr);
    let ended = match r.stop {
        LrFindStop::Completed => "completed".to_string(),
        LrFindStop::Diverged(lr) => format!(
            "stopped at lr {lr:.3e}: smoothed loss above {}x its best",
            settings.diverge_factor
        ),
        LrFindStop::NonFinite(lr) => format!("stopped at lr {lr:.3e}: the loss is not finite"),
    };
    let fmt = |v: Option<f64>| v.map_or("n/a (curve too short)".to_string(), |v| format!("{v:.3e}"));
    let s = r.suggestions;
    let mut lines = vec![
        format!(
            "lr range test: {} of {} updates, lr {:.1e} -> {last:.3e} ({:?}); {ended}",
            r.points.len(),
            settings.num_iter,
            settings.start_lr,
            settings.mode
        ),
        format!(
            "suggestions: steepest {}  valley {}  minimum/10 {}",
            fmt(s.steepest),
            fmt(s.valley),
            fmt(s.minimum)
        ),
    ];
    match r.recommendation() {
        Some((lr, which)) => lines.push(format!(
            "recommended OneCycle max_lr: {lr:.3e} (the {which} suggestion; in the config: [scheduler] type = \"one_cycle\", max_lr = {})",
            round_sig(lr)
        )),
        None => lines.push("no recommendation: the loss curve is too short (raise --num-iter or --end-lr)".into()),
    }
    lines.push(format!(
        "wrote {} and {}",
        found.files[0].display(),
        found.files[1].display()
    ));
    lines
}

/// `lr` to 2 significant digits, as one writes it in a config.
fn round_sig(lr: f64) -> f64 {
    let scale = 10f64.powi(1 - lr.log10().floor() as i32);
    (lr * scale).round() / scale
}
