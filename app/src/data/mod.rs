//! CIFAR-10 (Krizhevsky 2009): loading, download, augmentation and batching.
//!
//! Two sources, both loaded fully into memory (50,000 + 10,000 images, ~180 MB):
//! - the official binary archive `cifar-10-binary.tar.gz`, downloaded from its canonical
//!   address, MD5-checked and extracted atomically into a cache directory
//!   ([`download_cifar10`]), or already extracted (`cifar-10-batches-bin/`);
//! - an image folder `train/<class>/*.{png,jpg}` + `test/<class>/*`, class folders named with
//!   the standard class names ([`CLASSES`]).

mod batch;
mod cifar10;
mod download;
pub mod epoch;
mod items;
mod load;

pub use batch::{dataset, CifarBatch, CifarBatcher};
pub use cifar10::Cifar10;
pub use download::{binary_complete, default_cache_dir, download_cifar10, extract_archive, md5_file, BATCH_FILES};
pub use epoch::{EpochDataset, EpochLoader, TrainItem};
pub use items::{CifarItem, Crop, Cutout, DataError, CIFAR10_MD5, CIFAR10_URL, CLASSES, MEAN, STD};
pub use load::{load_image_folder, read_batch};

#[cfg(test)]
mod tests {
    use super::cifar10::*;
    use super::items::*;
    use super::*;
    use std::fs;

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
    fn a_limit_above_the_images_present_names_both_numbers() {
        let items: Vec<_> = (0..20).map(|i| item((i % 10) as u8, 0)).collect();
        let mut data = Cifar10 {
            train: items.clone(),
            test: items,
        };
        let err = data.limit_train(60_000, 1).unwrap_err().to_string();
        assert!(err.contains("train_limit (--train-limit) = 60000"), "{err}");
        assert!(err.contains("more than the 20 training images"), "{err}");
        let err = data.limit_test(21, 1).unwrap_err().to_string();
        assert!(
            err.contains("test_limit (--test-limit) = 21") && err.contains("20 test images"),
            "{err}"
        );
        data.limit_test(20, 1).unwrap();
        assert_eq!(data.test.len(), 20);
    }

    #[test]
    fn crop_and_flip_move_the_pixels() {
        let mut it = item(1, 0);
        for (i, p) in it.pixels.iter_mut().enumerate() {
            *p = (i % 256) as u8;
        }
        let norm = |c: usize, v: u8| (f32::from(v) / 255.0 - MEAN[c]) / STD[c];
        let mut out = vec![0.0; PIXELS];
        CifarBatcher::write_image(&it, None, &mut out);
        assert!((out[5] - norm(0, it.pixels[5])).abs() < 1e-6);
        // Shifted by (dy, dx) = (1, 2): output (y, x) reads input (y + 1, x + 2); the last two
        // columns come from the zero padding.
        CifarBatcher::write_image(
            &it,
            Some(Crop {
                dy: 1,
                dx: 2,
                flip: false,
                cutout: None,
            }),
            &mut out,
        );
        assert!((out[0] - norm(0, it.pixels[32 + 2])).abs() < 1e-6);
        assert!((out[31] - norm(0, 0)).abs() < 1e-6);
        // Flipped: output x reads input 31 - x.
        CifarBatcher::write_image(
            &it,
            Some(Crop {
                dy: 0,
                dx: 0,
                flip: true,
                cutout: None,
            }),
            &mut out,
        );
        assert!((out[1024] - norm(1, it.pixels[1024 + 31])).abs() < 1e-6);
        // Cut out after the crop and flip: a 4 x 4 square at (y, x) = (2, 28) of the flipped
        // image is 0 in every channel; everything else is the flipped image.
        let mut cut = vec![0.0; PIXELS];
        let square = Cutout { y: 2, x: 28, size: 4 };
        let crop = |cutout| Crop {
            dy: 0,
            dx: 0,
            flip: true,
            cutout,
        };
        CifarBatcher::write_image(&it, Some(crop(Some(square))), &mut cut);
        CifarBatcher::write_image(&it, Some(crop(None)), &mut out);
        for (i, (&c, &o)) in cut.iter().zip(&out).enumerate() {
            let (y, x) = ((i % 1024) / 32, i % 32);
            let inside = (2..6).contains(&y) && (28..32).contains(&x);
            assert_eq!(c, if inside { 0.0 } else { o }, "channel {}, ({y}, {x})", i / 1024);
        }
    }
}
