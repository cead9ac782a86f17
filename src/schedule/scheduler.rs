//! The runtime shells Burn's `Learner` steps: [`DynScheduler`] over any update-indexed
//! [`Schedule`], and [`TrainingScheduler`], which adds the stateful plateau schedule.

use super::compose::Schedule;
use super::record::{read_step, refuse, step_record};
use super::{clamp_lr, LearningRate, MomentumCell, PlateauFeed, ReduceLrOnPlateauScheduler, ScheduleError};
use burn::lr_scheduler::{LrScheduler, LrSchedulerRecord};

/// A Burn [`LrScheduler`] over any update-indexed [`Schedule`] (leaf or composite).
///
/// It counts `step()` calls; its record holds that count plus the schedule's kind and a hash of
/// its whole parameter tree, so a record of another schedule is refused. Resuming a nested
/// composite at any step is exact because the LR is a function of the count alone.
#[derive(Clone, Debug)]
pub struct DynScheduler {
    kind: &'static str,
    schedule: Box<dyn Schedule>,
    step: u64,
    momentum_cell: Option<MomentumCell>,
}

impl DynScheduler {
    /// Wraps `schedule`; `kind` names it in records and messages.
    pub(crate) fn new(kind: &'static str, schedule: Box<dyn Schedule>) -> Self {
        Self {
            kind,
            schedule,
            step: 0,
            momentum_cell: None,
        }
    }

    /// The schedule.
    pub fn schedule(&self) -> &dyn Schedule {
        self.schedule.as_ref()
    }

    /// `step()` calls so far.
    pub fn steps_taken(&self) -> u64 {
        self.step
    }

    /// Restores the step count, refusing a record of another schedule.
    ///
    /// # Errors
    /// [`ScheduleError::RecordMismatch`] / [`ScheduleError::RecordIncomplete`].
    pub fn try_load_record(&mut self, record: &LrSchedulerRecord) -> Result<(), ScheduleError> {
        self.step = read_step(record, self.kind, &self.schedule.fingerprint())?;
        Ok(())
    }
}

impl LrScheduler for DynScheduler {
    fn step(&mut self) -> LearningRate {
        let lr = clamp_lr(self.schedule.lr(self.step));
        if let Some(cell) = &self.momentum_cell {
            if let Some(m) = self.schedule.momentum(self.step) {
                cell.set(self.step, m);
            }
        }
        self.step = self.step.saturating_add(1);
        lr
    }

    fn to_record(&self) -> LrSchedulerRecord {
        step_record(self.kind, &self.schedule.fingerprint(), self.step)
    }

    fn load_record(&mut self, record: LrSchedulerRecord) {
        refuse(self.try_load_record(&record));
    }
}

/// A built [`SchedulerConfig`](super::SchedulerConfig): a Burn [`LrScheduler`] for `Learner::new`.
#[derive(Clone, Debug)]
pub enum TrainingScheduler {
    /// Any step-count schedule, leaf or composite.
    Schedule(DynScheduler),
    /// ReduceLROnPlateau.
    ReduceOnPlateau(ReduceLrOnPlateauScheduler),
}

impl TrainingScheduler {
    /// `step()` calls so far: the 0-based index of the next optimizer update.
    pub fn steps_taken(&self) -> u64 {
        match self {
            Self::Schedule(s) => s.steps_taken(),
            Self::ReduceOnPlateau(s) => s.steps_taken(),
        }
    }

    /// The momentum that goes with the LR of the last `step()` (OneCycle and Cyclic with
    /// `cycle_momentum`); `None` otherwise.
    pub fn momentum(&self) -> Option<f64> {
        match self {
            Self::Schedule(s) => s.step.checked_sub(1).and_then(|k| s.schedule.momentum(k)),
            Self::ReduceOnPlateau(_) => None,
        }
    }

    /// Makes every `step()` write the momentum of its update into `cell`, for a momentum-cycling
    /// optimizer (`burn_lr::optim::CycledSgd` / `CycledAdamW`)
    /// to apply; no effect on schedules that do not cycle momentum.
    pub(crate) fn with_momentum_cell(mut self, cell: MomentumCell) -> Self {
        if let Self::Schedule(s) = &mut self {
            s.momentum_cell = Some(cell);
        }
        self
    }

    /// The momentum of optimizer update `k`, for momentum-cycling schedules.
    pub fn momentum_at_update(&self, k: u64) -> Option<f64> {
        match self {
            Self::Schedule(s) => s.schedule.momentum(k),
            Self::ReduceOnPlateau(_) => None,
        }
    }

    /// The LR of optimizer update `k` (0-based), for step-count schedules.
    pub fn lr_at_update(&self, k: u64) -> Option<LearningRate> {
        match self {
            Self::Schedule(s) => Some(s.schedule.lr(k)),
            Self::ReduceOnPlateau(_) => None,
        }
    }

    /// The plateau feed, for `reduce_on_plateau`.
    pub fn plateau_feed(&self) -> Option<PlateauFeed> {
        match self {
            Self::ReduceOnPlateau(s) => Some(s.feed()),
            Self::Schedule(_) => None,
        }
    }

    /// The LR of the last optimizer update of `epoch` (from 1) in a run with `updates_per_epoch`
    /// updates per epoch; for a plateau schedule, the LR in force during that epoch given the
    /// metrics reported for the epochs before it.
    pub fn lr_in_epoch(&self, epoch: u64, updates_per_epoch: u64) -> LearningRate {
        match self {
            Self::ReduceOnPlateau(s) => s.lr_in_epoch(epoch),
            Self::Schedule(s) => s.schedule.lr((epoch * updates_per_epoch.max(1)).saturating_sub(1)),
        }
    }

    /// Restores from a record, refusing one that belongs to another schedule.
    ///
    /// # Errors
    /// [`ScheduleError::RecordMismatch`] / [`ScheduleError::RecordIncomplete`].
    pub fn try_load_record(&mut self, record: &LrSchedulerRecord) -> Result<(), ScheduleError> {
        match self {
            Self::Schedule(s) => s.try_load_record(record),
            Self::ReduceOnPlateau(s) => s.try_load_record(record),
        }
    }
}

impl LrScheduler for TrainingScheduler {
    fn step(&mut self) -> LearningRate {
        match self {
            Self::Schedule(s) => s.step(),
            Self::ReduceOnPlateau(s) => s.step(),
        }
    }

    fn to_record(&self) -> LrSchedulerRecord {
        match self {
            Self::Schedule(s) => s.to_record(),
            Self::ReduceOnPlateau(s) => s.to_record(),
        }
    }

    fn load_record(&mut self, record: LrSchedulerRecord) {
        refuse(self.try_load_record(&record));
    }
}
