//! Burn's multi-device strategy (`[training] devices`, `ExecutionStrategy::multi`) on two and
//! three CPU devices (the CPU is one device to Burn, so these are Burn workers on the same
//! cores; the stepping is what is tested): the schedule steps once per optimizer update across
//! the devices, OneCycle spans exactly the updates the split makes, a plateau reduction applies
//! from the next epoch on to every update (one optimizer for all devices' batches), and a
//! two-device run resumes exactly.

mod app_common;

use app_common::{config_with, data, quiet, serial};
use burn_lr::learner::LearnerRun;
use burn_lr::monitor::read_lr_csv;
use burn_lr::schedule::*;
use burn_lr_cifar::run as training;
use std::path::Path;

/// The LR Burn logged for each training item (one per device and update) of `epoch`.
fn logged_lrs(dir: &Path, epoch: usize) -> Vec<f64> {
    let path = dir.join(format!("train/epoch-{epoch}/Learning_Rate.log"));
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    text.lines()
        .filter(|l| !l.ends_with("final"))
        .map(|l| l.split(',').next().unwrap().parse::<f64>().unwrap())
        .collect()
}

/// The LR of every optimizer update, from `lr.csv` (one row per scheduler step).
fn lr_csv(dir: &Path) -> Vec<(u64, f64)> {
    let trace = read_lr_csv(&dir.join("lr.csv")).unwrap();
    trace.rows.iter().map(|r| (r.epoch, r.lr)).collect()
}

#[test]
fn one_cycle_spans_the_updates_of_a_three_device_split() {
    // Burn's CPU backend draws the weights from one process-wide generator: one run at a time.
    let _serial = serial();
    let dir = tempfile::tempdir().unwrap();
    // 26 images on 3 devices: Burn's split gives slices of 8, 8 and 10 images; at batch 4 they
    // have 2, 2 and 3 batches, so an epoch makes 3 updates (the last with the third device's
    // batch alone), not the 7 of one device.
    let cfg = config_with(
        dir.path(),
        "type = \"one_cycle\"\nmax_lr = 0.4\npct_start = 0.5",
        2,
        4,
        1,
        "devices = 3",
    );
    let summary = training::train(&cfg, data(26), &quiet()).unwrap();
    assert_eq!(summary.updates_per_epoch, 3);
    assert_eq!(LearnerRun::new(26, 4, 2).with_devices(3).updates_per_epoch(), 3);
    assert_eq!(LearnerRun::new(26, 4, 2).updates_per_epoch(), 7);
    let expected = OneCycleLrSchedulerConfig::new(0.4)
        .with_pct_start(0.5)
        .with_total_steps(6)
        .init()
        .unwrap();
    let rows = lr_csv(dir.path());
    let want: Vec<(u64, f64)> = (0..6u64).map(|k| (1 + k / 3, expected.lr_at_update(k))).collect();
    assert_eq!(
        rows, want,
        "one scheduler step per update across the devices, the whole cycle"
    );
    // Burn logs one item per device and update: 3 + 3 + 2 (the third step has one batch).
    for epoch in 1..=2 {
        let lrs = logged_lrs(dir.path(), epoch);
        let k0 = (epoch as u64 - 1) * 3;
        let per_item: Vec<f64> = [k0, k0, k0, k0 + 1, k0 + 1, k0 + 1, k0 + 2]
            .iter()
            .map(|&k| expected.lr_at_update(k))
            .collect();
        assert_eq!(lrs, per_item, "epoch {epoch}");
    }
    assert!(summary
        .epochs
        .iter()
        .all(|r| r.train_loss.is_finite() && r.val_loss.is_finite()));
}

#[test]
fn a_plateau_reduction_applies_from_the_next_epoch_to_every_update_across_devices() {
    // Burn's CPU backend draws the weights from one process-wide generator: one run at a time.
    let _serial = serial();
    // The first epoch improves on +inf; every later one is bad by the huge absolute threshold;
    // patience 0 halves the LR after each bad epoch.
    let sched =
        "type = \"reduce_on_plateau\"\nfactor = 0.5\npatience = 0\nthreshold = 1000.0\nthreshold_mode = \"abs\"";
    let dir = tempfile::tempdir().unwrap();
    // 20 images, 2 devices, batch 4: slices of 10, 3 batches each, 3 updates per epoch.
    let cfg = config_with(dir.path(), sched, 4, 4, 1, "devices = [0, 1]");
    let summary = training::train(&cfg, data(20), &quiet()).unwrap();
    assert_eq!(summary.updates_per_epoch, 3);
    for (epoch, lr) in [(1, 0.1), (2, 0.1), (3, 0.05), (4, 0.025)] {
        assert_eq!(
            logged_lrs(dir.path(), epoch),
            vec![lr; 6],
            "epoch {epoch}: both devices' batches"
        );
    }
    let per_update: Vec<f64> = lr_csv(dir.path()).iter().map(|r| r.1).collect();
    assert_eq!(per_update, [[0.1; 3], [0.1; 3], [0.05; 3], [0.025; 3]].concat());
    let lrs: Vec<f64> = summary.epochs.iter().map(|r| r.lr).collect();
    assert_eq!(lrs, vec![0.1, 0.1, 0.05, 0.025]);
}

#[test]
fn bad_device_lists_are_refused_in_one_line() {
    let dir = tempfile::tempdir().unwrap();
    for (devices, expect) in [("0", "number of devices >= 1"), ("[1, 1]", "distinct device indices")] {
        let text = format!(
            "[model]\narch = \"tiny\"\n[optimizer]\nname = \"sgd\"\nlr = 0.1\n[training]\nepochs = 1\nbatch_size = 4\n\
             devices = {devices}\nartifact_dir = \"{}\"\n",
            dir.path().display()
        );
        let err = burn_lr_cifar::config::TrainConfig::from_toml(&text)
            .unwrap_err()
            .to_string();
        assert!(err.contains("[training] devices") && err.contains(expect), "{err}");
        assert_eq!(err.lines().count(), 1, "{err}");
    }
}

#[test]
fn a_two_device_run_stopped_and_resumed_gives_the_same_numbers() {
    // Burn's CPU backend draws the weights from one process-wide generator: one run at a time.
    let _serial = serial();
    let sched = "type = \"one_cycle\"\nmax_lr = 0.4";
    let whole = tempfile::tempdir().unwrap();
    let cfg = config_with(whole.path(), sched, 3, 4, 1, "devices = 2");
    let straight = training::train(&cfg, data(20), &quiet()).unwrap();
    let split = tempfile::tempdir().unwrap();
    let cfg = config_with(split.path(), sched, 3, 4, 1, "devices = 2");
    let first = training::TrainOptions {
        stop_after_epoch: Some(1),
        ..quiet()
    };
    training::train(&cfg, data(20), &first).unwrap();
    let resume = training::TrainOptions {
        start: burn_lr_cifar::run::dir::StartMode::Resume,
        ..quiet()
    };
    let resumed = training::train(&cfg, data(20), &resume).unwrap();
    assert_eq!(
        lr_csv(split.path()),
        lr_csv(whole.path()),
        "no update twice, none missing"
    );
    let rows = burn_lr_cifar::run::artifacts::read_metrics_csv(&split.path().join("metrics.csv")).unwrap();
    // Validation runs on the first device alone: bit-exact. The training loss is Burn's running
    // mean over the items in the order the two devices' workers deliver them, so its last bits
    // can differ from run to run (the weights, below, cannot).
    let key = |r: &burn_lr_cifar::run::artifacts::EpochRecord| (r.epoch, r.val_loss, r.val_acc, r.lr);
    assert_eq!(
        rows.iter().map(key).collect::<Vec<_>>(),
        straight.epochs.iter().map(key).collect::<Vec<_>>()
    );
    for (r, s) in rows.iter().zip(&straight.epochs) {
        assert!(
            (r.train_loss - s.train_loss).abs() <= 1e-6 * s.train_loss.abs(),
            "epoch {}: train loss {} resumed, {} straight",
            r.epoch,
            r.train_loss,
            s.train_loss
        );
    }
    assert_eq!(
        app_common::weights(resumed.model.as_ref().unwrap()),
        app_common::weights(straight.model.as_ref().unwrap())
    );
}

/// `strategy = "ddp"`: Burn's all-reduce exists only on CUDA, so on the CPU (more than one
/// device) the binary refuses it in one line, exit code 2, before any data is read or any
/// directory made; a split whose devices would make different numbers of batches is refused
/// too (they would wait for each other forever); and on one device DDP is that device's run
/// (not Burn's DDP, whose all-reduce the CPU lacks), identical to the default strategy's.
#[test]
fn ddp_is_refused_where_burn_has_no_all_reduce_and_one_device_trains_alone() {
    // Burn's CPU backend draws the weights from one process-wide generator: one run at a time.
    let _serial = serial();
    let tmp = tempfile::tempdir().unwrap();
    let config = tmp.path().join("ddp.toml");
    std::fs::write(
        &config,
        "[model]\narch = \"tiny\"\n[optimizer]\nname = \"sgd\"\nlr = 0.1\n[training]\nepochs = 1\nbatch_size = 4\n\
         device = \"cpu\"\ndevices = 2\nstrategy = \"ddp\"\n",
    )
    .unwrap();
    let art = tmp.path().join("run");
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_burn-lr"))
        .args(["train", "--config"])
        .arg(&config)
        .args(["--data-dir", "/nonexistent/cifar", "--artifact-dir"])
        .arg(&art)
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(
        err.contains("[training] strategy = \"ddp\": Burn's CPU backends implement no all-reduce")
            && err.contains("device = \"cuda\""),
        "{err}"
    );
    assert!(!art.exists(), "nothing made");

    // Through the library's entry point: a split whose devices make unequal batches is refused
    // (26 images on 3 devices at batch 4: 2, 2 and 3 batches) before the device is looked at, and
    // an even split (24 images: 2 each) then meets the CPU's refusal. Both before any file.
    let cfg = config_with(
        &tmp.path().join("split"),
        "type = \"constant\"",
        1,
        4,
        1,
        "devices = 3\nstrategy = \"ddp\"",
    );
    let err = training::train(&cfg, data(26), &quiet()).unwrap_err();
    assert_eq!(err.exit_code(), 2);
    assert!(
        err.to_string()
            .contains("26 training images on 3 devices make 2, 2, 3 batches of 4"),
        "{err}"
    );
    let err = training::train(&cfg, data(24), &quiet()).unwrap_err();
    assert!(
        err.to_string().contains("Burn's CPU backends implement no all-reduce"),
        "{err}"
    );
    assert!(!tmp.path().join("split").join("metrics.csv").exists());

    // One device: DDP is the single-device run.
    let (a, b) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let sched = "type = \"one_cycle\"\nmax_lr = 0.4";
    let ddp = training::train(
        &config_with(a.path(), sched, 2, 4, 1, "strategy = \"ddp\""),
        data(12),
        &quiet(),
    )
    .unwrap();
    let single = training::train(&config_with(b.path(), sched, 2, 4, 1, ""), data(12), &quiet()).unwrap();
    assert_eq!(lr_csv(a.path()), lr_csv(b.path()));
    assert_eq!(
        app_common::weights(ddp.model.as_ref().unwrap()),
        app_common::weights(single.model.as_ref().unwrap())
    );
}
