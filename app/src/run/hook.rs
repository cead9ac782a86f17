//! The end-of-epoch work of the app's run, in Burn's early-stopping slot (after the epoch's
//! checkpoint was handed to the checkpointer threads), as six named steps in order:
//! 1. `wait_for_checkpoint`: that checkpoint is on disk and sealed;
//! 2. `finite_row`: the epoch's row; a loss that is not finite (with `on_non_finite = "stop"`)
//!    stops the run and deletes that epoch's checkpoint;
//! 3. `feed_plateau`: the plateau schedules get the epoch's metric;
//! 4. `commit`: the run's seal of the epoch, then `metrics.csv` ([`EpochCommit`]), then
//!    TensorBoard's scalars;
//! 5. `report`: only then the epoch line with its time and the run's ETA (a closed or full
//!    stdout, or Burn's metric logs that failed, end the run here);
//! 6. `requested_stop`: a stop request (Ctrl-C) ends the run after this committed epoch.
//!
//! So an epoch line or row never exists without its checkpoint, a checkpoint is resumed from
//! only once its rows are committed, and every committed epoch is resumable.

use crate::run::artifacts::EpochRecord;
use crate::run::checkpoint::{remove_epoch, CheckpointLedger};
use crate::run::dir::{CommitError, EpochCommit};
use crate::run::metric_logs::MetricLogErrors;
use crate::run::weights::LiveValidation;
use burn::train::metric::store::{Aggregate, EventStoreClient, Split};
use burn::train::EarlyStoppingStrategy;
use burn_lr::learner::{OnNonFinite, PlateauEarlyStopping, StopRequest};
use burn_lr::monitor::TensorBoardLog;
use burn_lr::schedule::Scheduler;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// How long the hook waits for an epoch's checkpoint files before it stops the run.
const CHECKPOINT_WAIT: Duration = Duration::from_secs(3600);

/// Why the hook ended the run.
#[derive(Debug, Clone, PartialEq)]
pub enum HookStop {
    /// The epoch's checkpoint was not written (the write error).
    Checkpoint(String),
    /// A loss of the epoch was not finite (what and where).
    NonFinite(String),
    /// A [`StopRequest`] arrived; this epoch is checkpointed and logged.
    Requested,
    /// Stdout could not be written (closed or full); this epoch is committed.
    OutputClosed(std::io::ErrorKind),
    /// Burn's metric logs (`train/`, `valid/`) or `metrics.csv` after the seal could not be
    /// written (the write error); this epoch is committed.
    Logs(String),
}

/// What the hook keeps between epochs (shared by Burn's clones of the hook).
struct EpochLog {
    rows: Vec<EpochRecord>,
    started: Instant,
    last: Instant,
    trained: usize,
    stop: Option<HookStop>,
    /// Whether the latest epoch validated the stepped model apart from the kept weights.
    live_observed: bool,
}

/// The last epoch decided and whether the run stopped there (shared by Burn's clones).
type Decision = Arc<Mutex<Option<(usize, bool)>>>;

/// The hook; see the module documentation.
#[derive(Clone)]
pub struct EpochHook {
    plateau: PlateauEarlyStopping,
    scheduler: Scheduler,
    updates_per_epoch: u64,
    /// The epochs of the whole run (for the epoch line).
    epochs: usize,
    /// The last epoch this process trains (`--stop-after-epoch`).
    last_epoch: usize,
    commit: EpochCommit,
    logs: MetricLogErrors,
    ledger: CheckpointLedger,
    on_non_finite: OnNonFinite,
    stop: Option<StopRequest>,
    print: bool,
    train_images: usize,
    tensorboard: Option<TensorBoardLog>,
    live: Option<(LiveValidation, String)>,
    log: Arc<Mutex<EpochLog>>,
    decided: Decision,
}

/// The settings of an [`EpochHook`].
pub struct HookSettings {
    /// The plateau feed.
    pub plateau: PlateauEarlyStopping,
    /// The base schedule (the LR of each epoch's last update).
    pub scheduler: Scheduler,
    /// Optimizer updates per epoch.
    pub updates_per_epoch: u64,
    /// Epochs of the run (for the epoch line).
    pub epochs: usize,
    /// The last epoch this process trains (`--stop-after-epoch`).
    pub last_epoch: usize,
    /// How an epoch is committed (its seal, `metrics.csv`).
    pub commit: EpochCommit,
    /// The write errors of Burn's metric logs.
    pub logs: MetricLogErrors,
    /// Where the checkpointers report finished writes.
    pub ledger: CheckpointLedger,
    /// `[training] on_non_finite`.
    pub on_non_finite: OnNonFinite,
    /// Ends the run after the epoch in progress when requested.
    pub stop: Option<StopRequest>,
    /// Print the epoch lines.
    pub print: bool,
    /// Training images per epoch (for images/s).
    pub train_images: usize,
    /// The run's TensorBoard log (`Loss/train`, `Loss/valid`, `Accuracy/valid` per epoch).
    pub tensorboard: Option<TensorBoardLog>,
    /// In a run that validates other weights than it steps: the stepped model's validation
    /// sums, and the validated weights' short name for the epoch line (`swa`, `ema`, `x`).
    pub live: Option<(LiveValidation, String)>,
}

impl EpochHook {
    /// A hook continuing after `rows` (the rows of a resumed run's earlier epochs).
    pub fn new(s: HookSettings, rows: Vec<EpochRecord>) -> Self {
        Self {
            plateau: s.plateau,
            scheduler: s.scheduler,
            updates_per_epoch: s.updates_per_epoch,
            epochs: s.epochs,
            last_epoch: s.last_epoch,
            commit: s.commit,
            logs: s.logs,
            ledger: s.ledger,
            on_non_finite: s.on_non_finite,
            stop: s.stop,
            print: s.print,
            train_images: s.train_images,
            tensorboard: s.tensorboard,
            live: s.live,
            log: Arc::new(Mutex::new(EpochLog {
                rows,
                started: Instant::now(),
                last: Instant::now(),
                trained: 0,
                stop: None,
                live_observed: false,
            })),
            decided: Decision::default(),
        }
    }

    /// The epoch's row (NaN for a metric Burn has no value of) and the losses that Burn has
    /// and that are not finite.
    fn record(&self, epoch: usize, store: &EventStoreClient) -> (EpochRecord, Vec<String>) {
        let get = |name: &str, split: Split| store.find_metric(name, epoch, Aggregate::Mean, &split);
        let (train_loss, val_loss) = (get("Loss", Split::Train), get("Loss", Split::Valid));
        let bad: Vec<String> = [("training", train_loss), ("validation", val_loss)]
            .into_iter()
            .filter_map(|(what, v)| v.filter(|v| !v.is_finite()).map(|v| format!("{what} loss is {v}")))
            .collect();
        let row = EpochRecord {
            epoch,
            train_loss: train_loss.unwrap_or(f64::NAN),
            val_loss: val_loss.unwrap_or(f64::NAN),
            val_acc: get("Accuracy", Split::Valid).unwrap_or(f64::NAN),
            lr: self.scheduler.lr_in_epoch(epoch as u64, self.updates_per_epoch),
            seconds: f64::NAN,
            images_per_s: f64::NAN,
            live: None,
        };
        // The stepped model's sums (none while the validated model was the stepped one).
        let live = self.live.as_ref().map(|(live, _)| live.take());
        self.lock().live_observed = live.is_some_and(|l| l.is_some());
        let row = EpochRecord {
            live: live.map(|l| l.unwrap_or((row.val_loss, row.val_acc))),
            ..row
        };
        (row, bad)
    }

    /// Starts the epoch clock (call it when the first training batch starts: the setup before
    /// it, loaders, model, a resumed checkpoint, is not the epoch's time); later calls do nothing.
    pub fn start_clock(&self) {
        let mut log = self.lock();
        if log.trained == 0 {
            (log.started, log.last) = (Instant::now(), Instant::now());
        }
    }

    /// The epochs logged so far.
    pub fn rows(&self) -> Vec<EpochRecord> {
        self.lock().rows.clone()
    }

    /// Why the hook stopped the run, if it did.
    pub fn stopped(&self) -> Option<HookStop> {
        self.lock().stop.clone()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, EpochLog> {
        self.log.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Times `row` (its epoch's wall time: training, validation and checkpoint; images/s over
    /// it) and returns `  41.2s  312 img/s  eta 2m03s`, the time left at the mean epoch time
    /// so far.
    fn timing(&self, log: &mut EpochLog, row: &mut EpochRecord) -> String {
        log.trained += 1;
        let this = log.last.elapsed().as_secs_f64();
        log.last = Instant::now();
        // Rounded as metrics.csv writes them (ms, 0.1 image/s), so a row reads back equal.
        row.seconds = (this * 1e3).round() / 1e3;
        row.images_per_s = (self.train_images as f64 / this.max(1e-9) * 10.0).round() / 10.0;
        let per_epoch = log.started.elapsed().as_secs_f64() / log.trained as f64;
        let left = self.last_epoch.saturating_sub(row.epoch) as f64 * per_epoch;
        format!("  {this:.1}s  {:.0} img/s  eta {}", row.images_per_s, eta(left))
    }
}

impl EarlyStoppingStrategy for EpochHook {
    /// Decides once per epoch: under Burn's DDP every device's clone of the hook asks for the
    /// same epoch (after Burn's epoch barrier), and all must get the same answer (a device
    /// that stopped alone would leave the others waiting in their next all-reduce), so the
    /// first one decides (the row, the epoch line, TensorBoard, a stop) and the others read it.
    fn should_stop(&mut self, epoch: usize, store: &EventStoreClient) -> bool {
        let decided = self.decided.clone();
        let mut decided = decided.lock().unwrap_or_else(|e| e.into_inner());
        if let Some((e, stop)) = *decided {
            if e == epoch {
                return stop;
            }
        }
        let stop = self.decide(epoch, store);
        *decided = Some((epoch, stop));
        stop
    }
}

/// The outcome of one step of an epoch's end: go on (with what the next step needs), or end
/// the run (with why, or `None` where the step that stopped it keeps its own reason: the
/// plateau feed).
type Step<T> = Result<T, Option<HookStop>>;

impl EpochHook {
    /// The end of epoch `epoch`, in its named steps; `true` ends the run.
    fn decide(&mut self, epoch: usize, store: &EventStoreClient) -> bool {
        match self.end_epoch(epoch, store) {
            Ok(()) => false,
            Err(why) => {
                if let Some(why) = why {
                    self.lock().stop = Some(why);
                }
                true
            }
        }
    }

    /// The steps, in order (see the module documentation).
    fn end_epoch(&mut self, epoch: usize, store: &EventStoreClient) -> Step<()> {
        self.wait_for_checkpoint(epoch)?;
        let row = self.finite_row(epoch, store)?;
        self.feed_plateau(epoch, store)?;
        let line = self.commit(epoch, row)?;
        self.report(epoch, &line)?;
        self.requested_stop(epoch)
    }

    /// Step 1: the epoch's checkpoint files are on disk and sealed.
    fn wait_for_checkpoint(&self, epoch: usize) -> Step<()> {
        self.ledger
            .wait(epoch, CHECKPOINT_WAIT)
            .map_err(|why| Some(HookStop::Checkpoint(why)))
    }

    /// Step 2: the epoch's row; with `on_non_finite = "stop"`, a loss that is not finite ends
    /// the run and removes the epoch's checkpoint (its weights are never resumed from).
    fn finite_row(&self, epoch: usize, store: &EventStoreClient) -> Step<EpochRecord> {
        let (row, bad) = self.record(epoch, store);
        if self.on_non_finite != OnNonFinite::Stop || bad.is_empty() {
            return Ok(row);
        }
        let removed = match remove_epoch(&self.commit.checkpoints(), epoch) {
            Ok(()) => String::new(),
            Err(e) => format!(" (its checkpoint could not be removed: {e})"),
        };
        Err(Some(HookStop::NonFinite(format!(
            "{} at the end of epoch {epoch}, learning rate {:e}{removed}",
            bad.join(", "),
            row.lr
        ))))
    }

    /// Step 3: the plateau schedules get the epoch's metric (the run stops when one's metric
    /// does not exist, with the plateau feed's own message).
    fn feed_plateau(&mut self, epoch: usize, store: &EventStoreClient) -> Step<()> {
        match self.plateau.should_stop(epoch, store) {
            true => Err(None),
            false => Ok(()),
        }
    }

    /// Step 4: the row timed and committed (the run's seal of the epoch, then `metrics.csv`)
    /// before any line is printed: a line or a row never exists without its checkpoint. Returns
    /// the epoch line.
    fn commit(&self, epoch: usize, mut row: EpochRecord) -> Step<String> {
        let mut log = self.lock();
        let timing = self.timing(&mut log, &mut row);
        let evaluated = self.live.as_ref().map(|(_, name)| (name.as_str(), log.live_observed));
        let line = format!("{}{timing}", row.line(self.epochs, evaluated));
        let scalars = epoch_scalars(&row);
        log.rows.retain(|r| r.epoch < epoch);
        log.rows.push(row);
        self.commit.commit(epoch, &log.rows).map_err(|e| match e {
            CommitError::Seal(why) => Some(HookStop::Checkpoint(why)),
            CommitError::Metrics(why) => Some(HookStop::Logs(why)),
        })?;
        if let Some(tb) = &self.tensorboard {
            tb.epoch(epoch as u64, &scalars);
        }
        Ok(line)
    }

    /// Step 5: the epoch line, and whether the run can go on writing: a closed or full stdout,
    /// or Burn's metric logs that failed, end it (after the last epoch there is nothing left
    /// to stop: the run is complete, a failed log is a warning).
    fn report(&self, epoch: usize, line: &str) -> Step<()> {
        let more = epoch < self.last_epoch;
        if self.print && !say!("{line}") && more {
            if let Some(kind) = crate::out::stdout_failure() {
                return Err(Some(HookStop::OutputClosed(kind)));
            }
        }
        match self.logs.first() {
            Some(why) if more => Err(Some(HookStop::Logs(why))),
            Some(why) => {
                tell!("warning: metric logs not written: {why}");
                Ok(())
            }
            None => Ok(()),
        }
    }

    /// Step 6: a stop request (Ctrl-C) ends the run after this committed epoch.
    fn requested_stop(&self, epoch: usize) -> Step<()> {
        match self.stop.as_ref().is_some_and(StopRequest::is_requested) && epoch < self.last_epoch {
            true => Err(Some(HookStop::Requested)),
            false => Ok(()),
        }
    }
}

/// The TensorBoard scalars of an epoch: `Loss/train`, `Loss/valid`, `Accuracy/valid` (%), and
/// in a run that validates other weights than it steps `Loss/valid_stepped`,
/// `Accuracy/valid_stepped` (the stepped model's).
pub fn epoch_scalars(row: &EpochRecord) -> Vec<(&'static str, f64)> {
    let mut scalars = vec![
        ("Loss/train", row.train_loss),
        ("Loss/valid", row.val_loss),
        ("Accuracy/valid", row.val_acc),
    ];
    if let Some((loss, acc)) = row.live {
        scalars.extend([("Loss/valid_stepped", loss), ("Accuracy/valid_stepped", acc)]);
    }
    scalars
}

/// The time left as the epoch line shows it: `1h02m`, `2m03s` or `41s`.
fn eta(seconds: f64) -> String {
    let whole = seconds.max(0.0).round() as u64;
    let (h, m, s) = (whole / 3600, whole / 60 % 60, whole % 60);
    if h > 0 {
        format!("{h}h{m:02}m")
    } else if m > 0 {
        format!("{m}m{s:02}s")
    } else {
        format!("{s}s")
    }
}
