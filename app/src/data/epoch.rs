//! The training set in the order of one epoch. The shuffle of epoch `e` and the crop, flip and
//! cutout of each image in it are functions of `(seed, e)` and `(seed, e, image index)` only, not of
//! how many epochs this process has run or which worker built the batch: a run stopped after
//! epoch 2 and resumed gives epoch 3 the same batches as a run that never stopped.

use super::batch::{CifarBatch, CifarBatcher};
use super::items::{CifarItem, Crop, Cutout};
use burn::data::dataloader::batcher::Batcher;
use burn::data::dataloader::{DataLoader, DataLoaderIterator, Progress};
use burn::data::dataset::{Dataset, DatasetError};
use burn::tensor::Device;
use rand::seq::SliceRandom;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, RwLock};

/// One training image of one epoch, with its augmentation (none when augmentation is off).
#[derive(Debug, Clone)]
pub struct TrainItem {
    /// The image.
    pub item: CifarItem,
    /// Its crop and flip this epoch.
    pub crop: Option<Crop>,
}

/// A well-mixed 64-bit key of `(seed, a, b)` (SplitMix64 finalizer over each word).
fn mix(seed: u64, a: u64, b: u64) -> u64 {
    let mut z = seed;
    for w in [a, b] {
        z = z.wrapping_add(0x9E37_79B9_7F4A_7C15).wrapping_add(w);
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^= z >> 31;
    }
    z
}

/// The order of the images in epoch `epoch` (from 1): a seeded Fisher–Yates shuffle.
pub fn epoch_order(len: usize, seed: u64, epoch: usize) -> Vec<usize> {
    let mut order: Vec<usize> = (0..len).collect();
    order.shuffle(&mut ChaCha8Rng::seed_from_u64(mix(seed, epoch as u64, u64::MAX)));
    order
}

/// The crop and flip of image `index` in epoch `epoch`, and a `cutout` x `cutout` square when
/// given (drawn after the crop and flip from the same generator, so they are the same with or
/// without it).
pub fn crop_for(seed: u64, epoch: usize, index: usize, cutout: Option<usize>) -> Crop {
    let mut rng = ChaCha8Rng::seed_from_u64(mix(seed, epoch as u64, index as u64));
    let (dy, dx, flip) = (
        rng.random_range(0..=8i32) - 4,
        rng.random_range(0..=8i32) - 4,
        rng.random_bool(0.5),
    );
    let cutout = cutout.map(|size| {
        let size = size.clamp(1, 32) as i32;
        Cutout {
            y: rng.random_range(0..=32 - size),
            x: rng.random_range(0..=32 - size),
            size,
        }
    });
    Crop { dy, dx, flip, cutout }
}

/// The training images, read in the order of the current epoch ([`EpochLoader`] advances it).
pub struct EpochDataset {
    items: Vec<CifarItem>,
    seed: u64,
    augment: bool,
    cutout: Option<usize>,
    start: usize,
    epoch: AtomicUsize,
    order: RwLock<Vec<usize>>,
    served: Arc<AtomicBool>,
    /// Iterators of the current epoch still serving (one per device slice).
    serving: AtomicUsize,
}

impl EpochDataset {
    /// `items` to be shuffled with `seed`; `epoch` is the last epoch already trained (0 for a
    /// new run, N when resuming after epoch N).
    pub fn new(items: Vec<CifarItem>, seed: u64, augment: bool, epoch: usize) -> Self {
        Self {
            order: RwLock::new((0..items.len()).collect()),
            items,
            seed,
            augment,
            cutout: None,
            start: epoch,
            epoch: AtomicUsize::new(epoch),
            served: Arc::new(AtomicBool::new(false)),
            serving: AtomicUsize::new(0),
        }
    }

    /// With a `size` x `size` cutout square in each augmented image (none: without).
    pub fn with_cutout(mut self, size: Option<usize>) -> Self {
        self.cutout = size;
        self
    }

    /// True from the moment the loader handed out the current epoch's last training batch
    /// until the next epoch starts (for a stop request to wait for the epoch's checkpoint).
    pub fn served_flag(&self) -> Arc<AtomicBool> {
        self.served.clone()
    }

    /// Moves to the next epoch: its order; returns its number.
    pub fn next_epoch(&self) -> usize {
        let epoch = self.epoch.load(Ordering::SeqCst) + 1;
        self.move_to(epoch, false);
        epoch
    }

    /// An iterator starts epoch `epoch`: the first to ask moves the order there (the slices of
    /// Burn's multi-device split all ask; only the first moves it), and each counts as serving
    /// until it calls [`Self::finish_serving`] for that epoch.
    fn start_epoch(&self, epoch: usize) {
        self.move_to(epoch, true);
    }

    fn move_to(&self, epoch: usize, serving: bool) {
        let mut order = self.order.write().unwrap_or_else(|e| e.into_inner());
        if self.epoch.load(Ordering::SeqCst) < epoch {
            *order = epoch_order(self.items.len(), self.seed, epoch);
            self.epoch.store(epoch, Ordering::SeqCst);
            self.serving.store(0, Ordering::SeqCst);
            self.served.store(false, Ordering::SeqCst);
        }
        if serving {
            self.serving.fetch_add(1, Ordering::SeqCst);
        }
    }

    /// An iterator of epoch `epoch` handed out its last batch; the epoch is served when every
    /// one has. A late call for an earlier epoch changes nothing.
    fn finish_serving(&self, epoch: usize) {
        let _order = self.order.write().unwrap_or_else(|e| e.into_inner());
        if self.epoch.load(Ordering::SeqCst) != epoch {
            return;
        }
        let left = self.serving.load(Ordering::SeqCst).saturating_sub(1);
        self.serving.store(left, Ordering::SeqCst);
        if left == 0 {
            self.served.store(true, Ordering::SeqCst);
        }
    }
}

impl Dataset<TrainItem> for EpochDataset {
    fn get(&self, index: usize) -> Result<TrainItem, DatasetError> {
        let order = self.order.read().unwrap_or_else(|e| e.into_inner());
        let Some(&source) = order.get(index) else {
            return Err(DatasetError::new(std::io::Error::other(format!(
                "index {index} past the {} training images",
                order.len()
            ))));
        };
        let epoch = self.epoch.load(Ordering::SeqCst);
        Ok(TrainItem {
            item: self.items[source].clone(),
            crop: self.augment.then(|| crop_for(self.seed, epoch, source, self.cutout)),
        })
    }

    fn len(&self) -> usize {
        self.items.len()
    }
}

impl Batcher<TrainItem, CifarBatch> for CifarBatcher {
    fn batch(&self, items: Vec<TrainItem>, device: &Device) -> CifarBatch {
        let (images, crops): (Vec<CifarItem>, Vec<Option<Crop>>) = items.into_iter().map(|t| (t.item, t.crop)).unzip();
        self.batch_with(&images, &crops, device)
    }
}

/// Burn's data loader over an [`EpochDataset`], moving it to the next epoch each time the
/// Learner starts one (`iter()`). Its slices (Burn's multi-device strategy splits the loader,
/// one slice per device) count their own epochs and move the shared order once per epoch.
pub struct EpochLoader {
    inner: Arc<dyn DataLoader<CifarBatch>>,
    dataset: Arc<EpochDataset>,
    /// The last epoch this loader started.
    epoch: AtomicUsize,
}

impl EpochLoader {
    /// Wraps `inner`, a loader built (without shuffling) over `dataset`.
    pub fn new(inner: Arc<dyn DataLoader<CifarBatch>>, dataset: Arc<EpochDataset>) -> Self {
        let epoch = AtomicUsize::new(dataset.start);
        Self { inner, dataset, epoch }
    }

    fn with_inner(&self, inner: Arc<dyn DataLoader<CifarBatch>>) -> Arc<dyn DataLoader<CifarBatch>> {
        let epoch = AtomicUsize::new(self.epoch.load(Ordering::SeqCst));
        let dataset = self.dataset.clone();
        Arc::new(Self { inner, dataset, epoch })
    }
}

impl DataLoader<CifarBatch> for EpochLoader {
    fn iter<'a>(&'a self) -> Box<dyn DataLoaderIterator<CifarBatch> + 'a> {
        let epoch = self.epoch.fetch_add(1, Ordering::SeqCst) + 1;
        self.dataset.start_epoch(epoch);
        Box::new(EpochIter {
            inner: self.inner.iter(),
            dataset: &self.dataset,
            epoch,
            done: false,
        })
    }

    fn num_items(&self) -> usize {
        self.inner.num_items()
    }

    fn to_device(&self, device: &Device) -> Arc<dyn DataLoader<CifarBatch>> {
        self.with_inner(self.inner.to_device(device))
    }

    fn slice(&self, start: usize, end: usize) -> Arc<dyn DataLoader<CifarBatch>> {
        self.with_inner(self.inner.slice(start, end))
    }
}

/// Burn's iterator of one epoch (or one device's slice of it), telling the dataset when it
/// handed out its last batch.
struct EpochIter<'a> {
    inner: Box<dyn DataLoaderIterator<CifarBatch> + 'a>,
    dataset: &'a EpochDataset,
    epoch: usize,
    done: bool,
}

impl Iterator for EpochIter<'_> {
    type Item = Result<CifarBatch, DatasetError>;

    fn next(&mut self) -> Option<Self::Item> {
        let item = self.inner.next();
        if !self.done && (item.is_none() || self.inner.progress().is_completed()) {
            self.done = true;
            self.dataset.finish_serving(self.epoch);
        }
        item
    }
}

impl DataLoaderIterator<CifarBatch> for EpochIter<'_> {
    fn progress(&self) -> Progress {
        self.inner.progress()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn items(n: usize) -> Vec<CifarItem> {
        (0..n)
            .map(|i| CifarItem {
                pixels: vec![i as u8; 3072],
                label: (i % 10) as u8,
            })
            .collect()
    }

    fn epoch_labels(d: &EpochDataset) -> Vec<(u8, Option<Crop>)> {
        (0..d.len())
            .map(|i| d.get(i).unwrap())
            .map(|t| (t.item.pixels[0], t.crop))
            .collect()
    }

    #[test]
    fn epoch_three_is_the_same_whether_or_not_the_process_ran_epochs_one_and_two() {
        let whole = EpochDataset::new(items(50), 7, true, 0);
        for _ in 0..3 {
            whole.next_epoch();
        }
        let resumed = EpochDataset::new(items(50), 7, true, 2);
        assert_eq!(resumed.next_epoch(), 3);
        assert_eq!(epoch_labels(&whole), epoch_labels(&resumed));
        // Another epoch is another order and other crops; every image appears once.
        let other = EpochDataset::new(items(50), 7, true, 3);
        other.next_epoch();
        assert_ne!(epoch_labels(&whole), epoch_labels(&other));
        let mut seen: Vec<u8> = epoch_labels(&other).iter().map(|(p, _)| *p).collect();
        seen.sort_unstable();
        assert_eq!(seen, (0..50).collect::<Vec<u8>>());
        // Without augmentation there is no crop; the order is still per epoch.
        let plain = EpochDataset::new(items(5), 7, false, 0);
        plain.next_epoch();
        assert!(epoch_labels(&plain).iter().all(|(_, c)| c.is_none()));
    }

    #[test]
    fn device_slices_move_the_epoch_once_and_serve_it_when_all_are_done() {
        use burn::data::dataloader::DataLoaderBuilder;
        let dataset = Arc::new(EpochDataset::new(items(12), 7, false, 0));
        let inner = DataLoaderBuilder::new(CifarBatcher)
            .batch_size(4)
            .build(dataset.clone());
        let loader = EpochLoader::new(inner, dataset.clone());
        // Burn's split: two slices of 6 images (2 batches each), iterated in lockstep.
        let slices = [loader.slice(0, 6), loader.slice(6, 12)];
        let served = dataset.served_flag();
        // The first normalized value of each image identifies it (image `i` has every pixel `i`).
        let firsts: Vec<f32> = items(12)
            .iter()
            .map(|item| {
                let mut out = vec![0.0f32; 3072];
                CifarBatcher::write_image(item, None, &mut out);
                out[0]
            })
            .collect();
        let ids = |v: f32| firsts.iter().position(|f| (f - v).abs() < 1e-6).expect("a known image");
        for epoch in 1..=2 {
            let mut iters: Vec<_> = slices.iter().map(|s| s.iter()).collect();
            assert_eq!(
                dataset.epoch.load(Ordering::SeqCst),
                epoch,
                "one move per epoch, not per slice"
            );
            let mut seen: [Vec<usize>; 2] = [Vec::new(), Vec::new()];
            for _ in 0..2 {
                assert!(!served.load(Ordering::SeqCst));
                for (slice, it) in iters.iter_mut().enumerate() {
                    let batch = it.next().unwrap().unwrap();
                    let pixels = batch.images.into_data().convert::<f32>().try_to_vec::<f32>().unwrap();
                    seen[slice].extend(pixels.chunks(3072).map(|p| ids(p[0])));
                }
            }
            assert!(
                served.load(Ordering::SeqCst),
                "served once both slices handed out their last batch"
            );
            // Slice 0 reads the first half of this epoch's order, slice 1 the second.
            let order = epoch_order(12, 7, epoch);
            assert_eq!(seen[0], order[..6], "epoch {epoch}");
            assert_eq!(seen[1], order[6..], "epoch {epoch}");
        }
    }

    #[test]
    fn cutout_squares_lie_inside_cover_every_place_and_leave_the_crops_as_they_were() {
        let (plain, cut): (Vec<Crop>, Vec<Crop>) = (0..5000)
            .map(|i| (crop_for(3, 2, i, None), crop_for(3, 2, i, Some(8))))
            .unzip();
        for (p, c) in plain.iter().zip(&cut) {
            assert_eq!((p.dy, p.dx, p.flip, p.cutout), (c.dy, c.dx, c.flip, None));
        }
        let squares: Vec<Cutout> = cut.iter().map(|c| c.cutout.unwrap()).collect();
        for place in 0..=24 {
            let n = squares.iter().filter(|s| s.y == place).count();
            assert!((120..280).contains(&n), "y = {place}: {n}");
        }
        assert!(squares
            .iter()
            .all(|s| s.size == 8 && (0..=24).contains(&s.x) && (0..=24).contains(&s.y)));
        // Only one place for a 32 x 32 square; the same draw in another process.
        assert_eq!(
            crop_for(3, 2, 9, Some(32)).cutout,
            Some(Cutout { y: 0, x: 0, size: 32 })
        );
        let d = EpochDataset::new(items(12), 7, true, 0).with_cutout(Some(5));
        d.next_epoch();
        let again = EpochDataset::new(items(12), 7, true, 0).with_cutout(Some(5));
        again.next_epoch();
        assert_eq!(d.get(4).unwrap().crop, again.get(4).unwrap().crop);
        assert_eq!(d.get(4).unwrap().crop.unwrap().cutout.unwrap().size, 5);
    }

    #[test]
    fn crops_cover_the_whole_range_evenly() {
        let crops: Vec<Crop> = (0..9000).map(|i| crop_for(1, 1, i, None)).collect();
        for d in -4..=4 {
            let n = crops.iter().filter(|c| c.dx == d).count();
            assert!((800..1200).contains(&n), "dx = {d}: {n}");
        }
        let flips = crops.iter().filter(|c| c.flip).count();
        assert!((4200..4800).contains(&flips), "{flips}");
    }
}
