//! Helpers shared by the integration tests (`mod common;` in each test file).
#![allow(dead_code)]

use burn::lr_scheduler::LrScheduler;
use burn_lr::schedule::{RunInfo, SchedulerConfig};
use serde_json::Value;

/// A trace of `tests/golden/` by name (without `.json`).
pub fn load(name: &str) -> Value {
    let path = format!("{}/tests/golden/{name}.json", env!("CARGO_MANIFEST_DIR"));
    serde_json::from_str(&std::fs::read_to_string(&path).expect("golden file")).expect("golden json")
}

/// A JSON array of numbers (`null` as NaN).
pub fn floats(v: &Value) -> Vec<f64> {
    v.as_array()
        .expect("array")
        .iter()
        .map(|x| x.as_f64().unwrap_or(f64::NAN))
        .collect()
}

/// A `[scheduler]` table from TOML text.
pub fn cfg(toml: &str) -> SchedulerConfig {
    toml::from_str(toml).unwrap_or_else(|e| panic!("{toml}: {e}"))
}

/// A run: base LR, optimizer updates per epoch, optimizer updates in all.
pub fn run(base_lr: f64, updates_per_epoch: u64, total_updates: u64) -> RunInfo {
    RunInfo {
        base_lr,
        updates_per_epoch,
        total_updates,
    }
}

/// The first `n` LRs of `c` built for `r`.
pub fn lrs(c: &SchedulerConfig, r: &RunInfo, n: u64) -> Vec<f64> {
    let mut s = c.build(r).unwrap_or_else(|e| panic!("{c:?}: {e}"));
    (0..n).map(|_| s.step()).collect()
}
