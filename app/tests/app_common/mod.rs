//! Shared by the tests that train: synthetic CIFAR-shaped data, a tiny config on the CPU (Burn's
//! flex backend), quiet options.

#![allow(dead_code)]

use burn_lr_cifar::config::TrainConfig;
use burn_lr_cifar::data::{Cifar10, CifarItem};
use burn_lr_cifar::run::TrainOptions;
use std::path::Path;

/// `n` 32x32 images whose brightness in one channel depends on the class (something to learn).
pub fn synthetic(n: usize, seed: u64) -> Vec<CifarItem> {
    let mut x = seed.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
    (0..n)
        .map(|i| {
            let label = (i % 10) as u8;
            let pixels = (0..3072)
                .map(|p| {
                    x = x.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
                    let base = if p / 1024 == (label as usize % 3) {
                        25 * label
                    } else {
                        0
                    };
                    base.wrapping_add((x >> 59) as u8)
                })
                .collect();
            CifarItem { pixels, label }
        })
        .collect()
}

/// `train` training images and 10 validation images.
pub fn data(train: usize) -> Cifar10 {
    Cifar10 {
        train: synthetic(train, 1),
        test: synthetic(10, 2),
    }
}

/// A tiny-model SGD run on the CPU (flex) into `dir`; `extra` is appended to `[training]`.
pub fn config_with(dir: &Path, scheduler: &str, epochs: usize, batch: usize, accum: usize, extra: &str) -> TrainConfig {
    let text = format!(
        r#"
[model]
arch = "tiny"
[data]
augment = false
num_workers = 1
[optimizer]
name = "sgd"
lr = 0.1
momentum = 0.9
weight_decay = 0.0
[scheduler]
{scheduler}
[training]
epochs = {epochs}
batch_size = {batch}
grad_accumulation = {accum}
device = "cpu"
artifact_dir = "{}"
{extra}
"#,
        dir.display()
    );
    TrainConfig::from_toml(&text).unwrap()
}

/// [`config_with`] without extra settings.
pub fn config(dir: &Path, scheduler: &str, epochs: usize, batch: usize, accum: usize) -> TrainConfig {
    config_with(dir, scheduler, epochs, batch, accum, "")
}

/// No printing.
pub fn quiet() -> TrainOptions {
    TrainOptions {
        quiet: true,
        ..Default::default()
    }
}

/// A tiny CIFAR-10-shaped image folder: `n` 32x32 PNGs per class in `train/` and `test/`.
pub fn image_folder(root: &Path, n: usize) {
    for split in ["train", "test"] {
        for (label, class) in burn_lr_cifar::data::CLASSES.iter().enumerate() {
            let dir = root.join(split).join(class);
            std::fs::create_dir_all(&dir).unwrap();
            for i in 0..n {
                let img = image::RgbImage::from_fn(32, 32, |x, y| {
                    image::Rgb([(label * 25) as u8, (x * 8) as u8 ^ (i as u8), (y * 8) as u8])
                });
                img.save(dir.join(format!("{i}.png"))).unwrap();
            }
        }
    }
}

/// Burn's CPU backends keep one process-wide seed and initialize parameters lazily, so tests in
/// one binary that compare runs bit for bit train one at a time: hold this while training.
pub fn serial() -> std::sync::MutexGuard<'static, ()> {
    static LOCK: std::sync::Mutex<()> = std::sync::Mutex::new(());
    LOCK.lock().unwrap_or_else(|e| e.into_inner())
}

/// Every float tensor of the model (weights and BatchNorm statistics), in module order.
pub fn weights(model: &burn_lr_cifar::model::ResNet) -> Vec<f32> {
    use burn::module::Module;
    struct Values(Vec<f32>);
    impl burn::module::ModuleVisitor for Values {
        fn visit_float<const D: usize>(&mut self, param: &burn::module::Param<burn::tensor::Tensor<D>>) {
            self.0
                .extend(param.val().into_data().convert::<f32>().try_to_vec::<f32>().unwrap());
        }
    }
    let mut values = Values(Vec::new());
    model.visit(&mut values);
    assert!(!values.0.is_empty());
    values.0
}

/// The weights of the `tiny` model saved at `path` (a run's `model.bpk`, a checkpoint's model
/// file), or `None` when no file is there (a file that is not such a record fails the test). A
/// record carries random parameter ids, so saved models are compared by these values, never by
/// their bytes.
pub fn saved_weights(path: &Path) -> Option<Vec<f32>> {
    use burn::module::Module;
    if std::fs::symlink_metadata(path).is_err() {
        return None;
    }
    let record = burn::store::ModuleRecord::load(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let model = burn_lr_cifar::model::ResNet::new(
        toml::from_str::<burn_lr_cifar::config::ModelConfig>("arch = \"tiny\"")
            .unwrap()
            .arch,
        10,
        &burn::tensor::Device::flex(),
    );
    Some(weights(&model.load_record(record)))
}
