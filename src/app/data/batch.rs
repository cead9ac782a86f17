//! Batching and augmentation: normalization, seeded pad-4 random crop and horizontal flip.

use super::*;

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
    pub(super) fn write_image(&self, item: &CifarItem, out: &mut [f32]) {
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
