//! Burn's per-iteration metric logs (`train/epoch-N/<Metric>.log`, `valid/epoch-N/...`), written
//! as Burn's own `FileMetricLogger` writes them, but without its panics: Burn's logger panics
//! on any failed create or write (a full disk, a file where its folder belongs), and then
//! again in a destructor, which aborts the process. Here the first write error is kept
//! ([`MetricLogErrors`]), the logs stop, and the end-of-epoch hook ends the run with one line
//! (exit 1, every committed epoch resumable). The values Burn aggregates (the epoch's mean loss
//! and accuracy, the plateau metric) are read from memory, so a failed write never changes
//! them; earlier epochs (a resumed run) are read from the files, skipping lines that are not
//! numbers rather than panicking as Burn's reader does.

use burn::train::logger::MetricLogger;
use burn::train::metric::store::{EpochSummary, MetricsUpdate, Split};
use burn::train::metric::{MetricDefinition, MetricId, NumericEntry};
use std::collections::HashMap;
use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

/// The first write error of the metric logs, shared with the end-of-epoch hook.
#[derive(Clone, Default)]
pub struct MetricLogErrors(Arc<Mutex<Option<String>>>);

impl MetricLogErrors {
    /// The first write error, if any (`path: error`).
    pub fn first(&self) -> Option<String> {
        self.0.lock().unwrap_or_else(|e| e.into_inner()).clone()
    }

    fn set(&self, why: String) {
        self.0.lock().unwrap_or_else(|e| e.into_inner()).get_or_insert(why);
    }
}

/// One numeric series of an epoch: (metric name, split, epoch).
type Series = (String, String, usize);

/// A Burn [`MetricLogger`] writing Burn's metric log files under a run's artifact directory;
/// see the module documentation.
pub struct FileMetricLogs {
    dir: PathBuf,
    definitions: HashMap<MetricId, MetricDefinition>,
    files: HashMap<(String, String), BufWriter<File>>,
    /// The serialized numeric entries of the current and the previous epoch.
    values: HashMap<Series, Vec<String>>,
    epoch: Option<usize>,
    errors: MetricLogErrors,
}

impl FileMetricLogs {
    /// The logs of the run in `dir`, reporting write errors to `errors`.
    pub fn new(dir: &Path, errors: MetricLogErrors) -> Self {
        Self {
            dir: dir.to_path_buf(),
            definitions: HashMap::new(),
            files: HashMap::new(),
            values: HashMap::new(),
            epoch: None,
            errors,
        }
    }

    /// `<dir>/<split>/epoch-<N>/<Name>.log` (spaces in the name as `_`), as Burn names it.
    fn path(&self, name: &str, epoch: usize, split: &Split) -> PathBuf {
        let mut dir = self.dir.join(split.to_string());
        if let Split::Test(Some(tag)) = split {
            dir = dir.join(tag.trim().replace(' ', "-").to_lowercase());
        }
        dir.join(format!("epoch-{epoch}"))
            .join(format!("{}.log", name.replace(' ', "_")))
    }

    fn flush_all(&mut self) {
        for file in self.files.values_mut() {
            if let Err(e) = file.flush() {
                self.errors.set(format!("{}: {e}", self.dir.display()));
            }
        }
    }

    /// Appends `line` to the log of `name`, opening it (and its folder) on first use; the
    /// first failure stops every log.
    fn write(&mut self, name: &str, epoch: usize, split: &Split, line: &str) {
        if self.errors.first().is_some() {
            return;
        }
        let path = self.path(name, epoch, split);
        let key = (name.to_string(), split.to_string());
        if !self.files.contains_key(&key) {
            let opened = path
                .parent()
                .map_or(Ok(()), std::fs::create_dir_all)
                .and_then(|()| File::create(&path));
            match opened {
                Ok(file) => {
                    self.files.insert(key.clone(), BufWriter::new(file));
                }
                Err(e) => return self.errors.set(format!("{}: {e}", path.display())),
            }
        }
        if let Some(file) = self.files.get_mut(&key) {
            if let Err(e) = writeln!(file, "{line}") {
                self.errors.set(format!("{}: {e}", path.display()));
            }
        }
    }

    /// The numeric entries of a series from its file (an epoch before this process).
    fn read_file(&self, name: &str, epoch: usize, split: &Split) -> Vec<NumericEntry> {
        std::fs::read_to_string(self.path(name, epoch, split))
            .unwrap_or_default()
            .lines()
            .filter(|l| !l.is_empty())
            .filter_map(|l| NumericEntry::deserialize(l).ok())
            .collect()
    }
}

impl MetricLogger for FileMetricLogs {
    fn log(&mut self, update: MetricsUpdate, epoch: usize, split: &Split) {
        if self.epoch != Some(epoch) {
            self.flush_all();
            self.files.clear();
            self.values.retain(|(_, _, e), _| e + 1 >= epoch);
            self.epoch = Some(epoch);
        }
        let numeric: Vec<_> = update.entries_numeric.iter().map(|u| &u.entry).collect();
        for (entry, is_numeric) in update
            .entries
            .iter()
            .map(|e| (e, false))
            .chain(numeric.into_iter().map(|e| (e, true)))
        {
            if entry.serialized_entry.is_not_available() {
                continue;
            }
            let Some(name) = self.definitions.get(&entry.metric_id).map(|d| d.name.to_string()) else {
                continue;
            };
            let value = entry.serialized_entry.serialized.clone();
            self.write(&name, epoch, split, &value);
            if is_numeric {
                self.values
                    .entry((name, split.to_string(), epoch))
                    .or_default()
                    .push(value);
            }
        }
    }

    fn read_numeric(&mut self, name: &str, epoch: usize, split: &Split) -> Result<Vec<NumericEntry>, String> {
        match self.values.get(&(name.to_string(), split.to_string(), epoch)) {
            Some(values) => Ok(values
                .iter()
                .filter_map(|v| NumericEntry::deserialize(v).ok())
                .collect()),
            None => Ok(self.read_file(name, epoch, split)),
        }
    }

    fn log_metric_definition(&mut self, definition: MetricDefinition) {
        self.definitions.insert(definition.metric_id.clone(), definition);
    }

    fn log_epoch_summary(&mut self, _summary: EpochSummary) {
        self.flush_all();
        self.files.clear();
    }
}

impl Drop for FileMetricLogs {
    fn drop(&mut self) {
        self.flush_all();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use burn::train::metric::store::NumericMetricUpdate;
    use burn::train::metric::{MetricAttributes, MetricEntry, MetricName, SerializedEntry};

    #[test]
    fn a_failed_write_is_kept_not_a_panic_and_the_values_still_read() {
        let tmp = tempfile::tempdir().unwrap();
        // A file where the logs' folder belongs: every create fails.
        let dir = tmp.path().join("file");
        std::fs::write(&dir, b"x").unwrap();
        let errors = MetricLogErrors::default();
        let mut logs = FileMetricLogs::new(&dir, errors.clone());
        let id = MetricId::new(std::sync::Arc::new("loss-id".to_string()));
        logs.log_metric_definition(MetricDefinition {
            metric_id: id.clone(),
            name: MetricName::new("Loss".to_string()),
            description: None,
            attributes: MetricAttributes::None,
        });
        for v in [2.0, 4.0] {
            let entry = MetricEntry::new(
                id.clone(),
                SerializedEntry::new(v.to_string(), NumericEntry::Value(v).serialize()),
            );
            let update = MetricsUpdate::new(
                Vec::new(),
                vec![NumericMetricUpdate::new(entry, Some(NumericEntry::Value(v)), None)],
            );
            logs.log(update, 1, &Split::Train);
        }
        assert!(errors.first().unwrap().contains("file"), "{:?}", errors.first());
        let values = logs.read_numeric("Loss", 1, &Split::Train).unwrap();
        assert_eq!(values.len(), 2);
        assert_eq!(logs.read_numeric("Loss", 7, &Split::Valid).unwrap().len(), 0);
    }
}
