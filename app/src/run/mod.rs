//! One training run: its schedule and optimizer, the run itself over Burn's `Learner`
//! (`train`), the end-of-epoch work (`hook`), what it writes (`artifacts`, `checkpoint`,
//! `metric_logs`, `monitoring`), the artifact directory's life (`dir`), the name of every
//! file and folder in it (`layout`), and the weights it validates and keeps (`weights`).

pub mod artifacts;
pub mod checkpoint;
pub mod dir;
pub mod hook;
pub mod layout;
pub mod metric_logs;
pub mod monitoring;
pub(crate) mod schedule;
mod train;
pub mod weights;

pub use schedule::{check_schedules, optimizer};
pub use train::{load_data, prepare, train, train_in, TrainOptions, TrainSummary};
