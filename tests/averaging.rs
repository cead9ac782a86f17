//! Weight averaging, update_bn and the schedule-free optimizers beyond the reference traces:
//! Burn's own BatchNorm, the settings' checks, when to average, timm's warm-up, resume.

mod averaging_common;

use averaging_common::*;
use burn::module::Module;
use burn::nn::{BatchNorm, BatchNormConfig, Linear, LinearConfig};
use burn::optim::GradientsParams;
use burn::tensor::{Device, Distribution, Tensor};
use burn_lr::averaging::{
    update_bn, AdamWScheduleFreeConfig, AveragedModel, AveragedModelConfig, AveragingError, AveragingKind, EmaWarmup,
    SgdScheduleFreeConfig,
};
use burn_lr::burn;

/// Two of Burn's BatchNorms with different momenta.
#[derive(Module, Debug)]
struct TwoBn {
    fc: Linear,
    bn1: BatchNorm,
    bn2: BatchNorm,
}

impl TwoBn {
    fn new(device: &Device) -> Self {
        Self {
            fc: LinearConfig::new(3, 4).init(device),
            bn1: BatchNormConfig::new(4).init(device),
            bn2: BatchNormConfig::new(4).with_momentum(0.3).init(device),
        }
    }

    fn forward(&self, x: Tensor<2>) -> Tensor<2> {
        self.bn2.forward(self.bn1.forward(self.fc.forward(x)).exp())
    }
}

fn batches(n: usize, device: &Device) -> Vec<Tensor<2>> {
    (0..n)
        .map(|i| Tensor::random([6 + i, 3], Distribution::Normal(0.5, 2.0), device))
        .collect()
}

/// The mean over batches of each batch's mean and biased variance at `layer`'s input.
fn expected_stats(batches: &[Tensor<2>], input: impl Fn(Tensor<2>) -> Tensor<2>) -> (Vec<f64>, Vec<f64>) {
    let mut mean = vec![0.0; 4];
    let mut var = vec![0.0; 4];
    for b in batches {
        let h = input(b.clone());
        let m = h.clone().mean_dim(0);
        let v = (h - m.clone()).square().mean_dim(0);
        for (acc, x) in mean.iter_mut().zip(values(m)) {
            *acc += x / batches.len() as f64;
        }
        for (acc, x) in var.iter_mut().zip(values(v)) {
            *acc += x / batches.len() as f64;
        }
    }
    (mean, var)
}

#[test]
fn update_bn_gives_burn_batchnorms_the_average_of_their_batch_statistics() {
    let plain = device();
    let model = TwoBn::new(&plain);
    let data = batches(4, &plain);
    // Batches on the model's plain device: update_bn puts the model in train mode.
    let (model, report) = update_bn(model, data.clone(), |m: &TwoBn, x| {
        m.forward(x);
    })
    .unwrap();
    assert_eq!(report.batches, 4);
    assert_eq!(
        report.statistics,
        [
            "bn1.running_mean",
            "bn1.running_var",
            "bn2.running_mean",
            "bn2.running_var"
        ]
    );
    // bn1 sees fc's output; bn2 sees exp(bn1's train-mode output), normalized per batch.
    let (m1, v1) = expected_stats(&data, |x| model.fc.forward(x));
    assert_close("bn1 mean", &values(model.bn1.running_mean.value()), &m1, 1e-12);
    assert_close("bn1 var", &values(model.bn1.running_var.value()), &v1, 1e-12);
    let bn1 = |x: Tensor<2>| {
        let h = model.fc.forward(x);
        let m = h.clone().mean_dim(0);
        let v = (h.clone() - m.clone()).square().mean_dim(0);
        let g = model.bn1.gamma.val().reshape([1, 4]);
        let b = model.bn1.beta.val().reshape([1, 4]);
        ((h - m) / v.add_scalar(1e-5).sqrt() * g + b).exp()
    };
    let (m2, v2) = expected_stats(&data, bn1);
    assert_close("bn2 mean", &values(model.bn2.running_mean.value()), &m2, 1e-10);
    assert_close("bn2 var", &values(model.bn2.running_var.value()), &v2, 1e-10);
    // Ready for evaluation: no autodiff.
    assert!(!model.fc.weight.val().device().is_autodiff());
}

#[test]
fn update_bn_refuses_what_cannot_give_batch_statistics() {
    let plain = device();
    // A forward on a validation copy: Burn's BatchNorm runs in inference mode, records nothing.
    let err = update_bn(TwoBn::new(&plain), batches(2, &plain), |m: &TwoBn, x| {
        m.valid().forward(x);
    })
    .unwrap_err();
    assert_eq!(err, AveragingError::NoBatchStatistics);
    assert!(err.to_string().contains("train mode"), "{err}");
    // Momentum 0 never records.
    let mut model = TwoBn::new(&plain);
    model.bn2 = BatchNormConfig::new(4).with_momentum(0.0).init(&plain);
    let dev = plain.clone().autodiff();
    let err = update_bn(model, batches(2, &dev), |m: &TwoBn, x| {
        m.forward(x);
    })
    .unwrap_err();
    assert_eq!(
        err,
        AveragingError::ZeroMomentum {
            path: "bn2.running_mean".into()
        }
    );
}

#[test]
fn update_bn_without_batches_resets_and_without_batchnorm_does_nothing() {
    let plain = device();
    let dev = plain.clone().autodiff();
    // Train a little so the statistics move, then update_bn over nothing: PyTorch's reset values.
    let model = TwoBn::new(&plain);
    let (trained, _) = update_bn(model, batches(2, &dev), |m: &TwoBn, x| {
        m.forward(x);
    })
    .unwrap();
    let (reset, report) = update_bn(trained, Vec::<Tensor<2>>::new(), |m: &TwoBn, x| {
        m.forward(x);
    })
    .unwrap();
    assert_eq!(report.batches, 0);
    assert_eq!(values(reset.bn1.running_mean.value()), vec![0.0; 4]);
    assert_eq!(values(reset.bn1.running_var.value()), vec![1.0; 4]);
    let linear: Linear = LinearConfig::new(3, 2).init(&plain);
    let (_, report) = update_bn(linear, batches(2, &dev), |m: &Linear, x| {
        m.forward(x);
    })
    .unwrap();
    assert!(report.statistics.is_empty());
    assert_eq!(
        report.to_string(),
        "update_bn: 0 running statistics recomputed over 0 batches"
    );
}

#[test]
fn settings_out_of_range_are_one_named_error() {
    let plain = device();
    let model: Linear = LinearConfig::new(3, 2).init(&plain);
    let ema = AveragedModelConfig::new(AveragingKind::Ema);
    let cases = [
        (
            ema.clone().with_decay(1.5),
            "decay = 1.5 is invalid: a number in [0, 1]",
        ),
        (
            ema.clone().with_every(0),
            "every = 0 is invalid: a number of optimizer updates >= 1",
        ),
        (
            ema.clone().with_start_update(0),
            "start_update = 0 is invalid: an optimizer update >= 1",
        ),
        (
            ema.clone().with_ema_warmup(EmaWarmup {
                warmup_gamma: 0.0,
                ..EmaWarmup::default()
            }),
            "warmup_gamma = 0 is invalid: a finite number > 0",
        ),
    ];
    for (config, message) in cases {
        assert_eq!(AveragedModel::new(config, &model).unwrap_err().to_string(), message);
    }
    let sf = |e: AveragingError| e.to_string();
    assert_eq!(
        sf(SgdScheduleFreeConfig::new()
            .with_momentum(1.0)
            .init(&model)
            .err()
            .unwrap()),
        "momentum = 1 is invalid: a number in (0, 1)"
    );
    assert_eq!(
        sf(AdamWScheduleFreeConfig::new()
            .with_betas(0.9, 1.0)
            .init(&model)
            .err()
            .unwrap()),
        "betas[1] = 1 is invalid: a number in [0, 1)"
    );
    assert_eq!(
        sf(AdamWScheduleFreeConfig::new()
            .with_weight_decay(-0.1)
            .init(&model)
            .err()
            .unwrap()),
        "weight_decay = -0.1 is invalid: a finite number >= 0"
    );
    let other: Linear = LinearConfig::new(3, 5).init(&plain);
    let mut average = AveragedModel::new(AveragedModelConfig::new(AveragingKind::Swa), &model).unwrap();
    let err = average.update_parameters(&other).unwrap_err();
    assert!(err.to_string().contains("`weight` of shape [3, 5]"), "{err}");
}

#[test]
fn averaging_follows_start_and_every_and_swa_is_the_mean() {
    let plain = device();
    let config = AveragedModelConfig::new(AveragingKind::Swa)
        .with_start_update(3)
        .with_every(2);
    let models: Vec<Linear> = (0..8).map(|_| LinearConfig::new(2, 2).init(&plain)).collect();
    let mut average = AveragedModel::new(config, &models[0]).unwrap();
    let mut averaged = vec![];
    for (u, m) in models.iter().enumerate() {
        if average.after_update(u as u64 + 1, m).unwrap() {
            averaged.push(u);
        }
    }
    assert_eq!(averaged, [2, 4, 6]); // after updates 3, 5, 7
    let mean: Vec<f64> = (0..4)
        .map(|i| averaged.iter().map(|&u| values(models[u].weight.val())[i]).sum::<f64>() / 3.0)
        .collect();
    assert_close("swa mean", &values(average.model().weight.val()), &mean, 1e-14);
}

#[test]
fn ema_warmup_is_timms_decay() {
    let config = AveragedModelConfig::new(AveragingKind::Ema)
        .with_decay(0.99)
        .with_ema_warmup(EmaWarmup::default());
    assert_eq!(config.weight(1), 1.0);
    // timm ModelEmaV3.get_decay(step = t): 1 - (1 + (t - 1) / gamma)^-power, at most `decay`.
    for t in [2u64, 3, 10, 1000] {
        let decay = (1.0 - (t as f64).powf(-2.0 / 3.0)).min(0.99);
        assert!((config.weight(t) - (1.0 - decay)).abs() < 1e-15, "t = {t}");
    }
    let floor = config.clone().with_ema_warmup(EmaWarmup {
        min_decay: 0.5,
        ..EmaWarmup::default()
    });
    assert!((floor.weight(2) - 0.5).abs() < 1e-15);
    assert_ne!(config.fingerprint(), floor.fingerprint());
    assert_ne!(
        config.fingerprint(),
        config.clone().with_use_buffers(true).fingerprint()
    );
}

#[test]
fn an_average_restored_from_its_parts_continues_exactly() {
    let plain = device();
    let models: Vec<Linear> = (0..6).map(|_| LinearConfig::new(2, 3).init(&plain)).collect();
    let config = AveragedModelConfig::new(AveragingKind::Ema).with_decay(0.7);
    let mut straight = AveragedModel::new(config.clone(), &models[0]).unwrap();
    for m in &models[..3] {
        straight.update_parameters(m).unwrap();
    }
    let mut restored = AveragedModel::from_parts(config, straight.model(), straight.n_averaged()).unwrap();
    for m in &models[3..] {
        straight.update_parameters(m).unwrap();
        restored.update_parameters(m).unwrap();
    }
    assert_eq!(restored.n_averaged(), 6);
    assert_eq!(
        values(restored.model().weight.val()),
        values(straight.model().weight.val())
    );
}

/// Schedule-free AdamW with weight decay, warm-up, `r` and `weight_lr_power`: a run whose
/// optimizer is saved after 4 updates and loaded into a fresh one (of a model with other
/// parameter ids, as in a new process) continues bit for bit, and `x` is known again after the
/// first update.
#[test]
fn schedule_free_resumes_bit_exactly() {
    let dev = device().autodiff();
    let t = trace("sf_adamw");
    let config = AdamWScheduleFreeConfig::new()
        .with_weight_decay(0.05)
        .with_warmup_steps(3)
        .with_r(1.0)
        .with_weight_lr_power(1.5);
    let step = |model: TanhNet, optim: &mut burn::optim::ModuleOptimizer, i: usize| {
        let x = matrix(&t["batches"]["x"][i], &dev);
        let l = loss(model.forward(x), targets(&t["batches"]["y"][i], &dev));
        let grads = GradientsParams::from_grads(l.backward(), &model);
        optim.step(0.01, model, grads)
    };
    let mut model = TanhNet::from_init(&t["init"], &dev);
    let (mut optim, weights) = config.init(&model).unwrap();
    for i in 0..4 {
        model = step(model, &mut optim, i);
    }
    // A new process: a model with other parameter ids, its optimizer, then the checkpoint
    // loaded into both (the model takes the ids of the run that wrote it, as Burn loads it).
    let restarted = TanhNet::from_init(&t["init"], &dev);
    let (fresh, fresh_weights) = config.init(&restarted).unwrap();
    let mut resumed = fresh.load_record(optim.to_record());
    assert_eq!(fresh_weights.known(), (0, 4));
    let mut other = restarted.load_record(model.clone().into_record());
    for i in 4..7 {
        model = step(model, &mut optim, i);
        other = step(other, &mut resumed, i);
    }
    assert_eq!(other.state(), model.state());
    assert_eq!(fresh_weights.eval(other).state(), weights.eval(model).state());
}
