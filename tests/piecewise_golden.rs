//! `piecewise_linear` against PyTorch: every value of the traces `scripts/golden_piecewise.py`
//! recorded (`LambdaLR` over `numpy.interp(k / steps_per_epoch, knots, values)`, stepped once
//! per optimizer update; epoch and iteration knots, fractional knots, nested in a
//! `SequentialLR`). Each trace carries the same schedule as a burn-lr `[scheduler]` table.

use burn::lr_scheduler::LrScheduler;
use burn_lr::burn; // the Burn burn-lr is built on (0.22, or 0.23 with its feature burn-0-23)
use burn_lr::schedule::{PiecewiseLinearLrSchedulerConfig, RunInfo, SchedulerConfig, Unit};
use serde_json::Value;

mod common;
use common::{floats, load};

const TRACES: [&str; 4] = [
    "piecewise_page_epoch",
    "piecewise_fractional_epoch",
    "piecewise_iteration",
    "piecewise_in_sequential",
];

/// The trace's `lrs` as Rust's correctly rounded `f64::from_str` reads the file's shortest
/// round-trip numbers (serde_json's default float parsing can be one ulp off).
fn exact_lrs(name: &str) -> Vec<f64> {
    let path = format!("{}/tests/golden/{name}.json", env!("CARGO_MANIFEST_DIR"));
    let text = std::fs::read_to_string(path).unwrap();
    let start = text.find("\"lrs\": [").expect("lrs") + "\"lrs\": [".len();
    let end = start + text[start..].find(']').unwrap();
    let lrs: Vec<f64> = text[start..end].split(',').map(|v| v.trim().parse().unwrap()).collect();
    assert_eq!(lrs.len(), floats(&load(name)["lrs"]).len());
    lrs
}

fn schedule(g: &Value) -> SchedulerConfig {
    toml::from_str(g["toml"].as_str().unwrap()).unwrap_or_else(|e| panic!("{e}"))
}

fn run(g: &Value, n: usize) -> RunInfo {
    RunInfo {
        base_lr: g["optimizer"]["lr"].as_f64().unwrap(),
        updates_per_epoch: g["steps_per_epoch"].as_u64().unwrap(),
        total_updates: n as u64,
    }
}

#[test]
fn every_update_of_every_trace_inside_a_run() {
    for name in TRACES {
        let g = load(name);
        let lrs = exact_lrs(name);
        let mut s = schedule(&g).init(&run(&g, lrs.len())).unwrap();
        for (k, want) in lrs.iter().enumerate() {
            let got = s.step();
            if name.contains("sequential") {
                // LinearLR's warmup is PyTorch's chained product, ours the closed form.
                assert!(
                    (got - want).abs() <= 1e-12 * want.abs(),
                    "{name}: lr[{k}] = {got:e}, PyTorch {want:e}"
                );
            } else {
                // numpy.interp's arithmetic, to the bit.
                assert_eq!(got, *want, "{name}: lr[{k}]");
            }
        }
    }
}

#[test]
fn pytorch_style_stepping_per_update() {
    for name in [
        "piecewise_page_epoch",
        "piecewise_fractional_epoch",
        "piecewise_iteration",
    ] {
        let g = load(name);
        let SchedulerConfig::PiecewiseLinear(c) = schedule(&g) else {
            panic!("{name}: not a piecewise_linear table");
        };
        let per = if c.unit == Unit::Iteration {
            1
        } else {
            g["steps_per_epoch"].as_u64().unwrap()
        };
        let mut s = PiecewiseLinearLrSchedulerConfig::new(c.knots.clone(), c.values.clone())
            .with_unit(c.unit)
            .init_per_update(g["optimizer"]["lr"].as_f64().unwrap(), per)
            .unwrap();
        for (k, want) in exact_lrs(name).iter().enumerate() {
            assert_eq!(s.step(), *want, "{name}: lr[{k}]");
        }
    }
}

#[test]
fn resume_anywhere_is_setting_the_counter() {
    let g = load("piecewise_fractional_epoch");
    let lrs = exact_lrs("piecewise_fractional_epoch");
    let config = schedule(&g);
    let mut first = config.init(&run(&g, lrs.len())).unwrap();
    for _ in 0..7 {
        first.step();
    }
    let mut resumed = config.init(&run(&g, lrs.len())).unwrap();
    resumed.load_record(first.to_record());
    for (k, want) in lrs.iter().enumerate().skip(7) {
        assert_eq!(resumed.step(), *want, "lr[{k}] after resume at 7");
    }
}
