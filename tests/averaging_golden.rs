//! AveragedModel (SWA, EMA), update_bn and Schedule-Free SGD / AdamW against PyTorch 2.15 and
//! schedulefree 1.4.1 (`tests/golden/averaging/`, float64): the same model from `init`, the same
//! batches, every recorded value within 1e-10.

mod averaging_common;

use averaging_common::*;
use burn::optim::{GradientsParams, ModuleOptimizer};
use burn::tensor::Tensor;
use burn_lr::averaging::{
    update_bn, AdamWScheduleFreeConfig, AveragedModel, AveragedModelConfig, AveragingKind, SgdScheduleFreeConfig,
};
use burn_lr::burn;
use serde_json::Value;

const TOL: f64 = 1e-10;

fn averaging_config(trace: &Value) -> AveragedModelConfig {
    let a = &trace["averaging"];
    let kind = match a["kind"].as_str().unwrap() {
        "swa" => AveragingKind::Swa,
        _ => AveragingKind::Ema,
    };
    let mut config = AveragedModelConfig::new(kind)
        .with_use_buffers(a["use_buffers"].as_bool().unwrap())
        .with_start_update(a["start_update"].as_u64().unwrap());
    if let Some(decay) = a["decay"].as_f64() {
        config = config.with_decay(decay);
    }
    config
}

/// Trains the BatchNorm net with SGD as the trace did, averaging after each update, then
/// update_bn; checks everything recorded.
fn averaged_model_and_update_bn(name: &str) {
    let t = trace(name);
    let plain = device();
    let dev = plain.clone().autodiff();
    let mut model = BnNet::from_init(&t["init"], &dev);
    let momentum = t["optimizer"]["momentum"].as_f64().unwrap();
    let mut optim = ModuleOptimizer::from(Sgd64 { momentum });
    let lr = t["optimizer"]["lr"].as_f64().unwrap();
    let mut average = AveragedModel::new(averaging_config(&t), &model).unwrap();
    for (step, rec) in t["trace"].as_array().unwrap().iter().enumerate() {
        let x = matrix(&t["batches"]["x"][step], &dev);
        let loss = loss(model.forward(x), targets(&t["batches"]["y"][step], &dev));
        assert_close(
            &format!("{name} loss {step}"),
            &values(loss.clone()),
            &[rec["loss"].as_f64().unwrap()],
            TOL,
        );
        let grads = GradientsParams::from_grads(loss.backward(), &model);
        model = optim.step(lr, model, grads);
        let averaged = average.after_update(step as u64 + 1, &model).unwrap();
        assert_eq!(averaged, rec["averaged"].as_bool().unwrap(), "{name} update {step}");
        assert_eq!(average.n_averaged(), rec["n_averaged"].as_u64().unwrap());
        assert_state(&format!("{name} model {step}"), &model.state(), &rec["model"], TOL);
        assert_state(
            &format!("{name} average {step}"),
            &average.model().state(),
            &rec["average"],
            TOL,
        );
    }
    let test_x = matrix(&t["test"]["x"], &plain);
    let before = values(average.model().forward(test_x.clone()));
    assert_close(
        &format!("{name} eval before"),
        &before,
        &floats(&t["test"]["average_eval_before_update_bn"]),
        TOL,
    );
    let batches: Vec<Tensor<2>> = t["update_bn"]["batches"]
        .as_array()
        .unwrap()
        .iter()
        .map(|b| matrix(b, &dev))
        .collect();
    let (recomputed, report) = update_bn(average.model(), batches, |m: &BnNet, x| {
        m.forward(x);
    })
    .unwrap();
    assert_eq!(report.batches, 3);
    assert_eq!(
        report.statistics,
        vec!["bn.running_mean".to_string(), "bn.running_var".to_string()]
    );
    assert_state(
        &format!("{name} after update_bn"),
        &recomputed.state(),
        &t["update_bn"]["average_after"],
        TOL,
    );
    let after = values(recomputed.forward(test_x));
    assert_close(
        &format!("{name} eval after"),
        &after,
        &floats(&t["test"]["average_eval_after_update_bn"]),
        TOL,
    );
}

#[test]
fn swa_without_buffers_then_update_bn_equals_pytorch() {
    averaged_model_and_update_bn("swa_bn");
}

#[test]
fn ema_with_buffers_then_update_bn_equals_pytorch() {
    averaged_model_and_update_bn("ema_buffers");
}

/// Trains the tanh net with a schedule-free optimizer; checks `y` and `x` after every update.
fn schedule_free(name: &str) {
    let t = trace(name);
    let dev = device().autodiff();
    let mut model = TanhNet::from_init(&t["init"], &dev);
    let o = &t["optimizer"];
    let num = |k: &str, default: f64| o[k].as_f64().unwrap_or(default);
    let warmup = o["warmup_steps"].as_u64().unwrap_or(0);
    let (mut optim, weights) = match o["name"].as_str().unwrap() {
        "sgd_schedule_free" => SgdScheduleFreeConfig::new()
            .with_momentum(num("momentum", 0.9))
            .with_weight_decay(num("weight_decay", 0.0))
            .with_warmup_steps(warmup)
            .with_r(num("r", 0.0))
            .with_weight_lr_power(num("weight_lr_power", 2.0))
            .init(&model),
        _ => {
            let betas = o["betas"]
                .as_array()
                .map(|b| (b[0].as_f64().unwrap(), b[1].as_f64().unwrap()))
                .unwrap_or((0.9, 0.999));
            AdamWScheduleFreeConfig::new()
                .with_betas(betas.0, betas.1)
                .with_eps(num("eps", 1e-8))
                .with_weight_decay(num("weight_decay", 0.0))
                .with_warmup_steps(warmup)
                .with_r(num("r", 0.0))
                .with_weight_lr_power(num("weight_lr_power", 2.0))
                .init(&model)
        }
    }
    .unwrap();
    let lr = o["lr"].as_f64().unwrap();
    for (step, rec) in t["trace"].as_array().unwrap().iter().enumerate() {
        let x = matrix(&t["batches"]["x"][step], &dev);
        let loss = loss(model.forward(x), targets(&t["batches"]["y"][step], &dev));
        assert_close(
            &format!("{name} loss {step}"),
            &values(loss.clone()),
            &[rec["loss"].as_f64().unwrap()],
            TOL,
        );
        let grads = GradientsParams::from_grads(loss.backward(), &model);
        model = optim.step(lr, model, grads);
        assert_state(&format!("{name} y {step}"), &model.state(), &rec["train"], TOL);
        assert_state(
            &format!("{name} x {step}"),
            &weights.eval(model.clone()).state(),
            &rec["eval"],
            TOL,
        );
    }
    assert_eq!(weights.known(), (4, 4));
}

#[test]
fn schedule_free_sgd_equals_the_reference() {
    schedule_free("sf_sgd");
}

#[test]
fn schedule_free_adamw_equals_the_reference() {
    schedule_free("sf_adamw");
}

// Settings the shipped traces do not cover, recorded the same way by
// `V/bin/python scripts/averaging_reference.py tests/golden/averaging` (PyTorch 2.15,
// schedulefree 1.4.1, float64).

#[test]
fn ema_without_buffers_from_a_later_update_equals_pytorch() {
    averaged_model_and_update_bn("extra_ema_no_buffers_late");
}

#[test]
fn swa_with_buffers_equals_pytorch() {
    averaged_model_and_update_bn("extra_swa_buffers");
}

#[test]
fn schedule_free_sgd_with_weight_decay_warmup_and_r_equals_the_reference() {
    schedule_free("extra_sf_sgd_decay_r");
}

#[test]
fn schedule_free_adamw_with_weight_decay_r_and_no_lr_weighting_equals_the_reference() {
    schedule_free("extra_sf_adamw_decay_r");
}
