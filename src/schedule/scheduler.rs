//! [`Scheduler`]: what [`SchedulerConfig::init`](super::SchedulerConfig::init) builds, the one
//! Burn `LrScheduler` a `Learner` steps for any `[scheduler]` table.

use super::base::{clamp_lr, Schedule};
use super::error::ScheduleError;
use super::momentum::MomentumCell;
use super::plateau::{PlateauFeed, ReduceLrOnPlateauScheduler};
use super::record::{read_step, refuse, step_record};
use burn::lr_scheduler::{LrScheduler, LrSchedulerRecord};
use burn::optim::LearningRate;

/// A built [`SchedulerConfig`](super::SchedulerConfig): a Burn [`LrScheduler`] for
/// `Learner::new`, one `step()` per optimizer update.
///
/// Every schedule but `reduce_on_plateau` is a function of the update count `k` alone: `step()`
/// returns the LR of update `k` and counts it, and the record holds `k` plus the schedule's kind
/// and a hash of its whole parameter tree, so a resume is exact at any update and a record of
/// another schedule is refused. `reduce_on_plateau` is the one stateful schedule, fed one
/// validation metric per epoch through its [`PlateauFeed`].
#[derive(Clone, Debug)]
pub struct Scheduler {
    kind: &'static str,
    inner: Inner,
    momentum_cell: Option<MomentumCell>,
}

#[derive(Clone, Debug)]
enum Inner {
    /// Any update-indexed schedule, leaf or composite, and the updates stepped so far.
    Stepped { schedule: Box<dyn Schedule>, step: u64 },
    /// ReduceLROnPlateau.
    ReduceOnPlateau(ReduceLrOnPlateauScheduler),
}

impl Scheduler {
    /// An update-indexed schedule; `kind` names it in records and messages.
    pub(crate) fn stepped(kind: &'static str, schedule: Box<dyn Schedule>) -> Self {
        let inner = Inner::Stepped { schedule, step: 0 };
        Self {
            kind,
            inner,
            momentum_cell: None,
        }
    }

    /// The plateau schedule.
    pub(crate) fn reduce_on_plateau(kind: &'static str, scheduler: ReduceLrOnPlateauScheduler) -> Self {
        Self {
            kind,
            inner: Inner::ReduceOnPlateau(scheduler),
            momentum_cell: None,
        }
    }

    /// The schedule's TOML `type` (its kind in records).
    pub fn kind(&self) -> &'static str {
        self.kind
    }

    /// `step()` calls so far: the 0-based index of the next optimizer update.
    pub fn steps_taken(&self) -> u64 {
        match &self.inner {
            Inner::Stepped { step, .. } => *step,
            Inner::ReduceOnPlateau(s) => s.steps_taken(),
        }
    }

    /// The momentum that goes with the LR of the last `step()` (OneCycle and Cyclic with
    /// `cycle_momentum`); `None` otherwise.
    pub fn momentum(&self) -> Option<f64> {
        self.steps_taken()
            .checked_sub(1)
            .and_then(|k| self.momentum_at_update(k))
    }

    /// Makes every `step()` write the momentum of its update into `cell`, for a momentum-cycling
    /// optimizer (`burn_lr::optim::CycledSgd` / `CycledAdamW`) to apply; no effect on schedules
    /// that do not cycle momentum.
    pub(crate) fn with_momentum_cell(mut self, cell: MomentumCell) -> Self {
        self.momentum_cell = Some(cell);
        self
    }

    /// The momentum of optimizer update `k`, for momentum-cycling schedules.
    pub fn momentum_at_update(&self, k: u64) -> Option<f64> {
        match &self.inner {
            Inner::Stepped { schedule, .. } => schedule.momentum(k),
            Inner::ReduceOnPlateau(_) => None,
        }
    }

    /// The LR of optimizer update `k` (0-based), for step-count schedules; `None` for
    /// `reduce_on_plateau`.
    pub fn lr_at_update(&self, k: u64) -> Option<LearningRate> {
        match &self.inner {
            Inner::Stepped { schedule, .. } => Some(schedule.lr(k)),
            Inner::ReduceOnPlateau(_) => None,
        }
    }

    /// The plateau feed, for `reduce_on_plateau`.
    pub fn plateau_feed(&self) -> Option<PlateauFeed> {
        match &self.inner {
            Inner::ReduceOnPlateau(s) => Some(s.feed()),
            Inner::Stepped { .. } => None,
        }
    }

    /// The LR of the last optimizer update of `epoch` (from 1) in a run with `updates_per_epoch`
    /// updates per epoch; for a plateau schedule, the LR in force during that epoch given the
    /// metrics reported for the epochs before it.
    pub fn lr_in_epoch(&self, epoch: u64, updates_per_epoch: u64) -> LearningRate {
        match &self.inner {
            Inner::ReduceOnPlateau(s) => s.lr_in_epoch(epoch),
            Inner::Stepped { schedule, .. } => schedule.lr((epoch * updates_per_epoch.max(1)).saturating_sub(1)),
        }
    }

    /// Restores from a record, refusing one that belongs to another schedule or other
    /// parameters.
    ///
    /// # Errors
    /// [`ScheduleError::RecordMismatch`] / [`ScheduleError::RecordIncomplete`].
    pub fn try_load_record(&mut self, record: &LrSchedulerRecord) -> Result<(), ScheduleError> {
        match &mut self.inner {
            Inner::Stepped { schedule, step } => {
                *step = read_step(record, self.kind, &schedule.fingerprint())?;
                Ok(())
            }
            Inner::ReduceOnPlateau(s) => s.try_load_record(record),
        }
    }
}

impl LrScheduler for Scheduler {
    fn step(&mut self) -> LearningRate {
        match &mut self.inner {
            Inner::Stepped { schedule, step } => {
                let lr = clamp_lr(schedule.lr(*step));
                if let (Some(cell), Some(m)) = (&self.momentum_cell, schedule.momentum(*step)) {
                    cell.set(*step, m);
                }
                *step = step.saturating_add(1);
                lr
            }
            Inner::ReduceOnPlateau(s) => s.step(),
        }
    }

    fn to_record(&self) -> LrSchedulerRecord {
        match &self.inner {
            Inner::Stepped { schedule, step } => step_record(self.kind, &schedule.fingerprint(), *step),
            Inner::ReduceOnPlateau(s) => s.to_record(),
        }
    }

    fn load_record(&mut self, record: LrSchedulerRecord) {
        refuse(self.try_load_record(&record));
    }
}
