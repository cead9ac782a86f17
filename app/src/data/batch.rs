//! Batching: normalization, and the pad-4 crop, horizontal flip and cutout drawn for each
//! training image (see [`super::epoch`]).

use super::items::*;
use burn::data::dataloader::batcher::Batcher;
use burn::data::dataset::InMemDataset;
use burn::tensor::{Device, Int, Tensor, TensorData};

/// A batch of images and labels.
#[derive(Debug, Clone)]
pub struct CifarBatch {
    /// Normalized images, `[batch, 3, 32, 32]`.
    pub images: Tensor<4>,
    /// Labels, `[batch]`, values 0–9.
    pub targets: Tensor<1, Int>,
}

/// Turns images into a normalized [`CifarBatch`]: [`CifarItem`]s as they are (evaluation), or
/// [`TrainItem`](super::TrainItem)s with the crop and flip drawn for them (training: each image
/// padded by 4 zero pixels, cropped back to 32×32 at the drawn offset, mirrored if drawn).
#[derive(Debug, Clone, Copy, Default)]
pub struct CifarBatcher;

impl CifarBatcher {
    /// Writes one normalized (and possibly cropped, flipped and cut out) image into `out`
    /// (`[3, 32, 32]` f32).
    pub(super) fn write_image(item: &CifarItem, crop: Option<Crop>, out: &mut [f32]) {
        let Crop { dy, dx, flip, cutout } = crop.unwrap_or(Crop {
            dy: 0,
            dx: 0,
            flip: false,
            cutout: None,
        });
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
        if let Some(Cutout { y, x, size }) = cutout {
            for c in 0..3 {
                for row in y..y + size {
                    let start = c * 1024 + (row * 32 + x) as usize;
                    out[start..start + size as usize].fill(0.0);
                }
            }
        }
    }

    /// The batch of `items`, image `i` cropped as `crops[i]` (none: as it is).
    pub(super) fn batch_with(&self, items: &[CifarItem], crops: &[Option<Crop>], device: &Device) -> CifarBatch {
        let n = items.len();
        let mut data = vec![0f32; n * PIXELS];
        for ((item, crop), out) in items.iter().zip(crops).zip(data.chunks_exact_mut(PIXELS)) {
            Self::write_image(item, *crop, out);
        }
        let labels: Vec<i64> = items.iter().map(|i| i64::from(i.label)).collect();
        CifarBatch {
            images: Tensor::from_data(TensorData::new(data, [n, 3, 32, 32]), device),
            targets: Tensor::from_data(TensorData::new(labels, [n]), device),
        }
    }
}

impl Batcher<CifarItem, CifarBatch> for CifarBatcher {
    fn batch(&self, items: Vec<CifarItem>, device: &Device) -> CifarBatch {
        let crops = vec![None; items.len()];
        self.batch_with(&items, &crops, device)
    }
}

/// An in-memory Burn dataset of CIFAR items.
pub fn dataset(items: Vec<CifarItem>) -> InMemDataset<CifarItem> {
    InMemDataset::new(items)
}
