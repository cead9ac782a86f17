//! The weights a run validates and keeps: the trained model itself, a weight average
//! (`[averaging]`, the library's [`AveragedLearnerModel`]) or schedule-free's `x` (the
//! library's [`ScheduleFreeLearnerModel`]); in the last two the stepped model is validated too,
//! for the `live` columns.

use crate::config::{Every, TrainConfig};
use crate::data::CifarBatch;
use crate::error::resume_note;
use crate::error::TrainError;
use crate::model::ResNet;
use crate::run::artifacts::write_atomic;
use crate::run::layout::{CHECKPOINT_DIR, KEPT_MODEL};
use burn::train::{ClassificationOutput, InferenceStep, LearnerModel, TrainStep};
use burn_lr::averaging::ScheduleFreeWeights;
use burn_lr::learner::{AveragedLearnerModel, ScheduleFreeLearnerModel};
use std::path::Path;
use std::sync::{Arc, Mutex};

/// A model Burn's `Learner` trains in the app: CIFAR-10 batches in, classification out, and the
/// weights it keeps at the end.
pub trait RunModel:
    LearnerModel
    + TrainStep<Input = CifarBatch, Output = ClassificationOutput>
    + InferenceStep<Input = CifarBatch, Output = ClassificationOutput>
{
    /// The weights the run keeps (and validated): the model, the average, or `x`.
    fn kept(&self) -> ResNet;
}

impl RunModel for ResNet {
    fn kept(&self) -> ResNet {
        self.clone()
    }
}

impl RunModel for AveragedLearnerModel<ResNet> {
    fn kept(&self) -> ResNet {
        self.evaluated_model()
    }
}

impl RunModel for ScheduleFreeLearnerModel<ResNet> {
    fn kept(&self) -> ResNet {
        self.evaluated_model()
    }
}

/// The stepped model's validation loss and accuracy, summed over an epoch's batches by the
/// library's `with_live_validation` observer and taken by the epoch hook.
#[derive(Clone, Default)]
pub struct LiveValidation(Arc<Mutex<LiveSums>>);

#[derive(Default)]
struct LiveSums {
    loss: f64,
    loss_weight: f64,
    correct: f64,
    images: f64,
}

impl LiveValidation {
    /// Adds one validation batch's output (`loss`: the batch mean, `[1]`; `output`: `[batch,
    /// 10]` logits; `targets`: `[batch]`) as Burn's `LossMetric` and `AccuracyMetric` count it,
    /// so both columns are one measure: the loss weighted by its tensor's length (1: each batch
    /// counts once, a partial last batch as much as a full one), the accuracy by images.
    pub fn observe(&self, out: &ClassificationOutput) {
        let images = out.targets.dims()[0];
        let [weight] = out.loss.dims();
        let loss = out.loss.clone().mean().into_scalar::<f64>();
        let predicted = out.output.clone().argmax(1).reshape([images]);
        let correct = predicted.equal(out.targets.clone()).int().sum().into_scalar::<i64>();
        let mut s = self.0.lock().unwrap_or_else(|e| e.into_inner());
        s.loss += loss * weight as f64;
        s.loss_weight += weight as f64;
        s.correct += correct as f64;
        s.images += images as f64;
    }

    /// The mean loss and accuracy (percent) of the batches seen since the last call; `None`
    /// when there was none (the average held no model yet: the validated model was the
    /// stepped one).
    pub fn take(&self) -> Option<(f64, f64)> {
        let mut s = self.0.lock().unwrap_or_else(|e| e.into_inner());
        let sums = std::mem::take(&mut *s);
        (sums.images > 0.0).then(|| (sums.loss / sums.loss_weight, 100.0 * sums.correct / sums.images))
    }
}

/// The training batches over which a schedule-free run recomputes the BatchNorm statistics of
/// `x` before each validation (the latest; at most one epoch's).
pub const SCHEDULE_FREE_BN_BATCHES: usize = 16;

/// The model of a run as its config asks: the trained weights, an average beside them, or
/// schedule-free's `y` with `x` evaluated.
pub enum RunWeights {
    /// `[optimizer] name = "sgd" | "adamw"` without `[averaging]`.
    Stepped(ResNet),
    /// `[averaging]`.
    Averaged(AveragedLearnerModel<ResNet>),
    /// A schedule-free optimizer.
    ScheduleFree(ScheduleFreeLearnerModel<ResNet>),
}

impl RunWeights {
    /// `model` wrapped as `cfg` asks (`schedule_free`: the handle of a schedule-free optimizer),
    /// its stepped model's validation summed into `live`. `update_bn` takes at most one epoch's
    /// training batches (`batches_per_epoch`): validation comes at an epoch's end, so they are
    /// all of that epoch, and a resumed run recomputes from the same batches as a straight one.
    ///
    /// # Errors
    /// [`TrainError::Averaging`] for an averaging setting the library refuses.
    pub fn new(
        cfg: &TrainConfig,
        model: ResNet,
        schedule_free: Option<ScheduleFreeWeights>,
        updates_per_epoch: u64,
        batches_per_epoch: usize,
        live: &LiveValidation,
    ) -> Result<Self, TrainError> {
        let observer = |live: &LiveValidation| {
            let live = live.clone();
            move |out: &ClassificationOutput| live.observe(out)
        };
        if let Some(weights) = schedule_free {
            return Ok(Self::ScheduleFree(
                ScheduleFreeLearnerModel::new(model, weights)
                    .with_update_bn_batches(SCHEDULE_FREE_BN_BATCHES.min(batches_per_epoch))
                    .with_live_validation(observer(live)),
            ));
        }
        match &cfg.averaging {
            Some(a) => {
                check_start(cfg, updates_per_epoch)?;
                let mut setup = a.for_run(updates_per_epoch, &cfg.scheduler);
                setup.update_bn_batches = setup.update_bn_batches.min(batches_per_epoch);
                Ok(Self::Averaged(
                    AveragedLearnerModel::new(model, setup)?.with_live_validation(observer(live)),
                ))
            }
            None => Ok(Self::Stepped(model)),
        }
    }

    /// Checks the checkpoint of `epoch` in `dir` holds what this run's weights need (the
    /// average of this setup; a schedule-free optimizer's state) before Burn loads it.
    ///
    /// # Errors
    /// [`TrainError::Averaging`] naming the file and what it lacks.
    pub fn check_resume(&self, dir: &Path, epoch: usize) -> Result<(), TrainError> {
        match self {
            Self::Stepped(_) => Ok(()),
            Self::Averaged(m) => Ok(m.check_resume(dir, epoch)?),
            Self::ScheduleFree(m) => Ok(m.check_resume(dir, epoch)?),
        }
    }
}

/// Checks that `[averaging]` starts within the run (`updates_per_epoch` optimizer updates per
/// epoch): a later start would average nothing; and that a numeric `every` comes again within
/// it (when updates are left after the start): else the average would hold the single model of
/// its first update.
///
/// # Errors
/// [`TrainError::Settings`] naming `start_update` (given, or from `start_epoch`) or `every`,
/// and the run's last update.
pub fn check_start(cfg: &TrainConfig, updates_per_epoch: u64) -> Result<(), TrainError> {
    let Some(a) = &cfg.averaging else { return Ok(()) };
    let start = a.for_run(updates_per_epoch, &cfg.scheduler).averaging.start_update;
    let last = cfg.training.epochs as u64 * updates_per_epoch;
    let run = format!("{} epochs x {updates_per_epoch} updates = {last}", cfg.training.epochs);
    if start > last {
        return Err(TrainError::Settings(format!(
            "[averaging] start_update = {start}: after the run's last optimizer update ({run}): nothing would be \
             averaged; start within the run"
        )));
    }
    match a.every {
        Some(Every::Updates(every)) if start < last && start + every > last => Err(TrainError::Settings(format!(
            "[averaging] every = {every}: from start_update = {start}, the next averaging would come after the \
             run's last optimizer update ({run}), so the average would be the single model of update {start}; \
             at most {} here, or start earlier",
            last - start
        ))),
        _ => Ok(()),
    }
}

/// What a run with `cfg` validates and keeps, for its lines: `the SWA average`, `the EMA`,
/// `x (schedule-free)`, or `None` for the trained weights.
pub fn evaluated_weights(cfg: &TrainConfig) -> Option<String> {
    if cfg.optimizer.name.is_schedule_free() {
        return Some("schedule-free's x".into());
    }
    let a = cfg.averaging.as_ref()?;
    let from = match a.start_update {
        Some(u) => format!("from update {u}"),
        None => format!("from epoch {}", a.start_epoch_for(&cfg.scheduler)),
    };
    let bn = match a.recomputes_bn() {
        true => format!(
            ", BatchNorm statistics recomputed over the latest {} training batches (at most an epoch's)",
            a.update_bn_batches()
        ),
        false => String::new(),
    };
    Some(format!("{} ({from}{bn})", a.describe()))
}

/// The validated weights' name in the epoch line (`swa`, `ema`, `x`), in a run that validates
/// other weights than it steps.
pub fn short_name(cfg: &TrainConfig) -> Option<&'static str> {
    if cfg.optimizer.name.is_schedule_free() {
        return Some("x");
    }
    cfg.averaging.as_ref().map(|a| match a.kind {
        burn_lr::averaging::AveragingKind::Swa => "swa",
        burn_lr::averaging::AveragingKind::Ema => "ema",
    })
}

/// Writes the weights a finished run keeps to `model.bpk` in `dir` (atomically: the old file or
/// the new one, never half of it).
///
/// # Errors
/// What failed, in one line naming the file: the record could not be encoded, or as
/// [`write_atomic`].
pub fn save_kept(dir: &std::path::Path, model: &ResNet) -> Result<(), String> {
    use burn::module::Module;
    let path = dir.join(KEPT_MODEL);
    let bytes = model
        .clone()
        .into_record()
        .into_bytes()
        .map_err(|e| format!("{}: the record could not be encoded: {e:?}", path.display()))?;
    write_atomic(&path, &bytes).map_err(|e| e.to_string())
}

/// Whether the weights a run with `cfg` keeps need its last epoch's training batches (their
/// BatchNorm statistics are recomputed over them: an SWA average without buffers and with
/// `update_bn_batches > 0`, schedule-free's `x`), so that a checkpoint alone does not give them.
pub fn kept_needs_batches(cfg: &TrainConfig) -> bool {
    cfg.optimizer.name.is_schedule_free() || cfg.averaging.as_ref().is_some_and(|a| a.recomputes_bn())
}

impl RunWeights {
    /// The weights a run keeps, rebuilt from the model checkpoint of `epoch` in the checkpoint
    /// folder `ckpt` (the trained weights, or an average whose statistics are not recomputed);
    /// `None` where they need the epoch's training batches ([`kept_needs_batches`]).
    ///
    /// # Errors
    /// The checkpoint file that could not be read, and why, in one line.
    pub fn kept_from_checkpoint(self, ckpt: &Path, epoch: usize) -> Option<Result<ResNet, String>> {
        use burn::module::Module;
        let path = crate::run::checkpoint::file_path(ckpt, crate::run::layout::MODEL, epoch);
        let record = || burn::store::ModuleRecord::load(&path).map_err(|e| format!("{}: {e}", path.display()));
        let misfit = |e| format!("{}: {e}", path.display());
        match self {
            Self::Stepped(m) => Some(record().and_then(|r| m.try_load_record(r).map_err(misfit))),
            Self::Averaged(m) if !m.config().recomputes_bn() => {
                Some(record().and_then(|r| m.try_load_record(r).map(|m| m.kept()).map_err(misfit)))
            }
            Self::Averaged(_) | Self::ScheduleFree(_) => None,
        }
    }
}

/// Removes `model.bpk` from `dir` (a run about to train: an earlier finish's weights are not
/// this run's); none there is fine.
///
/// # Errors
/// [`TrainError::Io`] naming the file that could not be removed.
pub fn remove_kept(dir: &std::path::Path) -> Result<(), TrainError> {
    let path = dir.join(KEPT_MODEL);
    match std::fs::remove_file(&path) {
        Err(e) if e.kind() != std::io::ErrorKind::NotFound => Err(TrainError::Io { path, source: e }),
        _ => Ok(()),
    }
}

/// A finished run (its last epoch, `epoch`, checkpointed) whose `model.bpk` in `dir` is missing
/// gets it written from that checkpoint, with one note (the kept weights that need the epoch's
/// batches are trained again instead: `Start::kept_after`).
///
/// # Errors
/// [`TrainError::KeptWeights`] naming the checkpoint that could not be read or the file that
/// could not be written.
pub fn write_missing_kept(dir: &Path, weights: RunWeights, epoch: usize, quiet: bool) -> Result<(), TrainError> {
    let path = dir.join(KEPT_MODEL);
    if std::fs::symlink_metadata(&path).is_ok() {
        return Ok(());
    }
    let failed = |what| TrainError::KeptWeights {
        what,
        resume: resume_note(Some(epoch), epoch),
    };
    let Some(kept) = weights.kept_from_checkpoint(&dir.join(CHECKPOINT_DIR), epoch) else {
        // The resume trains the last epoch again for such weights (`Start::kept_after`).
        return Err(failed(format!(
            "{}: they need the last epoch's training batches, which the checkpoint does not hold",
            path.display()
        )));
    };
    save_kept(dir, &kept.map_err(failed)?).map_err(failed)?;
    if !quiet {
        tell!(
            "note: {} was missing (the run stopped or failed before writing it, or an older burn-lr ran it): \
             written from the checkpoint of epoch {epoch}",
            path.display()
        );
    }
    Ok(())
}
