//! Per-parameter-group schedules through Burn's `ModuleLrScheduler` / `ParamGroup`, from TOML:
//! the group's LR is applied to its parameters and logged for every group.

use burn_lr_cifar::config::TrainConfig;
use burn_lr_cifar::data::{Cifar10, CifarItem};
use burn_lr_cifar::model::ResNet;
use burn_lr_cifar::run::{self as training, TrainOptions};
use std::path::Path;

fn items(n: usize) -> Vec<CifarItem> {
    (0..n)
        .map(|i| CifarItem {
            pixels: (0..3072).map(|p| ((p * 31 + i * 17) % 256) as u8).collect(),
            label: (i % 10) as u8,
        })
        .collect()
}

fn logged(dir: &Path, epoch: usize, file: &str) -> Vec<f64> {
    let text = std::fs::read_to_string(dir.join(format!("train/epoch-{epoch}/{file}"))).unwrap();
    text.lines()
        .filter(|l| !l.ends_with("final"))
        .map(|l| l.split(',').next().unwrap().parse().unwrap())
        .collect()
}

fn config(dir: &Path, fc_lr: f64) -> TrainConfig {
    TrainConfig::from_toml(&format!(
        r#"
[model]
arch = "tiny"
[data]
augment = false
[optimizer]
name = "sgd"
lr = 0.1
momentum = 0.0
weight_decay = 0.0
[scheduler]
type = "fixed"
[[param_groups]]
params = "fc"
lr = {fc_lr}
[param_groups.scheduler]
type = "step"
step_size = 1
gamma = 0.5
[training]
epochs = 2
batch_size = 8
device = "cpu"
artifact_dir = "{}"
"#,
        dir.display()
    ))
    .unwrap()
}

#[test]
fn each_group_follows_and_logs_its_own_schedule() {
    let dir = tempfile::tempdir().unwrap();
    let data = Cifar10 {
        train: items(20),
        test: items(10),
    };
    training::train(
        &config(dir.path(), 0.01),
        data,
        &TrainOptions {
            quiet: true,
            ..Default::default()
        },
    )
    .unwrap();
    assert_eq!(logged(dir.path(), 1, "Learning_Rate.log"), vec![0.1; 3]);
    assert_eq!(logged(dir.path(), 2, "Learning_Rate.log"), vec![0.1; 3]);
    assert_eq!(logged(dir.path(), 1, "Learning_Rate_fc.log"), vec![0.01; 3]);
    assert_eq!(logged(dir.path(), 2, "Learning_Rate_fc.log"), vec![0.005; 3]);
}

#[test]
fn the_group_lr_is_what_the_optimizer_applies() {
    // lr 0 for the head: across epoch 2 its weights stay put while the stem moves.
    let dir = tempfile::tempdir().unwrap();
    let cfg = config(dir.path(), 0.0);
    let data = || Cifar10 {
        train: items(20),
        test: items(10),
    };
    let quiet = TrainOptions {
        quiet: true,
        ..Default::default()
    };
    let after_1 = training::train(
        &cfg,
        data(),
        &TrainOptions {
            stop_after_epoch: Some(1),
            ..quiet.clone()
        },
    )
    .unwrap()
    .model
    .unwrap();
    let after_2 = training::train(
        &cfg,
        data(),
        &TrainOptions {
            start: burn_lr_cifar::run::dir::StartMode::Resume,
            ..quiet
        },
    )
    .unwrap()
    .model
    .unwrap();
    let head = |m: &ResNet| m.head().weight.val().into_data().try_to_vec::<f32>().unwrap();
    let stem = |m: &ResNet| m.stem().weight.val().into_data().try_to_vec::<f32>().unwrap();
    assert_eq!(head(&after_1), head(&after_2));
    assert_ne!(stem(&after_1), stem(&after_2));
}
