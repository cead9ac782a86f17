//! Paths from the command line or a config, checked before anything is read or written, so a
//! wrong one is one line naming it (exit code 2) instead of an OS error halfway through a run:
//! a directory to create that is a file (or lies under one), a file to write that is a
//! directory, a directory to read that does not exist.

use crate::error::TrainError;
use burn_lr::monitor::{file_kind, MonitorError, Output};
use std::path::Path;

/// `path` is (or can be created as) a directory: neither it nor any of its parents is a file.
///
/// # Errors
/// [`TrainError::Settings`] naming `what` (the flag or key), the path and the file in the way.
pub fn check_output_dir(path: &Path, what: &str) -> Result<(), TrainError> {
    not_empty(path, what)?;
    if let Some(file) = path.ancestors().find(|p| !p.as_os_str().is_empty() && is_file(p)) {
        let why = if file == path {
            "is a file, not a directory".to_string()
        } else {
            format!("cannot be a directory: {} is a file", file.display())
        };
        return Err(TrainError::Settings(format!(
            "{what} {}: {why}; give a directory (it is created if missing)",
            path.display()
        )));
    }
    Ok(())
}

/// A subcommand's own file `name` (one it always writes, under a name the user does not
/// choose) can be written in the directory `dir` given by `what`: it is not a directory there.
///
/// # Errors
/// [`TrainError::Settings`] naming the path, the subcommand and `what`.
pub fn check_own_file(dir: &Path, name: &str, what: &str, command: &str) -> Result<(), TrainError> {
    let path = dir.join(name);
    match burn_lr::monitor::check_output(&path, Output::Own) {
        Ok(()) => Ok(()),
        Err(MonitorError::NotAFile { .. }) => {
            let kind = std::fs::symlink_metadata(&path).map_or("not a file", |m| file_kind(m.file_type()));
            Err(TrainError::Settings(format!(
                "{}: is {kind} where `burn-lr {command}` writes its file {name}; remove it or give another {what}",
                path.display()
            )))
        }
        Err(e) => Err(e.into()),
    }
}

/// `path`, a file the user names, can be written: it is not a directory, its parent can be a
/// directory, and anything but a regular file there is something a file can be written into
/// (a named pipe, a character device such as `/dev/stdout`, a link to one of these or to a file).
///
/// # Errors
/// [`TrainError::Settings`] naming `what`, the path and what is in the way.
pub fn check_output_file(path: &Path, what: &str) -> Result<(), TrainError> {
    not_empty(path, what)?;
    if path.is_dir() {
        return Err(TrainError::Settings(format!(
            "{what} {}: is a directory; give a file name (e.g. {}/schedule.png)",
            path.display(),
            path.display()
        )));
    }
    if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
        check_output_dir(parent, &format!("{what} {}: its folder", path.display()))?;
    }
    // A pipe or a device is written into, a link through; a socket or a dangling link refused.
    burn_lr::monitor::check_output(path, Output::Named).map_err(|e| match e {
        MonitorError::NotAFile { why, .. } => TrainError::Settings(format!("{what} {}: {why}", path.display())),
        other => other.into(),
    })
}

/// `path` is an existing directory.
///
/// # Errors
/// [`TrainError::Settings`] naming `what`, the path, and whether it is missing or a file.
pub fn check_existing_dir(path: &Path, what: &str) -> Result<(), TrainError> {
    not_empty(path, what)?;
    let why = if is_file(path) {
        "is a file, not a directory"
    } else if !path.exists() {
        "does not exist"
    } else {
        return Ok(());
    };
    Err(TrainError::Settings(format!("{what} {}: {why}", path.display())))
}

/// `path`, if it exists, is a directory (a missing one is left to the caller's own message).
///
/// # Errors
/// [`TrainError::Settings`] naming `what` and the path when it is empty or a file.
pub fn check_not_a_file(path: &Path, what: &str) -> Result<(), TrainError> {
    not_empty(path, what)?;
    if is_file(path) {
        return Err(TrainError::Settings(format!(
            "{what} {}: is a file, not a directory",
            path.display()
        )));
    }
    Ok(())
}

/// `path` is an existing file (not a directory).
///
/// # Errors
/// [`TrainError::Settings`] naming `what`, the path, and whether it is missing or a directory.
pub fn check_existing_file(path: &Path, what: &str) -> Result<(), TrainError> {
    not_empty(path, what)?;
    let why = if path.is_dir() {
        "is a directory, not a file"
    } else if !path.exists() {
        "does not exist"
    } else {
        return Ok(());
    };
    Err(TrainError::Settings(format!("{what} {}: {why}", path.display())))
}

/// An empty path names nothing.
fn not_empty(path: &Path, what: &str) -> Result<(), TrainError> {
    if path.as_os_str().is_empty() {
        return Err(TrainError::Settings(format!("{what}: the path is empty")));
    }
    Ok(())
}

/// Whether `path` exists and is not a directory (a regular file, a device, a socket, or a
/// symlink to one).
fn is_file(path: &Path) -> bool {
    path.exists() && !path.is_dir()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn files_in_the_way_are_named() {
        let tmp = tempfile::tempdir().unwrap();
        let file = tmp.path().join("f");
        std::fs::write(&file, b"x").unwrap();
        let err = check_output_dir(&file, "--artifact-dir").unwrap_err().to_string();
        assert!(err.contains("is a file, not a directory"), "{err}");
        let err = check_output_dir(&file.join("a/b"), "--out").unwrap_err().to_string();
        assert!(err.contains(&format!("{} is a file", file.display())), "{err}");
        check_output_dir(&tmp.path().join("new/dir"), "--out").unwrap();
        check_output_dir(Path::new("relative/dir"), "--out").unwrap();
        let err = check_output_file(tmp.path(), "--plot").unwrap_err().to_string();
        assert!(err.contains("is a directory"), "{err}");
        assert!(check_output_file(&file.join("x.png"), "--plot").is_err());
        check_output_file(&tmp.path().join("x.png"), "--plot").unwrap();
        check_output_file(Path::new("x.png"), "--plot").unwrap();
        assert!(check_existing_dir(&file, "dir").is_err());
        assert!(check_existing_dir(&tmp.path().join("missing"), "dir").is_err());
        check_existing_dir(tmp.path(), "dir").unwrap();
        check_existing_file(&file, "--config").unwrap();
        assert!(check_existing_file(tmp.path(), "--config")
            .unwrap_err()
            .to_string()
            .contains("is a directory"));
        assert!(check_existing_file(&file.join("x"), "--config").is_err());
        for check in [
            check_output_dir,
            check_output_file,
            check_existing_dir,
            check_existing_file,
        ] {
            let err = check(Path::new(""), "--out").unwrap_err().to_string();
            assert_eq!(err, "--out: the path is empty");
        }
    }
}
