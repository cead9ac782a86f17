//! `lr.csv`: the learning rate of every optimizer update, as the schedulers returned it to Burn.
//!
//! ```text
//! step,epoch,lr,lr_fc,momentum
//! 0,1,0.008,0.01,0.95
//! 1,1,0.0081,0.01,0.9499
//! ```
//! `step` is the optimizer update (from 0, continuing across a resume), `epoch` its epoch (from
//! 1), `lr` the base schedule's learning rate, `lr_<params>` each parameter group's, `momentum`
//! the SGD momentum / AdamW `beta1` of the update where the schedule cycles it. Values are
//! written in Rust's shortest round-trip form, so they read back bit for bit.

use super::error::MonitorError;
use super::files::write_file_atomic;
use crate::learner::{LrObserver, LrUpdate};
use std::fs::{File, OpenOptions};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

/// The file name the `burn-lr` app uses in the artifact directory.
pub const LR_CSV: &str = "lr.csv";

/// One row of `lr.csv`.
#[derive(Debug, Clone, PartialEq)]
pub struct LrRow {
    /// Optimizer update, from 0.
    pub step: u64,
    /// Epoch, from 1.
    pub epoch: u64,
    /// Learning rate of the base schedule.
    pub lr: f64,
    /// Learning rate of each parameter group (the `lr_<params>` columns, in order).
    pub group_lrs: Vec<f64>,
    /// Momentum / `beta1`, where the schedule cycles it.
    pub momentum: Option<f64>,
}

/// The whole of an `lr.csv`: its columns and rows.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct LrTrace {
    /// The `params` of each group column (`lr_<params>`).
    pub groups: Vec<String>,
    /// Whether the file has a `momentum` column.
    pub momentum: bool,
    /// The rows, in step order.
    pub rows: Vec<LrRow>,
}

impl LrTrace {
    fn header(&self) -> String {
        let mut h = String::from("step,epoch,lr");
        for g in &self.groups {
            h += &format!(",lr_{g}");
        }
        if self.momentum {
            h += ",momentum";
        }
        h
    }

    fn line(&self, u: &LrUpdate<'_>) -> String {
        let mut line = format!("{},{},{}", u.step, u.epoch, u.lr);
        for lr in u.group_lrs {
            line += &format!(",{lr}");
        }
        if self.momentum {
            line += &format!(",{}", u.momentum.unwrap_or(f64::NAN));
        }
        line + "\n"
    }

    fn parse(&self, text: &str) -> Result<LrRow, String> {
        let f: Vec<&str> = text.split(',').map(str::trim).collect();
        let width = 3 + self.groups.len() + usize::from(self.momentum);
        if f.len() != width {
            return Err(format!(
                "`{text}` has {} fields, expected {width} ({})",
                f.len(),
                self.header()
            ));
        }
        let num = |i: usize| f[i].parse::<f64>().map_err(|_| format!("`{}` is not a number", f[i]));
        let whole = |i: usize| {
            f[i].parse::<u64>()
                .map_err(|_| format!("`{}` is not a whole number", f[i]))
        };
        Ok(LrRow {
            step: whole(0)?,
            epoch: whole(1)?,
            lr: num(2)?,
            group_lrs: (3..3 + self.groups.len()).map(num).collect::<Result<_, _>>()?,
            momentum: if self.momentum { Some(num(width - 1)?) } else { None },
        })
    }
}

/// Reads an `lr.csv`. A last line without its newline (a run killed while writing it) is left
/// out; any other line that is not a row is an error.
///
/// # Errors
/// [`MonitorError::Io`], or [`MonitorError::Parse`] naming the line.
pub fn read_lr_csv(path: &Path) -> Result<LrTrace, MonitorError> {
    let text = std::fs::read_to_string(path).map_err(MonitorError::io(path))?;
    let bad = |line: usize, why: String| MonitorError::Parse {
        path: path.to_path_buf(),
        line,
        why,
    };
    let complete = match text.rfind('\n') {
        Some(end) => &text[..end],
        None => "",
    };
    let mut lines = complete.lines();
    let header = lines.next().ok_or_else(|| bad(1, "no header line".into()))?;
    let names: Vec<&str> = header.split(',').map(str::trim).collect();
    if names.len() < 3 || names[..3] != ["step", "epoch", "lr"] {
        return Err(bad(1, format!("header `{header}` does not start with `step,epoch,lr`")));
    }
    let momentum = names.last() == Some(&"momentum");
    let group_names = &names[3..names.len() - usize::from(momentum)];
    let mut trace = LrTrace {
        groups: Vec::new(),
        momentum,
        rows: Vec::new(),
    };
    for name in group_names {
        let group = name
            .strip_prefix("lr_")
            .ok_or_else(|| bad(1, format!("column `{name}` is not `lr_<params>` or `momentum`")))?;
        trace.groups.push(group.to_string());
    }
    for (i, line) in lines.enumerate().filter(|(_, l)| !l.trim().is_empty()) {
        trace.rows.push(trace.parse(line).map_err(|why| bad(i + 2, why))?);
    }
    Ok(trace)
}

/// A resumed log whose earlier rows are not all there (truncated, edited or deleted).
fn missing_rows(path: &Path, first_step: u64, held: &str) -> MonitorError {
    MonitorError::Incomplete {
        path: path.to_path_buf(),
        why: format!(
            "the run continues at update {first_step}, so the file must hold the rows of updates 0..{first_step}, but \
             {held} (truncated, edited or deleted); restore it, or start the log anew (first_step 0)"
        ),
    }
}

struct Sink {
    columns: LrTrace,
    path: PathBuf,
    file: File,
    error: Option<String>,
}

/// Writes `lr.csv` as the run goes: an [`LrObserver`] appending one line per optimizer update
/// (one `write` call, so a killed run keeps every update it made). Clones share the file.
#[derive(Clone)]
pub struct LrLog(Arc<Mutex<Sink>>);

impl LrLog {
    /// Opens `path` for a run whose next optimizer update is `first_step`, with one column per
    /// group `params` and a `momentum` column when the schedule cycles it. A new run
    /// (`first_step` 0) starts the file; a resumed run keeps the rows of the updates before
    /// `first_step` and drops the later ones (an interrupted epoch, trained again).
    ///
    /// # Errors
    /// [`MonitorError`]: the file cannot be read or written, or its rows are not those columns;
    /// [`MonitorError::Incomplete`] when a resumed log lacks any row before `first_step` (rows
    /// are never silently lost).
    pub fn create(path: &Path, groups: &[&str], momentum: bool, first_step: u64) -> Result<Self, MonitorError> {
        let mut columns = LrTrace {
            groups: groups.iter().map(|g| g.to_string()).collect(),
            momentum,
            rows: Vec::new(),
        };
        let mut text = columns.header() + "\n";
        if first_step > 0 {
            let old = match read_lr_csv(path) {
                Err(MonitorError::Io { source, .. }) if source.kind() == std::io::ErrorKind::NotFound => {
                    return Err(missing_rows(path, first_step, "the file is missing"));
                }
                other => other?,
            };
            if old.header() != columns.header() {
                return Err(MonitorError::Parse {
                    path: path.to_path_buf(),
                    line: 1,
                    why: format!("columns `{}`, this run writes `{}`", old.header(), columns.header()),
                });
            }
            for row in old.rows.into_iter().filter(|r| r.step < first_step) {
                text += &columns.line(&LrUpdate {
                    step: row.step,
                    epoch: row.epoch,
                    lr: row.lr,
                    group_lrs: &row.group_lrs,
                    momentum: row.momentum,
                });
                columns.rows.push(row);
            }
            let whole = columns.rows.len() as u64 == first_step
                && columns.rows.iter().enumerate().all(|(i, r)| r.step == i as u64);
            if !whole {
                let held = format!("it holds {} row(s) for them", columns.rows.len());
                return Err(missing_rows(path, first_step, &held));
            }
        }
        write_file_atomic(path, text.as_bytes())?;
        let file = OpenOptions::new()
            .append(true)
            .open(path)
            .map_err(MonitorError::io(path))?;
        Ok(Self(Arc::new(Mutex::new(Sink {
            columns,
            path: path.to_path_buf(),
            file,
            error: None,
        }))))
    }

    /// The rows kept from before `first_step` when the log was created (for replaying them
    /// elsewhere, e.g. into a new TensorBoard file).
    pub fn kept_rows(&self) -> Vec<LrRow> {
        self.lock().columns.rows.clone()
    }

    /// The first write error, if any (the log stops writing after it).
    pub fn error(&self) -> Option<String> {
        self.lock().error.clone()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Sink> {
        self.0.lock().unwrap_or_else(|e| e.into_inner())
    }
}

impl LrObserver for LrLog {
    fn observe(&mut self, update: &LrUpdate<'_>) {
        let mut sink = self.lock();
        if sink.error.is_some() {
            return;
        }
        let line = sink.columns.line(update);
        if let Err(e) = sink.file.write_all(line.as_bytes()) {
            sink.error = Some(format!("{}: {e}", sink.path.display()));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn update(step: u64, lr: f64, group: f64) -> (u64, f64, [f64; 1]) {
        (step, lr, [group])
    }

    fn write(log: &mut LrLog, rows: &[(u64, f64, [f64; 1])]) {
        for (step, lr, groups) in rows {
            log.observe(&LrUpdate {
                step: *step,
                epoch: step / 3 + 1,
                lr: *lr,
                group_lrs: groups,
                momentum: Some(0.9 - *lr),
            });
        }
    }

    #[test]
    fn rows_read_back_exactly_and_resume_drops_the_retrained_updates() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(LR_CSV);
        let mut log = LrLog::create(&path, &["fc"], true, 0).unwrap();
        let rows: Vec<_> = (0..7)
            .map(|k| update(k, 0.1 / (k as f64 + 3.0), 1e-3 * k as f64))
            .collect();
        write(&mut log, &rows);
        let trace = read_lr_csv(&path).unwrap();
        assert_eq!(trace.groups, vec!["fc"]);
        assert!(trace.momentum);
        assert_eq!(trace.rows.len(), 7);
        for (row, (step, lr, g)) in trace.rows.iter().zip(&rows) {
            assert_eq!((row.step, row.lr, row.group_lrs[0]), (*step, *lr, g[0]));
            assert_eq!(row.momentum, Some(0.9 - lr));
            assert_eq!(row.epoch, step / 3 + 1);
        }
        // Resumed after epoch 2 (6 updates): update 6 is trained again.
        let mut log = LrLog::create(&path, &["fc"], true, 6).unwrap();
        assert_eq!(log.kept_rows().len(), 6);
        write(&mut log, &rows[6..]);
        assert_eq!(read_lr_csv(&path).unwrap().rows, trace.rows);
    }

    #[test]
    fn a_torn_last_line_is_left_out_and_a_garbled_one_named() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(LR_CSV);
        std::fs::write(&path, "step,epoch,lr\n0,1,0.1\n1,1,0.0").unwrap();
        assert_eq!(read_lr_csv(&path).unwrap().rows.len(), 1);
        std::fs::write(&path, "step,epoch,lr\n0,1,0.1\n1,1,abc\n").unwrap();
        let err = read_lr_csv(&path).unwrap_err().to_string();
        assert!(err.contains("line 3") && err.contains("abc"), "{err}");
        let err = LrLog::create(&path, &["fc"], false, 1).err().unwrap().to_string();
        assert!(err.contains("line 3"), "{err}");
    }

    #[test]
    fn a_resume_without_every_earlier_row_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(LR_CSV);
        std::fs::write(&path, "step,epoch,lr\n0,1,0.1\n1,1,0.1\n2,2,0.1\n").unwrap();
        assert_eq!(LrLog::create(&path, &[], false, 3).unwrap().kept_rows().len(), 3);
        // Truncated to one row: the run continues at update 3.
        std::fs::write(&path, "step,epoch,lr\n0,1,0.1\n").unwrap();
        let err = LrLog::create(&path, &[], false, 3).err().unwrap();
        assert!(matches!(err, MonitorError::Incomplete { .. }), "{err}");
        assert!(err.to_string().contains("holds 1 row(s)"), "{err}");
        assert_eq!(
            std::fs::read_to_string(&path).unwrap(),
            "step,epoch,lr\n0,1,0.1\n",
            "left as it was"
        );
        // A row missing in the middle, or the file gone.
        std::fs::write(&path, "step,epoch,lr\n0,1,0.1\n2,2,0.1\n3,2,0.1\n").unwrap();
        assert!(LrLog::create(&path, &[], false, 3).is_err());
        std::fs::remove_file(&path).unwrap();
        let err = LrLog::create(&path, &[], false, 3).err().unwrap().to_string();
        assert!(err.contains("missing"), "{err}");
    }

    #[test]
    fn a_resume_with_other_columns_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(LR_CSV);
        LrLog::create(&path, &[], false, 0).unwrap();
        let err = LrLog::create(&path, &["fc"], false, 3).err().unwrap().to_string();
        assert!(err.contains("step,epoch,lr,lr_fc"), "{err}");
    }
}
