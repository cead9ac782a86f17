//! Every value of the traces recorded from the reference implementations of the schedules
//! users port from elsewhere (Hugging Face transformers, timm, PyTorch's OneCycleLR with phases
//! shorter than one update, LinearLR down to 0) and Burn's own `NoamLrScheduler`. Each
//! schedule is built through the TOML form from the trace's own `scheduler` (the reference's
//! class or function name, e.g. `get_wsd_schedule`, `CosineLRScheduler`) and `params`, so the
//! names are the reference's; some are also checked under burn-lr's canonical `type`.

use burn::lr_scheduler::LrScheduler;
use burn_lr::burn; // the Burn burn-lr is built on (0.22, or 0.23 with its feature burn-0-23)
use burn_lr::schedule::{RunInfo, SchedulerConfig};
use serde_json::Value;

mod common;
use common::{floats, load};

/// The trace's own schedule (reference name and parameters) or, with `kind`, the same
/// parameters under another accepted `type` name; `unit = "iteration"` (one reference `step()`
/// per `step()` here).
fn config(g: &Value, kind: &str) -> SchedulerConfig {
    let mut g = g.clone();
    if !kind.is_empty() {
        g["scheduler"] = Value::String(kind.into());
    }
    common::config_from_trace(&g, Some("iteration"))
}

/// Checks every LR (and momentum) of trace `name` against `kind` built from its params, to
/// 1e-12 of the trace's largest value (a rounding residue at an end point is within that).
fn check(name: &str, kind: &str) {
    let g = load(name);
    let lrs = floats(&g["lrs"]);
    let moms = g.get("momentums").map(floats);
    let base_lr = g["optimizer"]["lr"].as_f64().unwrap();
    let run = RunInfo {
        base_lr,
        updates_per_epoch: 1,
        total_updates: lrs.len() as u64,
    };
    let mut s = config(&g, kind).init(&run).unwrap_or_else(|e| panic!("{name}: {e}"));
    let scale = lrs.iter().fold(0.0f64, |m, v| m.max(v.abs()));
    for (k, want) in lrs.iter().enumerate() {
        let got = s.step();
        assert!(
            (got - want).abs() <= 1e-12 * scale,
            "{name}: lr[{k}] = {got:e}, reference {want:e}"
        );
        assert!(got >= 0.0, "{name}: lr[{k}] = {got:e} < 0");
        if let Some(moms) = &moms {
            let m = s.momentum().unwrap();
            assert!(
                (m - moms[k]).abs() <= 1e-12,
                "{name}: momentum[{k}] = {m}, reference {}",
                moms[k]
            );
        }
    }
}

#[test]
fn hf_warmup_stable_decay_every_warmup_and_decay_type() {
    for warmup in ["linear", "cosine", "1sqrt"] {
        for decay in ["linear", "cosine", "1sqrt"] {
            check(&format!("hf_wsd_{warmup}_{decay}"), "");
        }
    }
    check("hf_wsd_stable_cycles", "wsd");
}

#[test]
fn hf_inverse_sqrt() {
    check("hf_inverse_sqrt", "");
    check("hf_inverse_sqrt_timescale", "inverse_sqrt");
    check("hf_inverse_sqrt_no_warmup", "inverse_sqrt");
}

#[test]
fn hf_cosine_with_hard_restarts() {
    check("hf_cosine_with_hard_restarts", "");
    check("hf_cosine_with_hard_restarts", "cosine_with_restarts");
    check("hf_cosine_with_hard_restarts", "cosine_with_hard_restarts");
}

#[test]
fn hf_polynomial_decay_with_warmup() {
    check("hf_polynomial_decay", "");
    check("hf_polynomial_decay_default", "polynomial_decay");
}

#[test]
fn timm_cosine_cycle_decay_limit_mul_and_k_decay() {
    for name in [
        "timm_cosine_cycle_decay",
        "timm_cosine_cycle_mul",
        "timm_cosine_cycle_mul_frac",
        "timm_cosine_k_decay",
        "timm_cosine_k_decay_half",
        "timm_cosine_default",
    ] {
        check(name, "");
        check(name, "timm_cosine");
    }
}

#[test]
fn one_cycle_phases_shorter_than_one_update_match_pytorch() {
    for name in [
        "onecycle_short_warmup",
        "onecycle_negative_phase",
        "onecycle_one_step",
        "onecycle_three_phase_short",
        "onecycle_linear_short",
    ] {
        check(name, "");
    }
}

#[test]
fn linear_lr_down_to_zero_lands_exactly_where_pytorch_leaves_a_residue() {
    for name in ["linear_lr_to_zero_1", "linear_lr_to_zero_3", "linear_lr_to_zero_7"] {
        check(name, "");
        let g = load(name);
        let total = g["params"]["total_iters"].as_u64().unwrap() as usize;
        let lrs = floats(&g["lrs"]);
        let run = RunInfo {
            base_lr: 1.0,
            updates_per_epoch: 1,
            total_updates: 10,
        };
        let mut s = config(&g, "linear").init(&run).unwrap();
        let ours: Vec<f64> = (0..lrs.len()).map(|_| s.step()).collect();
        assert!(
            lrs[total..].iter().all(|v| *v != 0.0),
            "{name}: PyTorch leaves a residue"
        );
        assert!(
            ours[total..].iter().all(|v| *v == 0.0 && v.is_sign_positive()),
            "{name}: {ours:?}"
        );
    }
}

#[test]
fn noam_equals_burn_noam_lr_scheduler() {
    use burn::lr_scheduler::noam::NoamLrSchedulerConfig as BurnNoam;
    for (factor, warmup, model) in [(1.0, 4000usize, 512usize), (2.5, 10, 64), (0.1, 1, 1)] {
        let mut burn = BurnNoam::new(factor)
            .with_warmup_steps(warmup)
            .with_model_size(model)
            .init()
            .unwrap();
        let toml = format!("type = \"noam\"\nfactor = {factor:?}\nwarmup_steps = {warmup}\nmodel_size = {model}");
        let cfg: SchedulerConfig = toml::from_str(&toml).unwrap();
        let mut ours = cfg
            .init(&RunInfo {
                base_lr: 0.0,
                updates_per_epoch: 1,
                total_updates: 1,
            })
            .unwrap();
        for k in 0..10_000 {
            assert_eq!(
                ours.step(),
                burn.step().base(),
                "noam({factor}, {warmup}, {model}) step {k}"
            );
        }
    }
}
