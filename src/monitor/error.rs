//! The errors of the monitor files.

use std::path::PathBuf;

/// A monitor file that could not be written or read.
#[derive(Debug, thiserror::Error)]
pub enum MonitorError {
    /// Reading or writing `path` failed.
    #[error("{}: {source}", path.display())]
    Io {
        /// The file or folder.
        path: PathBuf,
        /// The OS error.
        source: std::io::Error,
    },
    /// Line `line` (from 1) of `path` is not what the file holds.
    #[error("{}, line {line}: {why}", path.display())]
    Parse {
        /// The file.
        path: PathBuf,
        /// The line, from 1.
        line: usize,
        /// What is wrong with it.
        why: String,
    },
    /// Something that is not a file stands where a file is to be written (see
    /// [`Output`](super::Output)).
    #[error("{}: {why}", path.display())]
    NotAFile {
        /// The path.
        path: PathBuf,
        /// What stands there, and what to do.
        why: String,
    },
    /// A file lacks what it must hold (a resumed `lr.csv` without all its earlier rows).
    #[error("{}: {why}", path.display())]
    Incomplete {
        /// The file.
        path: PathBuf,
        /// What is missing.
        why: String,
    },
    /// A chart could not be drawn.
    #[error("{}: cannot draw the chart: {why}", path.display())]
    Plot {
        /// The PNG file.
        path: PathBuf,
        /// Why.
        why: String,
    },
    /// A setting out of range (what, its value, what is allowed).
    #[error("{0}")]
    Invalid(String),
    /// A data loader failed.
    #[error("{0}")]
    Data(String),
    /// Nothing to draw or compute from.
    #[error("{0}")]
    Empty(String),
}

impl MonitorError {
    /// Whether writing or drawing failed (an OS error, or the chart could not be rendered),
    /// rather than bad input.
    pub fn is_io(&self) -> bool {
        matches!(self, Self::Io { .. } | Self::Plot { .. })
    }

    /// An I/O error on `path`.
    pub fn io(path: impl Into<PathBuf>) -> impl FnOnce(std::io::Error) -> Self {
        let path = path.into();
        move |source| Self::Io { path, source }
    }
}
