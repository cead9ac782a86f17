//! PyTorch's `SWALR` after a base schedule, in the loop of its documentation (the base
//! schedule steps after epochs `0..=swa_start`, SWALR after every later one): every LR of the
//! traces in `tests/golden/averaging/` (PyTorch 2.15, float64), to 1e-12 relative, with one and
//! with several optimizer updates per epoch; the schedule is built through the TOML form from
//! the trace's own `base` (the PyTorch class and its parameter names) and `swa` (SWALR's).

use burn::lr_scheduler::LrScheduler;
use burn_lr::burn; // the Burn burn-lr is built on (0.22, or 0.23 with its feature burn-0-23)
use burn_lr::schedule::{RunInfo, SchedulerConfig};
use serde_json::Value;

fn load(name: &str) -> Value {
    let path = format!("{}/tests/golden/averaging/{name}.json", env!("CARGO_MANIFEST_DIR"));
    serde_json::from_str(&std::fs::read_to_string(&path).expect("golden file")).expect("golden json")
}

fn toml_value(v: &Value) -> toml::Value {
    match v {
        Value::String(s) => toml::Value::String(s.clone()),
        Value::Number(n) if n.is_u64() => toml::Value::Integer(n.as_u64().unwrap() as i64),
        Value::Number(n) => toml::Value::Float(n.as_f64().unwrap()),
        other => panic!("unexpected {other}"),
    }
}

/// `[scheduler]` from the trace: its base (`type` null: no scheduler) with a `swa` table.
fn config(g: &Value) -> SchedulerConfig {
    let mut table = toml::Table::new();
    for (key, value) in g["base"].as_object().expect("base") {
        match (key.as_str(), value) {
            ("type", Value::Null) => table.insert("type".into(), "fixed".into()),
            (key, value) => table.insert(key.to_lowercase(), toml_value(value)),
        };
    }
    let swa: toml::Table = g["swa"]
        .as_object()
        .expect("swa")
        .iter()
        .map(|(k, v)| (k.clone(), toml_value(v)))
        .collect();
    table.insert("swa".into(), toml::Value::Table(swa));
    toml::Value::Table(table).try_into().expect("a [scheduler] table")
}

fn check(name: &str) {
    let g = load(name);
    let want: Vec<f64> = g["lrs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_f64().unwrap())
        .collect();
    let base_lr = g["optimizer"]["lr"].as_f64().unwrap();
    let epochs = g["epochs"].as_u64().unwrap();
    for per in [1, 3] {
        let run = RunInfo {
            base_lr,
            updates_per_epoch: per,
            total_updates: epochs * per,
        };
        let mut s = config(&g).init(&run).unwrap_or_else(|e| panic!("{name}: {e}"));
        for (epoch, want) in want.iter().enumerate() {
            for update in 0..per {
                let got = s.step();
                assert!(
                    (got - want).abs() <= 1e-12 * want.abs(),
                    "{name}, {per} update(s) per epoch: epoch {epoch} update {update}: {got} != {want}"
                );
            }
        }
    }
}

#[test]
fn swalr_after_cosine_annealing_cos() {
    check("swalr_cosine_cos");
}

#[test]
fn swalr_after_a_constant_lr_linear() {
    check("swalr_constant_linear");
}

#[test]
fn swalr_resumes_at_any_update_and_refuses_another_schedule_s_record() {
    let g = load("swalr_cosine_cos");
    let run = RunInfo {
        base_lr: 0.1,
        updates_per_epoch: 2,
        total_updates: 200,
    };
    let mut straight = config(&g).init(&run).unwrap();
    let all: Vec<f64> = (0..200).map(|_| straight.step()).collect();
    for at in [0, 1, 150, 151, 152, 170, 199] {
        let mut first = config(&g).init(&run).unwrap();
        (0..at).for_each(|_| {
            first.step();
        });
        let mut resumed = config(&g).init(&run).unwrap();
        resumed.try_load_record(&first.to_record()).unwrap();
        assert_eq!(
            (at..200).map(|_| resumed.step()).collect::<Vec<_>>(),
            all[at as usize..]
        );
    }
    // Another swa_lr is another schedule: its record is refused, naming SWALR's parameters.
    let mut other = g.clone();
    other["swa"]["swa_lr"] = 0.04.into();
    let err = config(&other)
        .init(&run)
        .unwrap()
        .try_load_record(&straight.to_record())
        .unwrap_err();
    assert!(err.to_string().contains("swa_lr=0.04"), "{err}");
}
