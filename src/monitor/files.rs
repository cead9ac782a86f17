//! Files written whole or not at all, and never through something that is not a file: the one
//! writer of both the library and the `burn-lr` app.
//!
//! A path that already exists and is not a regular file is never replaced: a file the program
//! names itself ([`Output::Own`]: `lr.csv`, `metrics.csv`, a chart in a run's folder) must be
//! a regular file or absent; a path the user typed ([`Output::Named`]: `--plot P`) may also be
//! a named pipe or a character device (`/dev/stdout`), which is written into, or a symbolic
//! link, whose target is written (the link stays). Everything else (a directory, a socket, a
//! block device, a dangling link) is refused with one line.

use super::error::MonitorError;
use std::fs::FileType;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

/// The files the monitor and the app write go through a temporary file in the same folder
/// whose name starts with this (then the writing process's id and a dot), then a rename: a
/// process killed mid-write leaves such a file behind (never a half-written `lr.csv`), which
/// [`remove_stale_temp_files`] deletes once that process is gone.
pub const TMP_PREFIX: &str = ".burn-lr-tmp-";

/// Whose name a written path is, which decides what may stand there already.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Output {
    /// A name the program chose (`lr.csv`, `metrics.csv`, `summary.md`, a run's charts): a
    /// regular file or nothing may stand there; a symbolic link, a pipe, a device or a
    /// directory is refused.
    Own,
    /// A path the user typed (`--plot P`, a path given to a chart function): a regular file
    /// is replaced atomically (through a symbolic link: its target); a named pipe or a
    /// character device (`/dev/stdout`) is written into; a directory, a socket, a block device
    /// or a dangling link is refused.
    Named,
}

/// How a path is written (see [`Output`]).
enum Plan {
    /// Temporary file and rename, at this path.
    Atomic(PathBuf),
    /// Opened and written in place (a pipe, a character device).
    Stream,
}

/// What a file type is, in words (`a directory`, `a named pipe (FIFO)`, `a symbolic link`), as
/// the one-line refusals say it.
pub fn file_kind(t: FileType) -> &'static str {
    #[cfg(unix)]
    {
        use std::os::unix::fs::FileTypeExt;
        if t.is_fifo() {
            return "a named pipe (FIFO)";
        }
        if t.is_char_device() {
            return "a character device";
        }
        if t.is_block_device() {
            return "a block device";
        }
        if t.is_socket() {
            return "a socket";
        }
    }
    if t.is_dir() {
        "a directory"
    } else if t.is_symlink() {
        "a symbolic link"
    } else if t.is_file() {
        "a regular file"
    } else {
        "not a regular file"
    }
}

/// Whether data written to a file of this type reaches a reader (a pipe, a terminal, `/dev/null`).
fn streams(t: FileType) -> bool {
    #[cfg(unix)]
    {
        use std::os::unix::fs::FileTypeExt;
        t.is_fifo() || t.is_char_device()
    }
    #[cfg(not(unix))]
    {
        let _ = t;
        false
    }
}

fn refused(path: &Path, why: String) -> MonitorError {
    MonitorError::NotAFile {
        path: path.to_path_buf(),
        why,
    }
}

/// How `path` would be written as `output`, or why it cannot be.
fn plan(path: &Path, output: Output) -> Result<Plan, MonitorError> {
    if path.as_os_str().is_empty() {
        return Err(refused(path, "the path is empty".into()));
    }
    let meta = match std::fs::symlink_metadata(path) {
        Ok(meta) => meta,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Plan::Atomic(path.to_path_buf())),
        Err(e) => return Err(MonitorError::io(path)(e)),
    };
    let t = meta.file_type();
    if t.is_file() {
        return Ok(Plan::Atomic(path.to_path_buf()));
    }
    match output {
        Output::Own => Err(refused(
            path,
            format!(
                "is {} where burn-lr writes a regular file of its own; remove it or choose another folder",
                file_kind(t)
            ),
        )),
        Output::Named if t.is_symlink() => match std::fs::metadata(path) {
            Ok(target) if target.is_file() => {
                let real = std::fs::canonicalize(path).map_err(MonitorError::io(path))?;
                Ok(Plan::Atomic(real))
            }
            Ok(target) if streams(target.file_type()) => Ok(Plan::Stream),
            Ok(target) => Err(refused(
                path,
                format!(
                    "is a symbolic link to {}, not to a file; give a file path",
                    file_kind(target.file_type())
                ),
            )),
            Err(_) => Err(refused(
                path,
                "is a symbolic link to nothing (a dangling link); give a file path".into(),
            )),
        },
        Output::Named if streams(t) => Ok(Plan::Stream),
        Output::Named => Err(refused(
            path,
            format!("is {}, not a file; give a file path", file_kind(t)),
        )),
    }
}

/// Checks, before any work, that `path` can be written as `output` ([`write_file`] would not
/// refuse it).
///
/// # Errors
/// [`MonitorError::NotAFile`] naming the path and what stands there; [`MonitorError::Io`] when
/// it cannot be inspected.
pub fn check_output(path: &Path, output: Output) -> Result<(), MonitorError> {
    plan(path, output).map(drop)
}

/// Writes `contents` to `path` as `output` (see [`Output`]). A regular file (or a new one) goes
/// through a temporary file in the same folder, `fsync` and a rename, so it is either the old
/// or the new version, never half-written, and an ordinary 0644 file (not the temporary
/// file's 0600); the folder is created if missing. A pipe or a character device is written
/// into.
///
/// # Errors
/// [`MonitorError::NotAFile`] (something that is not a file stands at `path`),
/// [`MonitorError::Io`] naming `path` (e.g. a full disk, `/dev/full`).
pub fn write_file(path: &Path, contents: &[u8], output: Output) -> Result<(), MonitorError> {
    match plan(path, output)? {
        Plan::Atomic(target) => write_atomic(&target, contents).map_err(MonitorError::io(path)),
        Plan::Stream => std::fs::OpenOptions::new()
            .write(true)
            .open(path)
            .and_then(|mut f| f.write_all(contents).and_then(|()| f.flush()))
            .map_err(MonitorError::io(path)),
    }
}

/// [`write_file`] of a file the program names itself ([`Output::Own`]).
pub(crate) fn write_file_atomic(path: &Path, contents: &[u8]) -> Result<(), MonitorError> {
    write_file(path, contents, Output::Own)
}

fn write_atomic(path: &Path, contents: &[u8]) -> std::io::Result<()> {
    let dir = path
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    std::fs::create_dir_all(dir)?;
    let mut tmp = tempfile::Builder::new()
        .prefix(&format!("{TMP_PREFIX}{}.", std::process::id()))
        .tempfile_in(dir)?;
    tmp.write_all(contents)?;
    tmp.as_file().sync_all()?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        tmp.as_file().set_permissions(std::fs::Permissions::from_mode(0o644))?;
    }
    tmp.persist(path).map_err(|e| e.error)?;
    Ok(())
}

/// A temporary file whose writer cannot say (no process id in its name, written by an older
/// burn-lr) is stale after this long.
const UNNAMED_STALE_AFTER: Duration = Duration::from_secs(3600);

/// Removes the temporary files (`TMP_PREFIX*`) that killed processes left in `dir`: those of a
/// process that no longer runs on this machine (on Linux, by `/proc`), and those older than an
/// hour whose writer is unknown; returns how many. A folder that cannot be read has none.
pub fn remove_stale_temp_files(dir: &Path) -> usize {
    let now = SystemTime::now();
    std::fs::read_dir(dir)
        .into_iter()
        .flatten()
        .filter_map(|e| e.ok())
        .filter(|e| e.file_type().is_ok_and(|t| t.is_file()))
        .filter(|e| {
            let name = e.file_name().to_string_lossy().into_owned();
            let Some(rest) = name.strip_prefix(TMP_PREFIX) else {
                return false;
            };
            let writer = rest.split_once('.').and_then(|(pid, _)| pid.parse::<u32>().ok());
            match writer.and_then(process_runs) {
                Some(runs) => !runs,
                None => e
                    .metadata()
                    .and_then(|m| m.modified())
                    .is_ok_and(|t| now.duration_since(t).unwrap_or_default() > UNNAMED_STALE_AFTER),
            }
        })
        .filter(|e| std::fs::remove_file(e.path()).is_ok())
        .count()
}

/// Whether process `pid` runs (`None` where this cannot be told).
fn process_runs(pid: u32) -> Option<bool> {
    if pid == std::process::id() {
        return Some(true);
    }
    let proc = Path::new("/proc");
    proc.join("self").exists().then(|| proc.join(pid.to_string()).exists())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn own_files_refuse_what_is_not_a_regular_file_and_named_ones_follow_links() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path();
        let file = dir.join("a.csv");
        write_file(&file, b"one", Output::Own).unwrap();
        write_file(&file, b"two", Output::Own).unwrap();
        assert_eq!(std::fs::read(&file).unwrap(), b"two");
        let err = write_file(dir, b"x", Output::Named).unwrap_err().to_string();
        assert!(err.contains("is a directory"), "{err}");
        #[cfg(unix)]
        {
            let link = dir.join("link.csv");
            std::os::unix::fs::symlink(&file, &link).unwrap();
            let err = write_file(&link, b"x", Output::Own).unwrap_err().to_string();
            assert!(err.contains("is a symbolic link"), "{err}");
            assert_eq!(std::fs::read(&file).unwrap(), b"two");
            write_file(&link, b"three", Output::Named).unwrap();
            assert!(std::fs::symlink_metadata(&link).unwrap().file_type().is_symlink());
            assert_eq!(std::fs::read(&file).unwrap(), b"three");
            let dangling = dir.join("dangling.png");
            std::os::unix::fs::symlink(dir.join("missing"), &dangling).unwrap();
            assert!(write_file(&dangling, b"x", Output::Named).is_err());
            assert!(!dir.join("missing").exists());
            // A character device is written into, never replaced.
            write_file(Path::new("/dev/null"), b"x", Output::Named).unwrap();
            assert!(write_file(Path::new("/dev/null"), b"x", Output::Own).is_err());
            if Path::new("/dev/full").exists() {
                let err = write_file(Path::new("/dev/full"), b"x", Output::Named).unwrap_err();
                assert!(matches!(err, MonitorError::Io { .. }), "{err}");
                let t = std::fs::symlink_metadata("/dev/full").unwrap().file_type();
                assert!(std::os::unix::fs::FileTypeExt::is_char_device(&t));
            }
        }
        let names: Vec<_> = std::fs::read_dir(dir)
            .unwrap()
            .flatten()
            .map(|e| e.file_name())
            .collect();
        assert!(
            !names.iter().any(|n| n.to_string_lossy().starts_with(TMP_PREFIX)),
            "{names:?}"
        );
    }

    #[test]
    fn temporary_files_of_gone_processes_are_removed_and_live_ones_kept() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path();
        let mine = dir.join(format!("{TMP_PREFIX}{}.abc", std::process::id()));
        // Process ids are below 2^22 on Linux: this one never runs.
        let gone = dir.join(format!("{TMP_PREFIX}4294967295.abc"));
        let unnamed = dir.join(format!("{TMP_PREFIX}xyz"));
        for p in [&mine, &gone, &unnamed] {
            std::fs::write(p, b"half").unwrap();
        }
        let expected = usize::from(Path::new("/proc/self").exists());
        assert_eq!(remove_stale_temp_files(dir), expected);
        assert!(mine.exists() && unnamed.exists());
        assert_eq!(gone.exists(), expected == 0);
    }
}
