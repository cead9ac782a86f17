//! Every value of the PyTorch 2.15 traces in `tests/golden/` (copied from the project's shared
//! golden set): the k-th `step()` of our scheduler must return PyTorch's `lrs[k]`.

use burn::lr_scheduler::LrScheduler;
use burn_lr::burn; // the Burn burn-lr is built on (0.22, or 0.23 with its feature burn-0-23)
use burn_lr::schedule::*;
use serde_json::Value;

mod common;
use common::{floats, load};

fn base_lr(g: &Value) -> f64 {
    g["optimizer"]["lr"].as_f64().unwrap()
}

fn assert_close(name: &str, what: &str, k: usize, got: f64, want: f64, tol: f64) {
    let err = if want == 0.0 {
        got.abs()
    } else {
        ((got - want) / want).abs()
    };
    assert!(
        err <= tol,
        "{name}: {what}[{k}] = {got:e}, PyTorch {want:e} (rel err {err:e} > {tol:e})"
    );
}

/// Steps `s` once per expected value; checks LRs (and momenta when given).
fn check<S: LrScheduler>(name: &str, s: S, momentum: impl FnMut(&S) -> Option<f64>, tol: f64) {
    check_with_end(name, s, momentum, tol, None);
}

/// As [`check`]; at the defined end point `(k, lr)` our LR must be exactly `lr`, where PyTorch
/// may leave a rounding residue (within 1e-10 of it).
fn check_with_end<S: LrScheduler>(
    name: &str,
    mut s: S,
    mut momentum: impl FnMut(&S) -> Option<f64>,
    tol: f64,
    end: Option<(usize, f64)>,
) {
    let g = load(name);
    let lrs = floats(&g["lrs"]);
    let moms = g.get("momentums").map(floats);
    for (k, want) in lrs.iter().enumerate() {
        let got = s.step();
        match end {
            Some((at, exact)) if at == k => {
                assert_eq!(got, exact, "{name}: lr[{k}] must be the exact end point");
                assert_close(name, "lr (PyTorch's residue)", k, got, *want, 1e-10);
            }
            _ => assert_close(name, "lr", k, got, *want, tol),
        }
        if let Some(moms) = &moms {
            let m = momentum(&s).unwrap_or_else(|| panic!("{name}: no momentum at step {k}"));
            assert_close(name, "momentum", k, m, moms[k], tol);
        }
    }
}

const EXACT: f64 = 1e-12;

#[test]
fn step_lr() {
    let g = load("step_lr");
    let p = &g["params"];
    let s = StepLrSchedulerConfig::new(p["step_size"].as_u64().unwrap())
        .with_gamma(p["gamma"].as_f64().unwrap())
        .init(base_lr(&g))
        .unwrap();
    check("step_lr", s, |_| None, EXACT);
}

#[test]
fn exponential_lr() {
    let g = load("exponential_lr");
    let s = ExponentialLrSchedulerConfig::new(g["params"]["gamma"].as_f64().unwrap())
        .init(base_lr(&g))
        .unwrap();
    check("exponential_lr", s, |_| None, EXACT);
}

#[test]
fn cosine_annealing_lr_including_periodic_continuation() {
    let g = load("cosine_annealing_lr");
    let p = &g["params"];
    let s = CosineAnnealingLrSchedulerConfig::new(p["T_max"].as_u64().unwrap())
        .with_eta_min(p["eta_min"].as_f64().unwrap())
        .init(base_lr(&g))
        .unwrap();
    // PyTorch computes this one recursively, yet our closed form stays within 1e-12 of it.
    check("cosine_annealing_lr", s.clone(), |_| None, EXACT);
    // Against PyTorch's own closed form (recorded in the same file) we are exact.
    let closed = floats(&g["closed_form_lrs"]);
    let mut s = s;
    for (k, want) in closed.iter().enumerate() {
        assert_close("cosine_annealing_lr", "closed_form", k, s.step(), *want, EXACT);
    }
}

#[test]
fn lambda_lr() {
    let g = load("lambda_lr_warmup");
    let s = LambdaLr::new(base_lr(&g), "min(1, (t+1)/10)", |t| {
        f64::min(1.0, (t as f64 + 1.0) / 10.0)
    })
    .unwrap()
    .init();
    check("lambda_lr_warmup", s, |_| None, EXACT);
}

fn one_cycle(name: &str) {
    let g = load(name);
    let p = &g["params"];
    let cfg = OneCycleLrSchedulerConfig::new(p["max_lr"].as_f64().unwrap())
        .with_total_steps(p["total_steps"].as_u64().unwrap())
        .with_pct_start(p["pct_start"].as_f64().unwrap())
        .with_anneal_strategy(match p["anneal_strategy"].as_str().unwrap() {
            "cos" => AnnealStrategy::Cos,
            _ => AnnealStrategy::Linear,
        })
        .with_three_phase(p["three_phase"].as_bool().unwrap())
        .with_div_factors(
            p["div_factor"].as_f64().unwrap(),
            p["final_div_factor"].as_f64().unwrap(),
        )
        .with_momentum(
            p["cycle_momentum"].as_bool().unwrap(),
            p["base_momentum"].as_f64().unwrap(),
            p["max_momentum"].as_f64().unwrap(),
        );
    let s = cfg.init().unwrap();
    let total = p["total_steps"].as_u64().unwrap() as usize;
    let final_lr = cfg.max_lr / cfg.div_factor / cfg.final_div_factor;
    check_with_end(name, s.clone(), |s| s.momentum(), EXACT, Some((total - 1, final_lr)));

    // Past the end: hold the final LR and momentum, never bounce back up.
    let lrs = floats(&g["lrs"]);
    let moms = floats(&g["momentums"]);
    let mut s = s;
    for _ in 0..lrs.len() {
        s.step();
    }
    assert!((final_lr - lrs.last().unwrap()).abs() <= 1e-10 * final_lr);
    for _ in 0..10 {
        assert_eq!(s.step(), final_lr);
        assert_eq!(s.momentum(), Some(*moms.last().unwrap()));
    }
    let pytorch_bounce = g["lr_after_total_steps_calls"].as_f64().unwrap();
    assert_ne!(s.step(), pytorch_bounce);
}

#[test]
fn one_cycle_default() {
    one_cycle("onecycle_default");
}

#[test]
fn one_cycle_linear() {
    one_cycle("onecycle_linear");
}

#[test]
fn one_cycle_three_phase() {
    one_cycle("onecycle_three_phase");
}

fn cyclic(name: &str) {
    let g = load(name);
    let p = &g["params"];
    let mode = match p["mode"].as_str().unwrap() {
        "triangular" => CyclicMode::Triangular,
        "triangular2" => CyclicMode::Triangular2,
        _ => CyclicMode::ExpRange,
    };
    let s = CyclicLrSchedulerConfig::new(p["base_lr"].as_f64().unwrap(), p["max_lr"].as_f64().unwrap())
        .with_step_sizes(p["step_size_up"].as_u64().unwrap(), p["step_size_down"].as_u64())
        .with_mode(mode, p["gamma"].as_f64().unwrap())
        .with_momentum(
            p["cycle_momentum"].as_bool().unwrap(),
            p["base_momentum"].as_f64().unwrap(),
            p["max_momentum"].as_f64().unwrap(),
        )
        .init()
        .unwrap();
    check(name, s, |s| s.momentum(), EXACT);
}

#[test]
fn cyclic_triangular() {
    cyclic("cyclic_triangular");
}

#[test]
fn cyclic_triangular_down100() {
    cyclic("cyclic_triangular_down100");
}

#[test]
fn cyclic_triangular2() {
    cyclic("cyclic_triangular2");
}

#[test]
fn cyclic_triangular2_down100() {
    cyclic("cyclic_triangular2_down100");
}

#[test]
fn cyclic_exp_range() {
    cyclic("cyclic_exp_range");
}

#[test]
fn cyclic_exp_range_down100() {
    cyclic("cyclic_exp_range_down100");
}

fn plateau(name: &str) {
    let g = load(name);
    let p = &g["params"];
    let cfg = ReduceLrOnPlateauSchedulerConfig {
        mode: if p["mode"] == "max" {
            PlateauMode::Max
        } else {
            PlateauMode::Min
        },
        factor: p["factor"].as_f64().unwrap(),
        patience: p["patience"].as_u64().unwrap(),
        threshold: p["threshold"].as_f64().unwrap(),
        threshold_mode: if p["threshold_mode"] == "abs" {
            ThresholdMode::Abs
        } else {
            ThresholdMode::Rel
        },
        cooldown: p["cooldown"].as_u64().unwrap(),
        min_lr: p["min_lr"].as_f64().unwrap(),
        eps: p["eps"].as_f64().unwrap(),
        ..Default::default()
    };
    let lrs = floats(&g["lrs"]);
    let metrics = floats(&g["metrics"]);
    let best: Vec<f64> = g["best"]
        .as_array()
        .unwrap()
        .iter()
        .map(|b| match b.as_str() {
            Some("inf") => f64::INFINITY,
            Some("-inf") => f64::NEG_INFINITY,
            _ => b.as_f64().unwrap(),
        })
        .collect();
    let bad = floats(&g["num_bad_epochs"]);
    let cool = floats(&g["cooldown_counter"]);

    // Fed through the PlateauFeed exactly as the Learner does it: one metric per epoch,
    // `steps_per_epoch` updates per epoch, the new LR from the first update of the next epoch.
    let steps_per_epoch = 3;
    let mut s = cfg.init(base_lr(&g)).unwrap();
    let feed = s.feed();
    for (epoch, want) in lrs.iter().enumerate() {
        if epoch > 0 {
            feed.report(epoch as u64, metrics[epoch - 1]);
        }
        for _ in 0..steps_per_epoch {
            assert_close(name, "lr", epoch, s.step(), *want, EXACT);
        }
        let st = s.state();
        assert_eq!(st.best, best[epoch], "{name}: best after {epoch} metrics");
        assert_eq!(
            st.num_bad_epochs as f64, bad[epoch],
            "{name}: num_bad_epochs after {epoch}"
        );
        assert_eq!(
            st.cooldown_counter as f64, cool[epoch],
            "{name}: cooldown_counter after {epoch}"
        );
    }

    // And through `report`, PyTorch's `step(metric)`.
    let mut s = cfg.init(base_lr(&g)).unwrap();
    for (k, m) in metrics.iter().enumerate() {
        assert_close(name, "lr", k + 1, s.report(*m), lrs[k + 1], EXACT);
    }
}

#[test]
fn plateau_min_rel() {
    plateau("plateau_min_rel");
}

#[test]
fn plateau_max_rel() {
    plateau("plateau_max_rel");
}

#[test]
fn plateau_min_abs() {
    plateau("plateau_min_abs");
}

#[test]
fn plateau_max_abs_cooldown() {
    plateau("plateau_max_abs_cooldown");
}

#[test]
fn plateau_min_lr_floor() {
    plateau("plateau_min_lr_floor");
}

#[test]
fn plateau_min_lr_floor_eps() {
    plateau("plateau_min_lr_floor_eps");
}

#[test]
fn plateau_nan_counts_as_bad_epoch() {
    plateau("plateau_nan");
}

/// Epoch-unit schedules inside a per-update loop change only at epoch boundaries and equal
/// PyTorch's per-epoch trace there.
#[test]
fn epoch_unit_changes_only_at_epoch_boundaries() {
    let g = load("step_lr");
    let lrs = floats(&g["lrs"]);
    let cfg = SchedulerConfig::Step(StepLrSchedulerConfig::new(30));
    let spe = 7;
    let mut s = cfg
        .init(&RunInfo {
            base_lr: 0.1,
            updates_per_epoch: spe,
            total_updates: spe * 100,
        })
        .unwrap();
    for (epoch, want) in lrs.iter().enumerate() {
        for _ in 0..spe {
            assert_close("step_lr", "lr", epoch, s.step(), *want, EXACT);
        }
    }
}

/// Builds the trace's own scheduler (its PyTorch class name and parameters, through the TOML
/// form) for a run with `steps_per_epoch` updates per epoch (base LR from the trace) and checks
/// every value: update `k * steps_per_epoch + i` must equal `lrs[k]`.
fn check_trace(name: &str, steps_per_epoch: u64) {
    let g = load(name);
    check_config(name, &common::config_from_trace(&g, None), steps_per_epoch);
}

fn check_config(name: &str, cfg: &SchedulerConfig, steps_per_epoch: u64) {
    let g = load(name);
    let lrs = floats(&g["lrs"]);
    let run = RunInfo {
        base_lr: base_lr(&g),
        updates_per_epoch: steps_per_epoch,
        total_updates: lrs.len() as u64 * steps_per_epoch,
    };
    let mut s = cfg.init(&run).unwrap();
    for (k, want) in lrs.iter().enumerate() {
        for _ in 0..steps_per_epoch {
            assert_close(name, "lr", k, s.step(), *want, EXACT);
        }
    }
}

#[test]
fn multi_step_lr() {
    check_trace("multistep_lr", 1);
    // Unsorted milestones are the same schedule.
    let g = load("multistep_lr");
    let SchedulerConfig::MultiStep(mut c) = common::config_from_trace(&g, None) else {
        panic!("not a multi_step")
    };
    c.milestones.reverse();
    check_config("multistep_lr", &SchedulerConfig::MultiStep(c), 3);
}

#[test]
fn linear_lr() {
    check_trace("linear_lr", 2);
}

#[test]
fn constant_lr() {
    check_trace("constant_lr", 1);
}

#[test]
fn polynomial_lr() {
    check_trace("polynomial_lr", 1);
}

#[test]
fn multiplicative_lr() {
    let g = load("multiplicative_lr");
    let s = MultiplicativeLr::new(base_lr(&g), "0.95", |_| 0.95).unwrap().init();
    check("multiplicative_lr", s, |_| None, EXACT);
}

#[test]
fn cosine_warm_restarts() {
    check_trace("cosine_warm_restarts", 1);
}

#[test]
fn cosine_warm_restarts_fractional_epochs() {
    // PyTorch's per-batch usage `step(epoch + i / 4)`: our epoch-unit schedule inside a run with
    // `iters_per_epoch` updates per epoch is evaluated at the same fractional epochs.
    let g = load("cosine_warm_restarts_fractional");
    let lrs = floats(&g["lrs"]);
    let per = g["params"]["iters_per_epoch"].as_u64().unwrap();
    let mut s = common::config_from_trace(&g, None)
        .init(&RunInfo {
            base_lr: base_lr(&g),
            updates_per_epoch: per,
            total_updates: lrs.len() as u64,
        })
        .unwrap();
    for (k, want) in lrs.iter().enumerate() {
        assert_close("cosine_warm_restarts_fractional", "lr", k, s.step(), *want, EXACT);
    }
}

#[test]
fn sequential_linear_cosine() {
    check_trace("sequential_linear_cosine", 1);
    check_trace("sequential_linear_cosine", 4);
    check_trace("sequential_linear_cosine_default_start_factor", 1);
}

#[test]
fn chained_constant_exponential() {
    check_trace("chained_constant_exponential", 1);
    check_trace("chained_constant_exponential", 3);
}
