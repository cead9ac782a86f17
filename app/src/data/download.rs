//! Downloading the official CIFAR-10 binary archive: cache folder, MD5 check, atomic extraction.

use super::items::*;
use std::fs;
use std::io::{Read, Write};
use std::path::{Path, PathBuf};

/// Default cache directory: `$BURN_LR_CACHE`, else `$XDG_CACHE_HOME/burn-lr`, else
/// `$HOME/.cache/burn-lr`, else `./.cache/burn-lr`.
pub fn default_cache_dir() -> PathBuf {
    if let Some(dir) = std::env::var_os("BURN_LR_CACHE") {
        return PathBuf::from(dir);
    }
    if let Some(dir) = std::env::var_os("XDG_CACHE_HOME") {
        return PathBuf::from(dir).join("burn-lr");
    }
    if let Some(home) = std::env::var_os("HOME") {
        return PathBuf::from(home).join(".cache").join("burn-lr");
    }
    PathBuf::from(".cache").join("burn-lr")
}

/// Makes sure the official archive is extracted under `cache_dir/cifar-10-batches-bin`,
/// downloading it first if needed, and returns `cache_dir`.
///
/// The archive is streamed to a temporary file while its MD5 is computed; a mismatch deletes it.
/// Extraction goes to a temporary folder that is renamed into place only when complete, so an
/// interrupted run never leaves a half-written dataset.
///
/// # Errors
/// [`DataError::Download`], [`DataError::Checksum`], [`DataError::Io`].
pub fn download_cifar10(cache_dir: &Path) -> Result<PathBuf, DataError> {
    if binary_complete(&cache_dir.join("cifar-10-batches-bin")) {
        return Ok(cache_dir.to_path_buf());
    }
    fs::create_dir_all(cache_dir).map_err(io_err(cache_dir))?;
    let archive = cache_dir.join("cifar-10-binary.tar.gz");
    if !archive.is_file() || md5_file(&archive)? != CIFAR10_MD5 {
        tell!("downloading {CIFAR10_URL} (163 MB) to {}", archive.display());
        let response = ureq::get(CIFAR10_URL)
            .call()
            .map_err(|e| DataError::Download(e.to_string()))?;
        let mut tmp = tempfile::NamedTempFile::new_in(cache_dir).map_err(io_err(cache_dir))?;
        let mut reader = response.into_reader();
        let mut buf = vec![0u8; 1 << 16];
        loop {
            let n = reader.read(&mut buf).map_err(|e| DataError::Download(e.to_string()))?;
            if n == 0 {
                break;
            }
            tmp.write_all(&buf[..n]).map_err(io_err(tmp.path()))?;
        }
        tmp.flush().map_err(io_err(tmp.path()))?;
        tmp.as_file().sync_all().map_err(io_err(tmp.path()))?;
        let found = md5_file(tmp.path())?;
        if found != CIFAR10_MD5 {
            return Err(DataError::Checksum { path: archive, found });
        }
        tmp.persist(&archive).map_err(|e| DataError::Io {
            path: archive.clone(),
            source: e.error,
        })?;
    }
    extract_archive(&archive, cache_dir)?;
    Ok(cache_dir.to_path_buf())
}

/// MD5 of a file, lowercase hex.
///
/// # Errors
/// [`DataError::Io`] when the file cannot be read.
pub fn md5_file(path: &Path) -> Result<String, DataError> {
    use md5::{Digest, Md5};
    let mut file = fs::File::open(path).map_err(io_err(path))?;
    let mut hasher = Md5::new();
    let mut buf = vec![0u8; 1 << 16];
    loop {
        let n = file.read(&mut buf).map_err(io_err(path))?;
        if n == 0 {
            break;
        }
        hasher.update(&buf[..n]);
    }
    Ok(hasher.finalize().iter().map(|b| format!("{b:02x}")).collect())
}

/// The six batch files of the binary layout, in order.
pub const BATCH_FILES: [&str; 6] = [
    "data_batch_1.bin",
    "data_batch_2.bin",
    "data_batch_3.bin",
    "data_batch_4.bin",
    "data_batch_5.bin",
    "test_batch.bin",
];

/// Whether `dir` holds all six batch files, each a non-empty whole number of 3073-byte records
/// (30,730,000 bytes in the official archive).
pub fn binary_complete(dir: &Path) -> bool {
    BATCH_FILES.iter().all(|f| {
        fs::metadata(dir.join(f)).is_ok_and(|m| m.is_file() && m.len() > 0 && m.len() % (PIXELS as u64 + 1) == 0)
    })
}

/// Extracts a `.tar.gz` holding `cifar-10-batches-bin/` into `dest` atomically: into a temporary
/// folder first, files synced to disk, then renamed into place. An incomplete folder already
/// there is replaced; a complete one (another run finished first) is kept.
///
/// # Errors
/// [`DataError::Invalid`] when the archive does not contain the six batch files.
pub fn extract_archive(archive: &Path, dest: &Path) -> Result<(), DataError> {
    let tmp = tempfile::tempdir_in(dest).map_err(io_err(dest))?;
    let file = fs::File::open(archive).map_err(io_err(archive))?;
    tar::Archive::new(flate2::read::GzDecoder::new(file))
        .unpack(tmp.path())
        .map_err(|e| DataError::Invalid {
            path: archive.to_path_buf(),
            reason: format!("cannot extract: {e}"),
        })?;
    let extracted = tmp.path().join("cifar-10-batches-bin");
    if !binary_complete(&extracted) {
        return Err(DataError::Invalid {
            path: archive.to_path_buf(),
            reason: format!("archive lacks cifar-10-batches-bin/ with {}", BATCH_FILES.join(", ")),
        });
    }
    for f in BATCH_FILES {
        let path = extracted.join(f);
        fs::File::open(&path)
            .and_then(|file| file.sync_all())
            .map_err(io_err(&path))?;
    }
    let target = dest.join("cifar-10-batches-bin");
    if fs::rename(&extracted, &target).is_err() {
        if binary_complete(&target) {
            return Ok(());
        }
        if target.exists() {
            fs::remove_dir_all(&target).map_err(io_err(&target))?;
        }
        fs::rename(&extracted, &target).map_err(io_err(&target))?;
    }
    Ok(())
}
