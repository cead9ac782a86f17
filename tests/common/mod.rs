//! Helpers shared by the integration tests (`mod common;` in each test file).
#![allow(dead_code)]

use burn::lr_scheduler::LrScheduler;
use burn_lr::burn; // the Burn burn-lr is built on (0.22, or 0.23 with its feature burn-0-23)
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
    let mut s = c.init(r).unwrap_or_else(|e| panic!("{c:?}: {e}"));
    (0..n).map(|_| s.step()).collect()
}

/// A JSON value of a trace's `params` as TOML.
fn to_toml(key: &str, value: &Value) -> toml::Value {
    match value {
        Value::Bool(b) => toml::Value::Boolean(*b),
        Value::String(s) => toml::Value::String(s.clone()),
        Value::Number(n) if n.is_u64() => toml::Value::Integer(n.as_u64().unwrap() as i64),
        Value::Number(n) => toml::Value::Float(n.as_f64().unwrap()),
        Value::Array(items) => toml::Value::Array(items.iter().map(|v| to_toml(key, v)).collect()),
        Value::Object(child) => toml::Value::Table(table(child.get("type").and_then(Value::as_str), child, None)),
        Value::Null => panic!("param `{key}` is null"),
    }
}

/// A `[scheduler]` table from a reference's class (or function) name and its parameters as the
/// reference names them (`T_max` becomes `t_max`; `last_epoch` and recording details are left
/// out), with `unit` when given.
fn table(class: Option<&str>, params: &serde_json::Map<String, Value>, unit: Option<&str>) -> toml::Table {
    let mut t = toml::Table::new();
    if let Some(class) = class {
        t.insert("type".into(), class.into());
    }
    if let Some(unit) = unit {
        t.insert("unit".into(), unit.into());
    }
    for (key, value) in params {
        let key = key.to_lowercase();
        if matches!(key.as_str(), "type" | "last_epoch" | "iters_per_epoch") {
            continue;
        }
        t.insert(key.clone(), to_toml(&key, value));
    }
    t
}

/// The schedule a trace was recorded from, built through the TOML form from the trace's own
/// `scheduler` (the reference's class or function name) and `params` (its parameter names):
/// nothing retyped. `unit` overrides the default unit of the top-level schedule.
pub fn config_from_trace(g: &Value, unit: Option<&str>) -> SchedulerConfig {
    let class = g["scheduler"].as_str().expect("scheduler name");
    let t = table(Some(class), g["params"].as_object().expect("params"), unit);
    toml::Value::Table(t)
        .try_into()
        .unwrap_or_else(|e| panic!("{class}: {e}"))
}
