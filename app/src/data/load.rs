//! Reading CIFAR-10: the official binary batches and `train/<class>/*.png|jpg` image folders.

use super::items::*;
use std::fs;
use std::path::{Path, PathBuf};

/// Reads one binary batch: records of 1 label byte + 3072 pixel bytes (R, G, B planes).
///
/// # Errors
/// [`DataError::Invalid`] for a missing file, a length that is not a multiple of 3073, or a
/// label above 9.
pub fn read_batch(path: &Path) -> Result<Vec<CifarItem>, DataError> {
    let bytes = fs::read(path).map_err(|e| DataError::Invalid {
        path: path.to_path_buf(),
        reason: format!("cannot read batch file ({e})"),
    })?;
    if bytes.is_empty() || bytes.len() % (PIXELS + 1) != 0 {
        return Err(DataError::Invalid {
            path: path.to_path_buf(),
            reason: format!(
                "{} bytes is not a whole number of 3073-byte records (truncated or not a CIFAR-10 batch)",
                bytes.len()
            ),
        });
    }
    bytes
        .chunks_exact(PIXELS + 1)
        .enumerate()
        .map(|(i, rec)| {
            if rec[0] as usize >= CLASSES.len() {
                return Err(DataError::Invalid {
                    path: path.to_path_buf(),
                    reason: format!("record {i} has label {}, expected 0..=9", rec[0]),
                });
            }
            Ok(CifarItem {
                pixels: rec[1..].to_vec(),
                label: rec[0],
            })
        })
        .collect()
}

/// Decodes one image file into channel-major pixels.
fn decode_image(path: &Path) -> Result<Vec<u8>, DataError> {
    let img = image::open(path).map_err(|e| DataError::Invalid {
        path: path.to_path_buf(),
        reason: format!("cannot decode image: {e}"),
    })?;
    if img.width() != 32 || img.height() != 32 {
        return Err(DataError::Invalid {
            path: path.to_path_buf(),
            reason: format!("image is {}x{}, expected 32x32", img.width(), img.height()),
        });
    }
    let rgb = img.to_rgb8();
    let mut pixels = vec![0u8; PIXELS];
    for (i, p) in rgb.pixels().enumerate() {
        for c in 0..3 {
            pixels[c * 1024 + i] = p.0[c];
        }
    }
    Ok(pixels)
}

/// Loads `root/<class>/*.{png,jpg,jpeg}` for the ten standard class names, decoding on all
/// cores; files are taken in name order.
///
/// # Errors
/// [`DataError::Invalid`] when a class folder is missing or empty or an image does not decode.
pub fn load_image_folder(root: &Path) -> Result<Vec<CifarItem>, DataError> {
    let mut files: Vec<(PathBuf, u8)> = Vec::new();
    for (label, class) in CLASSES.iter().enumerate() {
        let dir = root.join(class);
        let entries = fs::read_dir(&dir).map_err(|e| DataError::Invalid {
            path: dir.clone(),
            reason: format!(
                "missing class folder ({e}); expected one folder per class: {}",
                CLASSES.join(", ")
            ),
        })?;
        let mut class_files: Vec<PathBuf> = entries
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| {
                p.extension()
                    .and_then(|x| x.to_str())
                    .is_some_and(|x| matches!(x.to_ascii_lowercase().as_str(), "png" | "jpg" | "jpeg"))
            })
            .collect();
        if class_files.is_empty() {
            return Err(DataError::Invalid {
                path: dir,
                reason: "no .png/.jpg images in this class folder".into(),
            });
        }
        class_files.sort();
        files.extend(class_files.into_iter().map(|p| (p, label as u8)));
    }
    let threads = std::thread::available_parallelism().map_or(2, |n| n.get()).max(1);
    let chunk = files.len().div_ceil(threads);
    let results: Vec<Result<Vec<CifarItem>, DataError>> = std::thread::scope(|scope| {
        let handles: Vec<_> = files
            .chunks(chunk.max(1))
            .map(|part| {
                scope.spawn(move || {
                    part.iter()
                        .map(|(path, label)| {
                            Ok(CifarItem {
                                pixels: decode_image(path)?,
                                label: *label,
                            })
                        })
                        .collect()
                })
            })
            .collect();
        handles
            .into_iter()
            .map(|h| h.join().expect("image decoding thread panicked"))
            .collect()
    });
    let mut items = Vec::with_capacity(files.len());
    for part in results {
        items.extend(part?);
    }
    Ok(items)
}
