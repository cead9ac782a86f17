//! CIFAR-10 (Krizhevsky 2009): loading, download, augmentation and batching.
//!
//! Two sources, both loaded fully into memory (50,000 + 10,000 images, ~180 MB):
//! - the official binary archive `cifar-10-binary.tar.gz`, downloaded from its canonical
//!   address, MD5-checked and extracted atomically into a cache directory
//!   ([`download_cifar10`]), or already extracted (`cifar-10-batches-bin/`);
//! - an image folder `train/<class>/*.{png,jpg}` + `test/<class>/*`, class folders named with
//!   the standard class names ([`CLASSES`]).

use burn::data::dataloader::batcher::Batcher;
use burn::data::dataset::InMemDataset;
use burn::tensor::{Device, Int, Tensor, TensorData};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use std::fs;
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::sync::Mutex;

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

const PIXELS: usize = 3 * 32 * 32;

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
    /// An I/O error.
    #[error("{path}: {source}")]
    Io {
        /// The file or folder.
        path: PathBuf,
        /// The error.
        source: std::io::Error,
    },
}

fn io_err(path: &Path) -> impl FnOnce(std::io::Error) -> DataError + '_ {
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

/// The two splits of CIFAR-10.
#[derive(Debug, Clone)]
pub struct Cifar10 {
    /// Training images (50,000 in the full set).
    pub train: Vec<CifarItem>,
    /// Test images (10,000 in the full set).
    pub test: Vec<CifarItem>,
}

impl Cifar10 {
    /// Loads CIFAR-10 from `dir`, detecting the layout (binary batches or image folder).
    ///
    /// # Errors
    /// [`DataError::NotFound`] when `dir` holds neither layout; [`DataError::Invalid`] for a
    /// truncated batch file, an undecodable image or an image that is not 32×32.
    pub fn load(dir: &Path) -> Result<Self, DataError> {
        if !dir.is_dir() {
            return Err(DataError::NotFound(dir.to_path_buf()));
        }
        let bin = dir.join("cifar-10-batches-bin");
        if bin.join("test_batch.bin").is_file() {
            return Self::load_binary(&bin);
        }
        if dir.join("test_batch.bin").is_file() {
            return Self::load_binary(dir);
        }
        if dir.join("train").is_dir() && dir.join("test").is_dir() {
            return Ok(Self {
                train: load_image_folder(&dir.join("train"))?,
                test: load_image_folder(&dir.join("test"))?,
            });
        }
        Err(DataError::NotFound(dir.to_path_buf()))
    }

    /// Loads the official binary batches (`data_batch_1..5.bin`, `test_batch.bin`) from `dir`.
    ///
    /// # Errors
    /// [`DataError::Invalid`] when a file is missing or not a whole number of 3073-byte records.
    pub fn load_binary(dir: &Path) -> Result<Self, DataError> {
        let mut train = Vec::with_capacity(50_000);
        for i in 1..=5 {
            train.extend(read_batch(&dir.join(format!("data_batch_{i}.bin")))?);
        }
        let test = read_batch(&dir.join("test_batch.bin"))?;
        Ok(Self { train, test })
    }

    /// Keeps the first `n` training images after a seeded shuffle that keeps classes balanced
    /// (round-robin over classes), so a small subset still has every class.
    pub fn limit_train(&mut self, n: usize, seed: u64) {
        self.train = balanced_subset(std::mem::take(&mut self.train), n, seed);
    }

    /// Keeps `n` test images, balanced over classes.
    pub fn limit_test(&mut self, n: usize, seed: u64) {
        self.test = balanced_subset(std::mem::take(&mut self.test), n, seed);
    }
}

fn balanced_subset(items: Vec<CifarItem>, n: usize, seed: u64) -> Vec<CifarItem> {
    if n >= items.len() {
        return items;
    }
    let mut by_class: Vec<Vec<CifarItem>> = vec![Vec::new(); CLASSES.len()];
    for item in items {
        by_class[item.label as usize].push(item);
    }
    let mut rng = StdRng::seed_from_u64(seed);
    for class in &mut by_class {
        // Fisher–Yates, seeded.
        for i in (1..class.len()).rev() {
            class.swap(i, rng.random_range(0..=i));
        }
        class.reverse();
    }
    let mut out = Vec::with_capacity(n);
    while out.len() < n {
        for class in &mut by_class {
            if out.len() < n {
                if let Some(item) = class.pop() {
                    out.push(item);
                }
            }
        }
    }
    out
}

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
        eprintln!("downloading {CIFAR10_URL} (163 MB) to {}", archive.display());
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

/// A batch of images and labels.
#[derive(Debug, Clone)]
pub struct CifarBatch {
    /// Normalized images, `[batch, 3, 32, 32]`.
    pub images: Tensor<4>,
    /// Labels, `[batch]`, values 0–9.
    pub targets: Tensor<1, Int>,
}

/// Turns [`CifarItem`]s into a normalized [`CifarBatch`]; with augmentation on (training), each
/// image is padded by 4 pixels (zeros), randomly cropped back to 32×32 and flipped
/// horizontally with probability 1/2, from a seeded generator.
pub struct CifarBatcher {
    rng: Option<Mutex<StdRng>>,
}

impl CifarBatcher {
    /// A batcher without augmentation (evaluation).
    pub fn eval() -> Self {
        Self { rng: None }
    }

    /// A batcher with seeded pad-4 random crop + horizontal flip (training).
    pub fn train(seed: u64) -> Self {
        Self {
            rng: Some(Mutex::new(StdRng::seed_from_u64(seed))),
        }
    }

    /// Writes one normalized (and possibly augmented) image into `out` (`[3, 32, 32]` f32).
    fn write_image(&self, item: &CifarItem, out: &mut [f32]) {
        let (dy, dx, flip) = match &self.rng {
            Some(rng) => {
                let mut rng = rng.lock().expect("batcher rng lock poisoned");
                (
                    rng.random_range(0..=8i32) - 4,
                    rng.random_range(0..=8i32) - 4,
                    rng.random_bool(0.5),
                )
            }
            None => (0, 0, false),
        };
        for c in 0..3 {
            let (mean, std) = (MEAN[c], STD[c]);
            // A padded (zero) pixel normalizes to (0 - mean) / std.
            let pad = (0.0 - mean) / std;
            for y in 0..32i32 {
                for x in 0..32i32 {
                    let sx = if flip { 31 - x } else { x } + dx;
                    let sy = y + dy;
                    let v = if (0..32).contains(&sx) && (0..32).contains(&sy) {
                        (f32::from(item.pixels[c * 1024 + (sy * 32 + sx) as usize]) / 255.0 - mean) / std
                    } else {
                        pad
                    };
                    out[c * 1024 + (y * 32 + x) as usize] = v;
                }
            }
        }
    }
}

impl Batcher<CifarItem, CifarBatch> for CifarBatcher {
    fn batch(&self, items: Vec<CifarItem>, device: &Device) -> CifarBatch {
        let n = items.len();
        let mut data = vec![0f32; n * PIXELS];
        for (item, out) in items.iter().zip(data.chunks_exact_mut(PIXELS)) {
            self.write_image(item, out);
        }
        let labels: Vec<i64> = items.iter().map(|i| i64::from(i.label)).collect();
        CifarBatch {
            images: Tensor::from_data(TensorData::new(data, [n, 3, 32, 32]), device),
            targets: Tensor::from_data(TensorData::new(labels, [n]), device),
        }
    }
}

/// An in-memory Burn dataset of CIFAR items.
pub fn dataset(items: Vec<CifarItem>) -> InMemDataset<CifarItem> {
    InMemDataset::new(items)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn item(label: u8, v: u8) -> CifarItem {
        CifarItem {
            pixels: vec![v; PIXELS],
            label,
        }
    }

    #[test]
    fn binary_batch_roundtrip_and_truncation() {
        let dir = tempfile::tempdir().unwrap();
        let mut bytes = Vec::new();
        for label in 0..10u8 {
            bytes.push(label);
            bytes.extend((0..PIXELS).map(|i| (i % 251) as u8));
        }
        let path = dir.path().join("b.bin");
        fs::write(&path, &bytes).unwrap();
        let items = read_batch(&path).unwrap();
        assert_eq!(items.len(), 10);
        assert_eq!(items[3].label, 3);
        assert_eq!(items[3].pixels[1024], (1024 % 251) as u8);
        fs::write(&path, &bytes[..bytes.len() - 1]).unwrap();
        let err = read_batch(&path).unwrap_err().to_string();
        assert!(err.contains("3073-byte records"), "{err}");
    }

    fn batch_bytes(n: usize, seed: u8) -> Vec<u8> {
        let mut bytes = Vec::new();
        for i in 0..n {
            bytes.push((i % 10) as u8);
            bytes.extend((0..PIXELS).map(|p| (p as u8).wrapping_mul(seed).wrapping_add(i as u8)));
        }
        bytes
    }

    #[test]
    fn archive_extracts_atomically_and_loads() {
        // A miniature cifar-10-binary.tar.gz with the official layout.
        let dir = tempfile::tempdir().unwrap();
        let archive = dir.path().join("cifar-10-binary.tar.gz");
        {
            let gz = flate2::write::GzEncoder::new(fs::File::create(&archive).unwrap(), flate2::Compression::fast());
            let mut tar = tar::Builder::new(gz);
            for (name, n) in [
                ("data_batch_1", 3),
                ("data_batch_2", 2),
                ("data_batch_3", 2),
                ("data_batch_4", 2),
                ("data_batch_5", 1),
                ("test_batch", 4),
            ] {
                let bytes = batch_bytes(n, 7);
                let mut header = tar::Header::new_gnu();
                header.set_size(bytes.len() as u64);
                header.set_mode(0o644);
                header.set_cksum();
                tar.append_data(
                    &mut header,
                    format!("cifar-10-batches-bin/{name}.bin"),
                    bytes.as_slice(),
                )
                .unwrap();
            }
            tar.into_inner().unwrap().finish().unwrap();
        }
        assert_eq!(md5_file(&archive).unwrap().len(), 32);
        let cache = dir.path().join("cache");
        fs::create_dir_all(&cache).unwrap();
        extract_archive(&archive, &cache).unwrap();
        // Only the finished folder is left: no temporary extraction folder.
        let entries: Vec<_> = fs::read_dir(&cache).unwrap().map(|e| e.unwrap().file_name()).collect();
        assert_eq!(entries, vec![std::ffi::OsString::from("cifar-10-batches-bin")]);
        let data = Cifar10::load(&cache).unwrap();
        assert_eq!((data.train.len(), data.test.len()), (10, 4));
        assert_eq!(data.test[3].label, 3);
        // download_cifar10 finds the extracted copy and does not download.
        assert_eq!(download_cifar10(&cache).unwrap(), cache);
    }

    #[test]
    fn image_folder_loads_and_reports_problems() {
        let dir = tempfile::tempdir().unwrap();
        for split in ["train", "test"] {
            for (label, class) in CLASSES.iter().enumerate() {
                let d = dir.path().join(split).join(class);
                fs::create_dir_all(&d).unwrap();
                let img = image::RgbImage::from_fn(32, 32, |x, y| image::Rgb([label as u8 * 20, x as u8, y as u8]));
                img.save(d.join("0000.png")).unwrap();
            }
        }
        let data = Cifar10::load(dir.path()).unwrap();
        assert_eq!((data.train.len(), data.test.len()), (10, 10));
        let horse = &data.train[7];
        assert_eq!(horse.label, 7);
        assert_eq!(horse.pixels[0], 140); // red plane, pixel (0, 0)
        assert_eq!(horse.pixels[1024 + 5], 5); // green plane, x = 5
        assert_eq!(horse.pixels[2048 + 32 * 9], 9); // blue plane, y = 9

        // Wrong size, undecodable file, missing class folder: each a clear error.
        image::RgbImage::new(16, 16)
            .save(dir.path().join("test/cat/0001.png"))
            .unwrap();
        let err = Cifar10::load(dir.path()).unwrap_err().to_string();
        assert!(err.contains("16x16, expected 32x32"), "{err}");
        fs::write(dir.path().join("test/cat/0001.png"), b"not a png").unwrap();
        let err = Cifar10::load(dir.path()).unwrap_err().to_string();
        assert!(err.contains("cannot decode image"), "{err}");
        fs::remove_dir_all(dir.path().join("test/cat")).unwrap();
        let err = Cifar10::load(dir.path()).unwrap_err().to_string();
        assert!(err.contains("missing class folder"), "{err}");
        let err = Cifar10::load(&dir.path().join("nowhere")).unwrap_err().to_string();
        assert!(err.contains("no CIFAR-10 found"), "{err}");
    }

    #[test]
    fn balanced_subset_has_every_class() {
        let items: Vec<_> = (0..1000).map(|i| item((i % 10) as u8, 0)).collect();
        let sub = balanced_subset(items, 30, 1);
        for c in 0..10 {
            assert_eq!(sub.iter().filter(|i| i.label == c).count(), 3);
        }
    }

    #[test]
    fn augmentation_keeps_statistics_and_is_seeded() {
        let mut it = item(1, 0);
        for (i, p) in it.pixels.iter_mut().enumerate() {
            *p = (i % 256) as u8;
        }
        let (a, b) = (CifarBatcher::train(7), CifarBatcher::train(7));
        let mut out_a = vec![0.0; PIXELS];
        let mut out_b = vec![0.0; PIXELS];
        for _ in 0..5 {
            a.write_image(&it, &mut out_a);
            b.write_image(&it, &mut out_b);
            assert_eq!(out_a, out_b);
        }
        let e = CifarBatcher::eval();
        e.write_image(&it, &mut out_a);
        let expected = (f32::from(it.pixels[5]) / 255.0 - MEAN[0]) / STD[0];
        assert!((out_a[5] - expected).abs() < 1e-6);
    }
}
