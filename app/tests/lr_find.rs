//! The LR range test (issue: `find-lr`): on real training batches of a learnable task it
//! suggests LRs inside the tested range, leaves the caller's model and optimizer untouched,
//! writes `lr_find.csv` / `lr_find.png`, and still suggests from the finite part of a curve
//! whose loss explodes.

mod app_common;

use app_common::{config, data, serial, synthetic, weights};
use burn::data::dataloader::DataLoaderBuilder;
use burn::optim::{ModuleOptimizer, SgdConfig};
use burn_lr::monitor::{lr_find, LrFindConfig, LrFindStop};
use burn_lr_cifar::data::{dataset, CifarBatcher};
use burn_lr_cifar::device::DeviceName;
use burn_lr_cifar::model::Arch;
use burn_lr_cifar::model::ResNet;

fn setup() -> (
    ResNet,
    ModuleOptimizer,
    std::sync::Arc<dyn burn::data::dataloader::DataLoader<burn_lr_cifar::data::CifarBatch>>,
) {
    // Burn's flex CPU backend (the ndarray one is ~30x slower on convolutions; nothing here
    // needs bit-identical runs).
    let device = burn_lr_cifar::device::device(DeviceName::Cpu).unwrap();
    device.seed(7);
    let model = ResNet::new(Arch::Tiny, 10, &device.clone().autodiff());
    let optimizer: ModuleOptimizer = SgdConfig::new().init();
    let loader = DataLoaderBuilder::new(CifarBatcher)
        .batch_size(10)
        .set_device(device)
        .build(dataset(synthetic(50, 3)));
    (model, optimizer, loader)
}

#[test]
fn suggestions_lie_in_the_range_and_the_model_is_untouched() {
    let _serial = serial();
    let (model, optimizer, loader) = setup();
    let before = weights(&model);
    let settings = LrFindConfig {
        start_lr: 1e-5,
        end_lr: 10.0,
        num_iter: 40,
        ..LrFindConfig::default()
    };
    let result = lr_find(&model, &optimizer, loader.as_ref(), &settings).unwrap();
    assert_eq!(weights(&model), before, "the caller's model changed");
    assert!(result.points.len() >= 10, "{:?}", result.stop);
    assert_eq!(result.points[0].lr, 1e-5);
    let lrs: Vec<f64> = result.points.iter().map(|p| p.lr).collect();
    assert!(lrs.windows(2).all(|w| w[1] > w[0]));
    let last = *lrs.last().unwrap();
    let s = result.suggestions;
    for (name, lr) in [("steepest", s.steepest), ("valley", s.valley)] {
        let lr = lr.unwrap_or_else(|| panic!("no {name} suggestion"));
        assert!((1e-5..=last).contains(&lr), "{name} {lr} outside [1e-5, {last}]");
    }
    let min = s.minimum.unwrap();
    assert!((1e-6..=last / 10.0).contains(&min), "minimum/10 {min}");
    assert_eq!(result.recommended_max_lr(), s.steepest);
    // The smoothed loss is the bias-corrected EMA of the losses.
    let (mut avg, beta) = (0.0, settings.beta);
    for (i, p) in result.points.iter().enumerate() {
        avg = beta * avg + (1.0 - beta) * p.loss;
        assert!((p.smoothed_loss - avg / (1.0 - beta.powi(i as i32 + 1))).abs() < 1e-12);
    }
}

#[test]
fn an_exploding_loss_stops_the_test_and_still_gives_a_suggestion() {
    let _serial = serial();
    let (model, optimizer, loader) = setup();
    let settings = LrFindConfig {
        start_lr: 1e-4,
        end_lr: 1e6,
        num_iter: 60,
        ..LrFindConfig::default()
    };
    let result = lr_find(&model, &optimizer, loader.as_ref(), &settings).unwrap();
    let stopped_at = match result.stop {
        LrFindStop::Diverged(lr) | LrFindStop::NonFinite(lr) => lr,
        LrFindStop::Completed => panic!("an LR of 1e6 did not blow the loss up"),
    };
    assert!(result.points.len() < 60);
    let valley = result.suggestions.valley.expect("a suggestion from the finite part");
    assert!(
        valley < stopped_at && valley >= 1e-4,
        "valley {valley}, stopped at {stopped_at}"
    );
}

#[test]
fn find_lr_writes_its_csv_and_chart() {
    let _serial = serial();
    let tmp = tempfile::tempdir().unwrap();
    let cfg = config(tmp.path(), "type = \"one_cycle\"\nmax_lr = 0.1", 1, 10, 1);
    let settings = LrFindConfig {
        num_iter: 20,
        start_lr: 1e-4,
        ..LrFindConfig::default()
    };
    let found = burn_lr_cifar::find_lr::find_lr(&cfg, data(60), &settings, tmp.path()).unwrap();
    let csv = std::fs::read_to_string(tmp.path().join("lr_find.csv")).unwrap();
    assert!(csv.starts_with("iteration,lr,loss,smoothed_loss\n"));
    assert_eq!(csv.lines().count(), found.result.points.len() + 1);
    let png = image::open(tmp.path().join("lr_find.png")).unwrap();
    assert_eq!((png.width(), png.height()), (1200, 800));
    let lines = burn_lr_cifar::find_lr::report(&found, &settings).join("\n");
    assert!(lines.contains("recommended OneCycle max_lr"), "{lines}");
    // The files are not a run's: a training run still starts in this folder.
    burn_lr_cifar::run::train(&cfg, data(20), &app_common::quiet()).unwrap();
}
