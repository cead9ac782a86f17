//! Files written whole or not at all.

use super::MonitorError;
use std::io::Write;
use std::path::Path;

/// The files the monitor writes (`lr.csv`, charts) go through a temporary file in the same
/// folder whose name starts with this, then a rename: a process killed mid-write leaves such a
/// file behind (never a half-written `lr.csv`), which is safe to delete.
pub const TMP_PREFIX: &str = ".burn-lr-tmp-";

/// Writes `contents` to `path` through a temporary file in the same folder, `fsync` and a
/// rename, so the file is either the old or the new version, never half-written. The file is
/// an ordinary 0644 one (not the temporary file's 0600).
///
/// # Errors
/// [`MonitorError::Io`] naming `path`.
pub(crate) fn write_file_atomic(path: &Path, contents: &[u8]) -> Result<(), MonitorError> {
    let dir = path
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let io = |source| MonitorError::Io {
        path: path.to_path_buf(),
        source,
    };
    std::fs::create_dir_all(dir).map_err(io)?;
    let mut tmp = tempfile::Builder::new()
        .prefix(TMP_PREFIX)
        .tempfile_in(dir)
        .map_err(io)?;
    tmp.write_all(contents).map_err(io)?;
    tmp.as_file().sync_all().map_err(io)?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        tmp.as_file()
            .set_permissions(std::fs::Permissions::from_mode(0o644))
            .map_err(io)?;
    }
    tmp.persist(path).map_err(|e| io(e.error))?;
    Ok(())
}
