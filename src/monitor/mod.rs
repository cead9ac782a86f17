//! See the schedule: what a run used and how it went, as files a user looks at rather than
//! reads (cargo feature `monitor`, on with `app`).
//!
//! - [`LrLog`]: `lr.csv`, one row per optimizer update (`step,epoch,lr`, one `lr_<params>`
//!   column per parameter group, `momentum` where cycled), appended as the run goes and
//!   continued on resume; the values the schedulers returned to Burn (an
//!   [`LrObserver`](crate::learner::LrObserver), attached with
//!   [`LearnerSchedule::with_observer`](crate::learner::LearnerSchedule::with_observer)).
//! - [`TensorBoardLog`]: TensorBoard event files (`events.out.tfevents.*`): `Learning_Rate`
//!   (one tag per group) and `Momentum` every update, epoch scalars such as `Loss/train`.
//! - [`plot`]: PNG charts (1200x800): the LR schedule (log axis, epoch boundaries, groups,
//!   momentum), loss and accuracy per epoch, a schedule preview, the LR range test.
//! - [`lr_find()`]: Smith's LR range test on any Burn model and optimizer, with fastai's
//!   suggestions.
//! - [`progress_bar`]: a terminal progress bar (ETA, images/s, LR, running loss) for
//!   [`QuietRenderer::with_progress`](crate::learner::QuietRenderer::with_progress).

mod chart;
mod error;
mod files;
pub mod lr_find;
mod lr_log;
pub mod overlay;
pub mod plot;
mod progress;
mod tensorboard;

pub use error::MonitorError;
pub use files::{check_output, file_kind, remove_stale_temp_files, write_file, Output, TMP_PREFIX};
pub use lr_find::{lr_find, LrFindConfig, LrFindMode, LrFindPoint, LrFindResult, LrFindStop, Suggestions};
pub use lr_log::{read_lr_csv, LrLog, LrRow, LrTrace, LR_CSV};
pub use progress::progress_bar;
pub use tensorboard::{read_events, ScalarEvent, TensorBoardLog, EVENT_FILE_PREFIX};
