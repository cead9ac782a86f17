//! See the schedule (issue: LR log, TensorBoard, plots): a run leaves `lr.csv` with the LR of
//! every optimizer update as the schedulers returned it (per group, with the momentum the
//! optimizer used), TensorBoard event files with the same values (read back by our reader and,
//! with `BURN_LR_TB_PYTHON` set, by TensorBoard's own), and three PNG charts; a resume
//! continues both logs without a duplicated step.

mod app_common;

use app_common::{config_with, data, serial};
use burn_lr::monitor::{read_events, read_lr_csv, ScalarEvent};
use burn_lr::schedule::MomentumCell;
use burn_lr::schedule::SchedulerConfig;
use burn_lr_cifar::run::artifacts::{read_metrics_csv, EpochRecord};
use burn_lr_cifar::run::dir::StartMode;
use burn_lr_cifar::run::{self as training, TrainOptions};
use std::path::{Path, PathBuf};

const ONE_CYCLE: &str = "type = \"one_cycle\"\nmax_lr = 0.1\npct_start = 0.3";
const GROUP: &str = r#"
[[param_groups]]
params = "fc"
lr = 0.01
[param_groups.scheduler]
type = "step"
step_size = 1
gamma = 0.5
"#;

/// 40 images at batch 8: 5 updates per epoch.
const UPDATES_PER_EPOCH: u64 = 5;

fn cfg(dir: &Path, epochs: usize) -> burn_lr_cifar::config::TrainConfig {
    // `[[param_groups]]` after `[training]` (config_with appends to `[training]`).
    config_with(dir, ONE_CYCLE, epochs, 8, 1, GROUP)
}

fn run(dir: &Path, epochs: usize, start: StartMode, stop_after_epoch: Option<usize>, cell: Option<MomentumCell>) {
    training::train(
        &cfg(dir, epochs),
        data(40),
        &TrainOptions {
            quiet: true,
            start,
            stop_after_epoch,
            momentum_cell: cell,
            ..Default::default()
        },
    )
    .unwrap();
}

/// The LR of updates 0..n of a schedule, straight from the library.
fn reference(toml_text: &str, base_lr: f64, n: u64) -> Vec<f64> {
    let config: SchedulerConfig = toml::from_str(toml_text).unwrap();
    burn_lr_cifar::preview::preview(&config, base_lr, n, UPDATES_PER_EPOCH, &[])
        .unwrap()
        .into_iter()
        .map(|(lr, _)| lr)
        .collect()
}

fn event_file(dir: &Path) -> PathBuf {
    let files: Vec<PathBuf> = std::fs::read_dir(dir.join("tensorboard"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    assert_eq!(files.len(), 1, "one event file: {files:?}");
    assert!(files[0]
        .file_name()
        .unwrap()
        .to_string_lossy()
        .starts_with("events.out.tfevents."));
    files[0].clone()
}

fn tagged(events: &[ScalarEvent], tag: &str) -> Vec<(i64, f32)> {
    events
        .iter()
        .filter(|e| e.tag == tag)
        .map(|e| (e.step, e.value))
        .collect()
}

/// What the event file must hold: per update (step from 0) `Learning_Rate`,
/// `Learning_Rate/fc`, `Momentum` as in lr.csv; per epoch (step from 1) the losses and accuracy
/// as in metrics.csv; as f32, TensorBoard's scalar type.
fn expected(dir: &Path) -> Vec<(String, Vec<(i64, f32)>)> {
    let lr = read_lr_csv(&dir.join("lr.csv")).unwrap();
    let rows = read_metrics_csv(&dir.join("metrics.csv")).unwrap();
    let per_update = |f: &dyn Fn(&burn_lr::monitor::LrRow) -> f64| {
        lr.rows.iter().map(|r| (r.step as i64, f(r) as f32)).collect::<Vec<_>>()
    };
    let per_epoch = |f: fn(&EpochRecord) -> f64| rows.iter().map(|r| (r.epoch as i64, f(r) as f32)).collect::<Vec<_>>();
    vec![
        ("Learning_Rate".into(), per_update(&|r| r.lr)),
        ("Learning_Rate/fc".into(), per_update(&|r| r.group_lrs[0])),
        ("Momentum".into(), per_update(&|r| r.momentum.unwrap())),
        ("Loss/train".into(), per_epoch(|r| r.train_loss)),
        ("Loss/valid".into(), per_epoch(|r| r.val_loss)),
        ("Accuracy/valid".into(), per_epoch(|r| r.val_acc)),
    ]
}

#[test]
fn a_run_leaves_lr_csv_tensorboard_events_and_plots() {
    let _serial = serial();
    let tmp = tempfile::tempdir().unwrap();
    let cell = MomentumCell::new(f64::NAN).with_history();
    run(tmp.path(), 2, StartMode::New, None, Some(cell.clone()));
    let dir = tmp.path();

    // lr.csv: one row per update, the values the schedulers returned, the momentum used.
    let trace = read_lr_csv(&dir.join("lr.csv")).unwrap();
    assert_eq!(trace.groups, vec!["fc"]);
    assert!(trace.momentum);
    let n = 2 * UPDATES_PER_EPOCH;
    assert_eq!(trace.rows.len() as u64, n);
    let base = reference(ONE_CYCLE, 0.1, n);
    let group = reference("type = \"step\"\nstep_size = 1\ngamma = 0.5", 0.01, n);
    let used = cell.history();
    assert_eq!(used.len() as u64, n, "the optimizer used one momentum per update");
    for (k, row) in trace.rows.iter().enumerate() {
        assert_eq!(row.step, k as u64);
        assert_eq!(row.epoch, k as u64 / UPDATES_PER_EPOCH + 1);
        assert_eq!(row.lr, base[k], "update {k}");
        assert_eq!(row.group_lrs, vec![group[k]], "update {k}");
        assert_eq!((row.step, row.momentum.unwrap()), used[k], "update {k}");
    }
    let header = std::fs::read_to_string(dir.join("lr.csv")).unwrap();
    assert!(header.starts_with("step,epoch,lr,lr_fc,momentum\n"), "{header}");

    // metrics.csv: wall time and images/s per epoch.
    let rows = read_metrics_csv(&dir.join("metrics.csv")).unwrap();
    assert_eq!(rows.len(), 2);
    for r in &rows {
        assert!(r.seconds > 0.0 && r.images_per_s > 0.0, "{r:?}");
        // images/s is rounded to 0.1 and seconds to 1 ms: 40 images within 2%.
        assert!(
            (r.images_per_s * r.seconds / 40.0 - 1.0).abs() < 0.02 || r.seconds < 0.05,
            "{r:?}"
        );
    }

    // TensorBoard: tags, steps and values exactly.
    let events = read_events(&event_file(dir)).unwrap();
    for (tag, want) in expected(dir) {
        assert_eq!(tagged(&events, &tag), want, "{tag}");
    }

    // The plots: real 1200x800 PNGs.
    for png in ["lr_schedule.png", "loss.png", "accuracy.png"] {
        let img = image::open(dir.join(png)).unwrap_or_else(|e| panic!("{png}: {e}"));
        assert_eq!((img.width(), img.height()), (1200, 800), "{png}");
        let rgb = img.to_rgb8();
        let ink = rgb.pixels().filter(|p| p.0 != [255, 255, 255]).count();
        assert!(ink > 20_000, "{png} is nearly blank ({ink} pixels drawn)");
    }
}

#[test]
fn tensorboard_reads_the_event_file() {
    let Some(python) = std::env::var_os("BURN_LR_TB_PYTHON") else {
        assert!(
            std::env::var_os("CI").is_none(),
            "CI must set BURN_LR_TB_PYTHON to a python with `tensorboard` installed (.ci/run does)"
        );
        eprintln!("skipped: set BURN_LR_TB_PYTHON to a python with `pip install tensorboard`");
        return;
    };
    let _serial = serial();
    let tmp = tempfile::tempdir().unwrap();
    run(tmp.path(), 2, StartMode::New, None, None);
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/read_tensorboard.py");
    let out = std::process::Command::new(python)
        .arg(&script)
        .arg(tmp.path().join("tensorboard"))
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let read: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    for (tag, want) in expected(tmp.path()) {
        let got: Vec<(i64, f32)> = read[&tag]
            .as_array()
            .unwrap_or_else(|| panic!("TensorBoard has no tag {tag}: {read}"))
            .iter()
            .map(|p| (p[0].as_i64().unwrap(), p[1].as_f64().unwrap() as f32))
            .collect();
        assert_eq!(got, want, "{tag}");
    }
}

#[test]
fn a_resume_continues_both_logs_without_a_duplicated_step() {
    let _serial = serial();
    let (whole, split) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    run(whole.path(), 3, StartMode::New, None, None);
    run(split.path(), 3, StartMode::New, Some(1), None);
    // A run killed in epoch 2 leaves rows of updates the resume trains again.
    let lr_csv = split.path().join("lr.csv");
    let mut text = std::fs::read_to_string(&lr_csv).unwrap();
    text += "5,2,0.5,0.005,0.9\n6,2,0.5,0.005,0.9\n7,2,0.";
    std::fs::write(&lr_csv, text).unwrap();
    run(split.path(), 3, StartMode::Resume, None, None);

    assert_eq!(
        std::fs::read_to_string(&lr_csv).unwrap(),
        std::fs::read_to_string(whole.path().join("lr.csv")).unwrap()
    );
    let events = read_events(&event_file(split.path())).unwrap();
    for (tag, want) in expected(split.path()) {
        let got = tagged(&events, &tag);
        assert_eq!(got, want, "{tag}");
        let per = if tag.starts_with("Learning") || tag == "Momentum" {
            15
        } else {
            3
        };
        assert_eq!(got.len(), per, "{tag}: every step once");
    }
}

#[test]
fn burn_lr_plot_redraws_the_charts() {
    let _serial = serial();
    let tmp = tempfile::tempdir().unwrap();
    run(tmp.path(), 1, StartMode::New, None, None);
    for png in ["lr_schedule.png", "loss.png", "accuracy.png"] {
        std::fs::remove_file(tmp.path().join(png)).unwrap();
    }
    let (drawn, problems) = burn_lr_cifar::run::monitoring::draw_plots(tmp.path());
    assert!(problems.is_empty(), "{problems:?}");
    assert_eq!(drawn.len(), 3);
    assert!(drawn.iter().all(|p| p.is_file()));
}
