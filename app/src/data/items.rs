//! What every part of the data pipeline shares: the classes, normalization, the archive's
//! address, one image and the errors.

use std::path::{Path, PathBuf};

/// The ten CIFAR-10 classes, in label order (airplane = 0 ... truck = 9).
pub const CLASSES: [&str; 10] = [
    "airplane",
    "automobile",
    "bird",
    "cat",
    "deer",
    "dog",
    "frog",
    "horse",
    "ship",
    "truck",
];

/// Per-channel mean of the CIFAR-10 training set (RGB, pixel values scaled to [0, 1]).
pub const MEAN: [f32; 3] = [0.4914, 0.4822, 0.4465];
/// Per-channel standard deviation of the CIFAR-10 training set (RGB, scaled to [0, 1]).
pub const STD: [f32; 3] = [0.2470, 0.2435, 0.2616];

/// Canonical address of the official binary archive.
pub const CIFAR10_URL: &str = "https://www.cs.toronto.edu/~kriz/cifar-10-binary.tar.gz";
/// MD5 of the official binary archive.
pub const CIFAR10_MD5: &str = "c32a1d4ab5d03f1284b67883e8d87530";

pub(super) const PIXELS: usize = 3 * 32 * 32;

/// Errors from finding, downloading or decoding CIFAR-10.
#[derive(Debug, thiserror::Error)]
pub enum DataError {
    /// The directory holds neither layout.
    #[error(
        "no CIFAR-10 found in {0}: expected either `cifar-10-batches-bin/` (or its files \
         data_batch_1.bin..data_batch_5.bin, test_batch.bin) from the official binary archive, \
         or an image folder with `train/<class>/*.png|jpg` and `test/<class>/*`. Run without \
         --data-dir to download the official archive, or fetch {CIFAR10_URL} and extract it there"
    )]
    NotFound(PathBuf),
    /// A file or folder of the expected layout is missing or malformed.
    #[error("invalid CIFAR-10 data at {path}: {reason}")]
    Invalid {
        /// The file or folder.
        path: PathBuf,
        /// What is wrong.
        reason: String,
    },
    /// The downloaded archive does not have the published checksum.
    #[error("checksum mismatch for {path}: MD5 {found}, expected {CIFAR10_MD5}; the download is corrupt and was deleted, run again")]
    Checksum {
        /// The file.
        path: PathBuf,
        /// Its MD5.
        found: String,
    },
    /// Downloading failed.
    #[error("could not download {CIFAR10_URL}: {0}; download it by hand, extract it, and pass --data-dir")]
    Download(String),
    /// A subset larger than the split (`train_limit` / `test_limit` above the images present).
    #[error(
        "[data] {key} (--{flag}) = {asked}: more than the {present} {split} images in the data; give at most \
         {present}, or leave it out to use them all",
        flag = key.replace('_', "-")
    )]
    LimitTooLarge {
        /// `train_limit` or `test_limit`.
        key: &'static str,
        /// `training` or `test`.
        split: &'static str,
        /// The limit given.
        asked: usize,
        /// The images of that split.
        present: usize,
    },
    /// An I/O error.
    #[error("{path}: {source}")]
    Io {
        /// The file or folder.
        path: PathBuf,
        /// The error.
        source: std::io::Error,
    },
}

pub(super) fn io_err(path: &Path) -> impl FnOnce(std::io::Error) -> DataError + '_ {
    move |source| DataError::Io {
        path: path.to_path_buf(),
        source,
    }
}

/// One 32×32 RGB image, channel-major (`[3, 32, 32]` as `u8`), with its label (0–9).
#[derive(Debug, Clone, PartialEq)]
pub struct CifarItem {
    /// Pixels, `[3, 32, 32]` row-major: all red, then green, then blue.
    pub pixels: Vec<u8>,
    /// Class label, an index into [`CLASSES`].
    pub label: u8,
}

/// The crop offset (pixels, each in -4..=4), horizontal flip and cutout square drawn for one
/// image of one epoch.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Crop {
    /// Vertical shift of the 32x32 window inside the zero-padded 40x40 image.
    pub dy: i32,
    /// Horizontal shift.
    pub dx: i32,
    /// Mirror left-right.
    pub flip: bool,
    /// The square cut out of the cropped and flipped image (`[data] cutout`), if any.
    pub cutout: Option<Cutout>,
}

/// Cutout (DeVries & Taylor 2017, "Improved Regularization of Convolutional Neural Networks with
/// Cutout"), as in David Page's DAWNBench code: a `size` x `size` square lying wholly inside the
/// 32x32 image, its top-left corner uniform over the `(33 - size)^2` places, set to 0 after
/// normalization (the dataset's mean colour) in every channel.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Cutout {
    /// Top row of the square (pixels, 0..=32 - size).
    pub y: i32,
    /// Left column.
    pub x: i32,
    /// Side (pixels, 1..=32).
    pub size: i32,
}
