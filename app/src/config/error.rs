//! [`ConfigError`]: what is wrong with a config, in one line naming the file, the table, the
//! key and its line.

use super::locate::{in_file, line_of};
use std::path::{Path, PathBuf};

/// Errors from reading a configuration file.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// The file cannot be read.
    #[error("cannot read config {path}: {source}")]
    Read {
        /// The file.
        path: PathBuf,
        /// The error.
        source: std::io::Error,
    },
    /// The TOML is malformed, has an unknown key or a wrong type.
    #[error("invalid config{}: {message}", in_file(path))]
    Parse {
        /// The file.
        path: PathBuf,
        /// The parser's message (it names the key and line).
        message: String,
    },
    /// A value is out of range.
    #[error("invalid config{at}: `{field}` = {value}: {allowed}")]
    Value {
        /// The key.
        field: &'static str,
        /// The value.
        value: String,
        /// What is allowed.
        allowed: &'static str,
        /// Where: ` x.toml, line 7` (empty for a config that is not a file).
        at: String,
    },
}

impl ConfigError {
    /// The error of the file `path` holding `text`, naming the file (and, for a value out of
    /// range, the line of its key).
    pub(super) fn in_file(self, path: &Path, text: &str) -> Self {
        match self {
            Self::Parse { message, .. } => Self::Parse {
                path: path.into(),
                message,
            },
            Self::Value {
                field, value, allowed, ..
            } => {
                let (table, key) = field.split_once('.').unwrap_or((field, ""));
                let line = line_of(text, table, 0, (!key.is_empty()).then_some(key));
                let at = match line {
                    Some(line) => format!(" {}, line {line}", path.display()),
                    None => format!(" {}", path.display()),
                };
                Self::Value {
                    field,
                    value,
                    allowed,
                    at,
                }
            }
            other => other,
        }
    }
}

/// Reads the config file at `path` and parses its text with `parse`; an error names the file
/// (and, where it can be found, the line).
pub(super) fn read_file<T>(path: &Path, parse: impl FnOnce(&str) -> Result<T, ConfigError>) -> Result<T, ConfigError> {
    let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
        path: path.into(),
        source,
    })?;
    parse(&text).map_err(|e| e.in_file(path, &text))
}

/// `Err(ConfigError::Value)` for the key `field` holding `value`, with what is `allowed`; the
/// file and line are added where the error reaches the file's reader.
pub(super) fn bad(field: &'static str, value: String, allowed: &'static str) -> Result<(), ConfigError> {
    Err(ConfigError::Value {
        field,
        value,
        allowed,
        at: String::new(),
    })
}
