//! Where in a TOML text an error is: line, column, table and key, for the one line a bad
//! config gets (toml's own positions where it has them, else found from the table's header
//! and the key).

use std::path::Path;

/// Parses TOML text into `T`; an error is one line: `line L, column C: [table] key: what is
/// wrong` (the parser's own message names the value and what is allowed).
///
/// # Errors
/// That line, for malformed TOML, unknown keys, wrong types and invalid schedule parameters.
pub fn parse_toml<T: serde::de::DeserializeOwned>(text: &str) -> Result<T, String> {
    parse_toml_at(text).map_err(|(_, message)| message)
}

/// [`parse_toml`], with the path of the value the error is about (`optimizer.lr`,
/// `param_groups[1]`, `.` for the top level) next to the message.
pub(super) fn parse_toml_at<T: serde::de::DeserializeOwned>(text: &str) -> Result<T, (String, String)> {
    serde_path_to_error::deserialize(toml::Deserializer::new(text)).map_err(|err| {
        let inner = err.inner();
        let location = inner
            .span()
            .map(|span| {
                let start = key_offset(text, span.clone(), inner.message()).unwrap_or(span.start.min(text.len()));
                let before = &text[..start];
                let line = before.matches('\n').count() + 1;
                let column = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
                format!("line {line}, column {column}: ")
            })
            .unwrap_or_default();
        let message = match one_line(inner.message()) {
            // The parser names nothing where a value is missing (a file cut short).
            m if m.is_empty() => "a value is missing here (is the file cut short?)".to_string(),
            m => m,
        };
        let path = err.path().to_string();
        let message = format!("{location}{}{message}", key_path(&path));
        (path, message)
    })
}

/// Where, inside the table `span` an error points at, the key the message names (its first
/// `` `key` ``) is written, so that the position is the offending line, not the table header.
fn key_offset(text: &str, span: std::ops::Range<usize>, message: &str) -> Option<usize> {
    let key = message.split('`').nth(1)?.rsplit('.').next()?;
    let table = text.get(span.clone())?;
    let mut offset = span.start;
    for line in table.split_inclusive('\n') {
        let trimmed = line.trim_start();
        if let Some(rest) = trimmed.strip_prefix(key) {
            if rest.trim_start().starts_with('=') {
                return Some(offset + (line.len() - trimmed.len()));
            }
        }
        offset += line.len();
    }
    None
}

pub(super) fn in_file(path: &Path) -> String {
    if path.as_os_str().is_empty() {
        String::new()
    } else {
        format!(" {}", path.display())
    }
}

/// `training.epochs` -> `[training] epochs: `, `scheduler` -> `[scheduler] `, `.` -> ``.
fn key_path(path: &str) -> String {
    if path.is_empty() || path == "." || path == "?" {
        return String::new();
    }
    match path.split_once('.') {
        Some((table, key)) => format!("[{table}] {key}: "),
        None => format!("[{path}] "),
    }
}

fn one_line(message: &str) -> String {
    message.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// An error at `path` (`optimizer.momentum`, `scheduler`, `param_groups[1].lr`) as
/// [`parse_toml`] writes it: `line L, column C: [table] key: message`, the line found by the
/// table's header and the key the path or the message names.
pub(super) fn located(text: &str, path: &str, message: &str) -> String {
    // The TOML value deserializer appends the table (` in `scheduler``), which the prefix says.
    let message = one_line(message);
    let message = match message.rsplit_once(" in `") {
        Some((head, table)) if table.ends_with('`') && !table.contains(' ') => head,
        _ => &message,
    };
    let named = message.split('`').nth(1);
    let (table, key) = match path.split_once('.') {
        _ if path == "." => (named.unwrap_or_default(), None),
        Some((table, key)) => (table, Some(key.rsplit('.').next().unwrap_or(key))),
        None => (path, named),
    };
    let (table, index) = match table.split_once('[') {
        Some((t, i)) => (t, i.trim_end_matches(']').parse::<usize>().unwrap_or(0)),
        None => (table, 0),
    };
    let location = line_of(text, table, index, key)
        .map(|line| format!("line {line}, column 1: "))
        .unwrap_or_default();
    let prefix = match key_of(path) {
        Some(k) => key_path(&format!("{table}.{k}")),
        None if path == "." => String::new(),
        None => key_path(table),
    };
    format!("{location}{prefix}{}", one_line(message))
}

/// The key of a serde path (`optimizer.momentum` -> `momentum`), without array indices.
fn key_of(path: &str) -> Option<&str> {
    path.split_once('.').map(|(_, k)| k)
}

/// The line (from 1) of `key` in the `index`-th `[table]` or `[[table]]` section (or of the
/// header itself, without a key or when the key is not found there).
pub(super) fn line_of(text: &str, table: &str, index: usize, key: Option<&str>) -> Option<usize> {
    let headers = [format!("[{table}]"), format!("[[{table}]]")];
    let mut seen = 0;
    let mut header_line = None;
    for (i, line) in text.lines().enumerate() {
        let trimmed = line.trim();
        if trimmed.starts_with('[') {
            if header_line.is_some() && !trimmed.starts_with(&format!("[{table}.")) {
                break;
            }
            if headers.iter().any(|h| trimmed.starts_with(h.as_str())) {
                if seen == index {
                    header_line = Some(i + 1);
                }
                seen += 1;
            }
            continue;
        }
        if let (Some(_), Some(key)) = (header_line, key) {
            if let Some(rest) = trimmed.strip_prefix(key) {
                if rest.trim_start().starts_with('=') {
                    return Some(i + 1);
                }
            }
        }
    }
    header_line
}

/// The line (from 1) of a schedule error in a config's `text`: the line setting the error's
/// parameter in a `[scheduler...]` or `[[param_groups]]` table, preferring a table whose `type`
/// is the error's schedule (a group's schedule may share keys with the base one), else the
/// `[scheduler]` header; `None` for an error without a parameter or a text without the table.
pub fn schedule_line(text: &str, error: &burn_lr::schedule::ScheduleError) -> Option<usize> {
    let burn_lr::schedule::ScheduleError::InvalidParam { scheduler, field, .. } = error else {
        return None;
    };
    // (header line, `type` value, line of `field`) of each schedule table.
    let mut tables: Vec<(usize, Option<String>, Option<usize>)> = Vec::new();
    let mut inside = false;
    for (i, line) in text.lines().enumerate() {
        let trimmed = line.trim();
        if trimmed.starts_with('[') {
            inside = ["[scheduler", "[[param_groups", "[param_groups."]
                .iter()
                .any(|t| trimmed.starts_with(t));
            if inside {
                tables.push((i + 1, None, None));
            }
            continue;
        }
        let (Some(table), Some((key, value))) = (tables.last_mut().filter(|_| inside), trimmed.split_once('=')) else {
            continue;
        };
        let key = key.trim().trim_matches('"');
        if key == "type" {
            table.1 = Some(value.trim().trim_matches('"').to_string());
        }
        if key == *field && table.2.is_none() {
            table.2 = Some(i + 1);
        }
    }
    let of_type = |t: &&(usize, Option<String>, Option<usize>)| t.1.as_deref().is_none_or(|ty| ty == *scheduler);
    tables
        .iter()
        .filter(of_type)
        .find_map(|t| t.2)
        .or_else(|| tables.iter().find_map(|t| t.2))
        .or_else(|| tables.first().map(|t| t.0))
}
