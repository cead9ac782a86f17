//! Momentum cycling (`cycle_momentum`) is applied to the optimizer: the optimizer uses the
//! scheduled momentum at each update, and with a constant momentum it is Burn's own SGD/AdamW.

use burn::module::Param;
use burn::nn::{Linear, LinearConfig};
use burn::optim::momentum::MomentumConfig;
use burn::optim::{AdamWConfig, GradientsParams, ModuleOptimizer, SgdConfig};
use burn::tensor::{Device, Tensor, TensorData};
use burn_lr::optim::{CycledAdamWConfig, CycledSgdConfig};
use burn_lr::schedule::MomentumCell;
use burn_lr::schedule::{OneCycleLrSchedulerConfig, RunInfo, SchedulerConfig};
use burn_lr_cifar::config::TrainConfig;
use burn_lr_cifar::data::{Cifar10, CifarItem};
use burn_lr_cifar::run::{self as training, TrainOptions};

fn device() -> Device {
    Device::flex().autodiff()
}

/// A fixed value in (-0.5, 0.5) for element `i` of a tensor (no random generator: Burn's CPU
/// generator is one per process, and another test's run in this binary draws from it).
fn fixed(i: usize, salt: usize) -> f32 {
    ((i * 37 + salt * 11) % 29) as f32 / 29.0 - 0.5
}

/// Runs `steps` updates of `optim` on a fixed linear layer `[4] -> [3]` and returns its weights.
fn run(mut optim: ModuleOptimizer, steps: usize) -> Vec<f32> {
    let device = device();
    let mut layer: Linear = LinearConfig::new(4, 3).init(&device);
    let weight: Vec<f32> = (0..12).map(|i| fixed(i, 1)).collect();
    let bias: Vec<f32> = (0..3).map(|i| fixed(i, 2)).collect();
    layer.weight = Param::from_tensor(Tensor::<2>::from_data(TensorData::new(weight, [4, 3]), &device));
    layer.bias = Some(Param::from_tensor(Tensor::<1>::from_data(
        TensorData::new(bias, [3]),
        &device,
    )));
    let inputs: Vec<f32> = (0..32).map(|i| fixed(i, 3)).collect();
    let x = Tensor::<2>::from_data(TensorData::new(inputs, [8, 4]), &device);
    for _ in 0..steps {
        let loss = layer.forward(x.clone()).powi_scalar(2).mean();
        let grads = GradientsParams::from_grads(loss.backward(), &layer);
        layer = optim.step(0.05, layer, grads);
    }
    layer.weight.val().into_data().try_to_vec::<f32>().unwrap()
}

fn close(a: &[f32], b: &[f32]) {
    for (x, y) in a.iter().zip(b) {
        assert!((x - y).abs() <= 1e-6 * (1.0 + y.abs()), "{a:?}\n{b:?}");
    }
}

#[test]
fn constant_momentum_equals_burns_optimizers() {
    for nesterov in [false, true] {
        let burn = SgdConfig::new()
            .with_momentum(Some(
                MomentumConfig::new()
                    .with_momentum(0.9)
                    .with_dampening(0.0)
                    .with_nesterov(nesterov),
            ))
            .with_weight_decay(Some(burn::optim::decay::WeightDecayConfig::new(1e-2)))
            .init();
        let sgd = CycledSgdConfig::new()
            .with_momentum(0.9)
            .with_nesterov(nesterov)
            .with_weight_decay(1e-2);
        // With a cell, the cycled optimizer, at the configured momentum until a schedule writes.
        let ours = sgd.init(Some(&MomentumCell::new(f64::NAN))).unwrap();
        close(&run(ours, 5), &run(burn, 5));
    }
    let burn = AdamWConfig::new()
        .with_beta_1(0.85)
        .with_epsilon(1e-8)
        .with_weight_decay(0.01)
        .init();
    let adamw = CycledAdamWConfig::new()
        .with_betas(0.85, 0.999)
        .with_eps(1e-8)
        .with_weight_decay(0.01);
    let ours = adamw.init(Some(&MomentumCell::new(f64::NAN))).unwrap();
    close(&run(ours, 5), &run(burn, 5));
}

#[test]
fn the_momentum_changes_the_update() {
    let cycled = |m: f64| {
        CycledSgdConfig::new()
            .with_momentum(m)
            .init(Some(&MomentumCell::new(f64::NAN)))
            .unwrap()
    };
    let (a, b) = (run(cycled(0.9), 4), run(cycled(0.5), 4));
    assert!(a.iter().zip(&b).any(|(x, y)| (x - y).abs() > 1e-4));
}

fn items(n: usize) -> Vec<CifarItem> {
    (0..n)
        .map(|i| CifarItem {
            pixels: (0..3072).map(|p| ((p * 7 + i * 13) % 256) as u8).collect(),
            label: (i % 10) as u8,
        })
        .collect()
}

#[test]
fn learner_run_uses_the_scheduled_momentum_at_every_update() {
    for optimizer in ["sgd", "adamw"] {
        let dir = tempfile::tempdir().unwrap();
        let text = format!(
            "[model]\narch = \"tiny\"\n[data]\naugment = false\n[optimizer]\nname = \"{optimizer}\"\nlr = 0.1\n\
             [scheduler]\ntype = \"one_cycle\"\nmax_lr = 0.3\npct_start = 0.4\n\
             [training]\nepochs = 2\nbatch_size = 8\ndevice = \"cpu\"\nartifact_dir = \"{}\"\n",
            dir.path().display()
        );
        let cfg = TrainConfig::from_toml(&text).unwrap();
        let cell = MomentumCell::new(f64::NAN).with_history();
        let opts = TrainOptions {
            quiet: true,
            momentum_cell: Some(cell.clone()),
            ..Default::default()
        };
        let data = Cifar10 {
            train: items(20),
            test: items(10),
        };
        training::train(&cfg, data, &opts).unwrap();

        // 20 images, batch 8: 3 updates per epoch, 6 in the run.
        let schedule = SchedulerConfig::OneCycle(OneCycleLrSchedulerConfig::new(0.3).with_pct_start(0.4));
        let expected = schedule
            .init(&RunInfo {
                base_lr: 0.1,
                updates_per_epoch: 3,
                total_updates: 6,
            })
            .unwrap();
        let used = cell.history();
        assert_eq!(used.len(), 6, "{optimizer}: one momentum per update: {used:?}");
        for (k, (update, m)) in used.iter().enumerate() {
            assert_eq!(*update, k as u64);
            assert_eq!(
                Some(*m),
                expected.momentum_at_update(k as u64),
                "{optimizer}: update {k}"
            );
        }
        assert_eq!(used[0].1, 0.95);
        assert!(used.iter().any(|(_, m)| *m < 0.9));
    }
}
