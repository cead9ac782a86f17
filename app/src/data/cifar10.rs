//! [`Cifar10`]: both splits in memory, from the binary archive or an image folder.

use super::items::*;
use super::load::*;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use std::path::Path;

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
    ///
    /// # Errors
    /// [`DataError::LimitTooLarge`] when `n` is more than the training images.
    pub fn limit_train(&mut self, n: usize, seed: u64) -> Result<(), DataError> {
        check_limit(n, self.train.len(), "train_limit", "training")?;
        self.train = balanced_subset(std::mem::take(&mut self.train), n, seed);
        Ok(())
    }

    /// Keeps `n` test images, balanced over classes.
    ///
    /// # Errors
    /// [`DataError::LimitTooLarge`] when `n` is more than the test images.
    pub fn limit_test(&mut self, n: usize, seed: u64) -> Result<(), DataError> {
        check_limit(n, self.test.len(), "test_limit", "test")?;
        self.test = balanced_subset(std::mem::take(&mut self.test), n, seed);
        Ok(())
    }
}

/// A subset of `n` of the `present` images of a split is possible.
fn check_limit(n: usize, present: usize, key: &'static str, split: &'static str) -> Result<(), DataError> {
    if n > present {
        return Err(DataError::LimitTooLarge {
            key,
            split,
            asked: n,
            present,
        });
    }
    Ok(())
}

pub(super) fn balanced_subset(items: Vec<CifarItem>, n: usize, seed: u64) -> Vec<CifarItem> {
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
