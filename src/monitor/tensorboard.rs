//! TensorBoard event files (`events.out.tfevents.*`), as TensorFlow and PyTorch's
//! `SummaryWriter` write them: TFRecord framing (length, masked CRC-32C, `Event` protobuf,
//! masked CRC-32C) around `Event { wall_time, step, summary { value { tag, simple_value } } }`.
//!
//! The protobuf messages are declared here with `prost`'s derive (no `protoc` at build time):
//! the crates that ship ready-made writers need `protoc` in every user's build (`tboard`) or are
//! on an unmaintained protobuf 2 runtime (`tensorboard-rs`).

use super::error::MonitorError;
use crate::learner::{LrObserver, LrUpdate};
use prost::Message;
use std::fs::File;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

/// `tensorflow.Event` (`tensorboard/compat/proto/event.proto`), the fields written here.
#[derive(Clone, PartialEq, Message)]
struct Event {
    #[prost(double, tag = "1")]
    wall_time: f64,
    #[prost(int64, tag = "2")]
    step: i64,
    #[prost(string, optional, tag = "3")]
    file_version: Option<String>,
    #[prost(message, optional, tag = "5")]
    summary: Option<Summary>,
}

/// `tensorflow.Summary`.
#[derive(Clone, PartialEq, Message)]
struct Summary {
    #[prost(message, repeated, tag = "1")]
    value: Vec<SummaryValue>,
}

/// `tensorflow.Summary.Value` with its `simple_value` (a scalar).
#[derive(Clone, PartialEq, Message)]
struct SummaryValue {
    #[prost(string, tag = "1")]
    tag: String,
    #[prost(float, optional, tag = "2")]
    simple_value: Option<f32>,
}

/// TFRecord's masked CRC-32C.
fn masked_crc(data: &[u8]) -> u32 {
    let crc = crc32c::crc32c(data);
    crc.rotate_right(15).wrapping_add(0xa282_ead8)
}

fn now() -> f64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0.0, |d| d.as_secs_f64())
}

/// The start of every TensorBoard event file name (`events.out.tfevents.<seconds>.<host>.<pid>`).
pub const EVENT_FILE_PREFIX: &str = "events.out.tfevents.";

/// One TensorBoard event file, written record by record (each one `write` call, so a killed
/// run leaves whole records and at most one torn one at the end, which readers skip).
pub(crate) struct EventWriter {
    file: File,
    path: PathBuf,
}

impl EventWriter {
    /// Creates `dir/events.out.tfevents.<seconds>.<host>.<pid>` (the folder too) and writes
    /// the file-version record TensorBoard expects first.
    ///
    /// # Errors
    /// [`MonitorError::Io`] naming the file.
    pub fn create(dir: &Path) -> Result<Self, MonitorError> {
        std::fs::create_dir_all(dir).map_err(MonitorError::io(dir))?;
        let host = std::fs::read_to_string("/proc/sys/kernel/hostname")
            .ok()
            .or_else(|| std::env::var("COMPUTERNAME").ok())
            .map(|h| h.trim().replace(['/', '\\'], "_"))
            .filter(|h| !h.is_empty())
            .unwrap_or_else(|| "localhost".into());
        let path = dir.join(format!(
            "{EVENT_FILE_PREFIX}{}.{host}.{}",
            now() as u64,
            std::process::id()
        ));
        let file = File::create(&path).map_err(MonitorError::io(&path))?;
        let mut writer = Self { file, path };
        writer.write(&Event {
            wall_time: now(),
            step: 0,
            file_version: Some("brain.Event:2".into()),
            summary: None,
        })?;
        Ok(writer)
    }

    /// The file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Writes the scalars `(tag, value)` of `step` (one event per scalar, as `SummaryWriter`'s
    /// `add_scalar`).
    ///
    /// # Errors
    /// [`MonitorError::Io`] naming the file.
    pub fn scalars(&mut self, step: i64, scalars: &[(&str, f64)]) -> Result<(), MonitorError> {
        for (tag, value) in scalars {
            self.write(&Event {
                wall_time: now(),
                step,
                file_version: None,
                summary: Some(Summary {
                    value: vec![SummaryValue {
                        tag: tag.to_string(),
                        simple_value: Some(*value as f32),
                    }],
                }),
            })?;
        }
        Ok(())
    }

    fn write(&mut self, event: &Event) -> Result<(), MonitorError> {
        let data = event.encode_to_vec();
        let len = (data.len() as u64).to_le_bytes();
        let mut record = Vec::with_capacity(data.len() + 16);
        record.extend_from_slice(&len);
        record.extend_from_slice(&masked_crc(&len).to_le_bytes());
        record.extend_from_slice(&data);
        record.extend_from_slice(&masked_crc(&data).to_le_bytes());
        self.file.write_all(&record).map_err(MonitorError::io(&self.path))
    }
}

/// A scalar read back from an event file.
#[derive(Debug, Clone, PartialEq)]
pub struct ScalarEvent {
    /// The tag (`Learning_Rate`, `Loss/train`, ...).
    pub tag: String,
    /// The step: the optimizer update (from 0) for `Learning_Rate*` and `Momentum`, the epoch
    /// (from 1) for the epoch scalars of [`TensorBoardLog::epoch`].
    pub step: i64,
    /// The value (TensorBoard stores `float`).
    pub value: f32,
}

/// Reads the scalars of an event file, checking every record's CRCs; a torn last record (a
/// killed writer) ends the file, as TensorBoard reads it.
///
/// # Errors
/// [`MonitorError::Io`], or [`MonitorError::Parse`] (line = record number, from 1) for a
/// record whose CRC or protobuf is wrong.
pub fn read_events(path: &Path) -> Result<Vec<ScalarEvent>, MonitorError> {
    let bytes = std::fs::read(path).map_err(MonitorError::io(path))?;
    let bad = |record: usize, why: &str| MonitorError::Parse {
        path: path.to_path_buf(),
        line: record,
        why: why.into(),
    };
    let mut out = Vec::new();
    let (mut at, mut record) = (0usize, 0usize);
    while at + 12 <= bytes.len() {
        record += 1;
        let len_bytes = &bytes[at..at + 8];
        let crc = u32::from_le_bytes(bytes[at + 8..at + 12].try_into().expect("4 bytes"));
        if masked_crc(len_bytes) != crc {
            return Err(bad(record, "length CRC mismatch"));
        }
        let len = u64::from_le_bytes(len_bytes.try_into().expect("8 bytes")) as usize;
        let Some(end) = (at + 12).checked_add(len).filter(|e| e + 4 <= bytes.len()) else {
            break;
        };
        let data = &bytes[at + 12..end];
        if masked_crc(data).to_le_bytes() != bytes[end..end + 4] {
            return Err(bad(record, "data CRC mismatch"));
        }
        let event = Event::decode(data).map_err(|_| bad(record, "not an Event protobuf"))?;
        for v in event.summary.into_iter().flat_map(|s| s.value) {
            if let Some(value) = v.simple_value {
                out.push(ScalarEvent {
                    tag: v.tag,
                    step: event.step,
                    value,
                });
            }
        }
        at = end + 4;
    }
    Ok(out)
}

struct Log {
    writer: EventWriter,
    groups: Vec<String>,
    error: Option<String>,
}

/// The TensorBoard log of a training run: an [`LrObserver`] writing `Learning_Rate` (the base
/// schedule), `Learning_Rate/<params>` (each parameter group) and `Momentum` (where cycled) at
/// every optimizer update (step = the update, from 0), plus [`Self::epoch`]'s scalars (step =
/// the epoch, from 1). Clones share the file.
#[derive(Clone)]
pub struct TensorBoardLog(Arc<Mutex<Log>>);

impl TensorBoardLog {
    /// Starts a new event file in `dir`, deleting the event files already there: a resumed run
    /// replays what it keeps (from `lr.csv` and `metrics.csv`) so that no step appears twice.
    ///
    /// # Errors
    /// [`MonitorError::Io`].
    pub fn create(dir: &Path, groups: &[&str]) -> Result<Self, MonitorError> {
        if let Ok(entries) = std::fs::read_dir(dir) {
            for entry in entries.flatten() {
                if entry.file_name().to_string_lossy().starts_with(EVENT_FILE_PREFIX) {
                    std::fs::remove_file(entry.path()).map_err(MonitorError::io(entry.path()))?;
                }
            }
        }
        Ok(Self(Arc::new(Mutex::new(Log {
            writer: EventWriter::create(dir)?,
            groups: groups.iter().map(|g| g.to_string()).collect(),
            error: None,
        }))))
    }

    /// Writes the scalars of epoch `epoch` (e.g. `("Loss/train", 1.23)`); a write error is kept
    /// for [`Self::error`] (the run goes on).
    pub fn epoch(&self, epoch: u64, scalars: &[(&str, f64)]) {
        self.write(epoch as i64, scalars);
    }

    /// The event file.
    pub fn path(&self) -> PathBuf {
        self.lock().writer.path().to_path_buf()
    }

    /// The first write error, if any (the log stops writing after it).
    pub fn error(&self) -> Option<String> {
        self.lock().error.clone()
    }

    fn write(&self, step: i64, scalars: &[(&str, f64)]) {
        let mut log = self.lock();
        if log.error.is_none() {
            if let Err(e) = log.writer.scalars(step, scalars) {
                log.error = Some(e.to_string());
            }
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Log> {
        self.0.lock().unwrap_or_else(|e| e.into_inner())
    }
}

impl LrObserver for TensorBoardLog {
    fn observe(&mut self, u: &LrUpdate<'_>) {
        let tags: Vec<String> = self
            .lock()
            .groups
            .iter()
            .map(|g| format!("Learning_Rate/{g}"))
            .collect();
        let mut scalars: Vec<(&str, f64)> = vec![("Learning_Rate", u.lr)];
        scalars.extend(tags.iter().map(String::as_str).zip(u.group_lrs.iter().copied()));
        if let Some(m) = u.momentum {
            scalars.push(("Momentum", m));
        }
        self.write(u.step as i64, &scalars);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn masked_crc_matches_tensorflow() {
        // TensorFlow's crc32c_test: crc32c("123456789") = 0xe3069283.
        assert_eq!(crc32c::crc32c(b"123456789"), 0xe306_9283);
        // ((crc >> 15) | (crc << 17)) + 0xa282ead8, as TensorFlow's crc32c::Mask.
        assert_eq!(masked_crc(b"123456789"), 0xc78a_b0e5);
    }

    #[test]
    fn scalars_read_back_with_their_steps_and_a_torn_record_ends_the_file() {
        let dir = tempfile::tempdir().unwrap();
        let mut log = TensorBoardLog::create(dir.path(), &["fc"]).unwrap();
        for step in 0..3u64 {
            log.observe(&LrUpdate {
                step,
                epoch: 1,
                lr: 0.1 * step as f64,
                group_lrs: &[0.01],
                momentum: Some(0.9),
            });
        }
        log.epoch(1, &[("Loss/train", 2.5), ("Accuracy/valid", 0.0)]);
        let path = log.path();
        let events = read_events(&path).unwrap();
        assert_eq!(events.len(), 3 * 3 + 2);
        assert_eq!(
            events[3],
            ScalarEvent {
                tag: "Learning_Rate".into(),
                step: 1,
                value: 0.1
            }
        );
        assert_eq!(events[4].tag, "Learning_Rate/fc");
        assert_eq!(
            events[5],
            ScalarEvent {
                tag: "Momentum".into(),
                step: 1,
                value: 0.9
            }
        );
        assert_eq!(
            events[10],
            ScalarEvent {
                tag: "Accuracy/valid".into(),
                step: 1,
                value: 0.0
            }
        );
        let bytes = std::fs::read(&path).unwrap();
        std::fs::write(&path, &bytes[..bytes.len() - 3]).unwrap();
        assert_eq!(read_events(&path).unwrap().len(), 10);
        // A new log replaces the old file.
        let again = TensorBoardLog::create(dir.path(), &[]).unwrap();
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1);
        assert!(read_events(&again.path()).unwrap().is_empty());
    }
}
