//! Runs a user can trust (issue: artifact directories, resume, interruption, NaN, corrupt
//! files): a directory holds one run; `--resume` continues only that run, names every setting
//! that changed, skips a damaged checkpoint, and gives the same numbers as a run that never
//! stopped; a diverging loss stops with the last finite checkpoint; an interruption leaves a
//! checkpoint `--resume` continues from.

mod app_common;

use app_common::{config, config_with, data, quiet, serial, weights};
use burn_lr::learner::StopRequest;
use burn_lr_cifar::run::artifacts::read_metrics_csv;
use burn_lr_cifar::run::dir::StartMode;
use burn_lr_cifar::run::{self as training, TrainOptions};
use std::path::Path;

const STEP: &str = "type = \"step\"\nstep_size = 1\ngamma = 0.5";

fn opts(start: StartMode, stop_after_epoch: Option<usize>) -> TrainOptions {
    TrainOptions {
        start,
        stop_after_epoch,
        ..quiet()
    }
}

fn rows(dir: &Path) -> Vec<(usize, f64, f64, f64, f64)> {
    results(&read_metrics_csv(&dir.join("metrics.csv")).unwrap())
}

/// The rows without their wall times.
fn results(rows: &[burn_lr_cifar::run::artifacts::EpochRecord]) -> Vec<(usize, f64, f64, f64, f64)> {
    rows.iter().map(|r| r.results()).collect()
}

#[test]
fn a_folder_holds_one_run_and_resume_continues_only_that_run() {
    let _serial = serial();
    let tmp = tempfile::tempdir().unwrap();
    let cfg = config(tmp.path(), STEP, 4, 8, 1);
    training::train(&cfg, data(20), &quiet()).unwrap();
    // The same config again, as a new run: refused, naming the three ways on.
    let err = training::train(&cfg, data(20), &opts(StartMode::New, Some(2))).unwrap_err();
    let msg = err.to_string();
    for choice in [
        "--resume",
        "--artifact-dir",
        "--overwrite",
        "checkpoints of epochs ",
        "4, metrics.csv",
    ] {
        assert!(msg.contains(choice), "{msg}");
    }
    assert_eq!(err.exit_code(), 2);
    // --overwrite clears the old run; --resume then continues the new one, not the old epoch 4.
    let first = training::train(&cfg, data(20), &opts(StartMode::Overwrite, Some(2))).unwrap();
    assert_eq!(first.epochs.len(), 2);
    let resumed = training::train(&cfg, data(20), &opts(StartMode::Resume, None)).unwrap();
    assert_eq!(resumed.resumed_from, Some(2));
    assert_eq!(
        resumed.epochs.iter().map(|r| r.epoch).collect::<Vec<_>>(),
        vec![1, 2, 3, 4]
    );
    assert!(resumed.model.is_some());
    // --resume of a finished run trains nothing and says so.
    let done = training::train(&cfg, data(20), &opts(StartMode::Resume, None)).unwrap();
    assert!(done.model.is_none());
}

#[test]
fn resume_names_every_change_before_touching_a_file() {
    let _serial = serial();
    let tmp = tempfile::tempdir().unwrap();
    let cfg = config(tmp.path(), STEP, 3, 8, 1);
    training::train(&cfg, data(20), &opts(StartMode::New, Some(1))).unwrap();
    let config_before = std::fs::read(tmp.path().join("config.toml")).unwrap();
    let metrics_before = std::fs::read(tmp.path().join("metrics.csv")).unwrap();
    let checkpoints_before = burn_lr_cifar::run::checkpoint::epochs_on_disk(&tmp.path().join("checkpoint"));
    let mut other = cfg.clone();
    other.model = toml::from_str("arch = \"resnet8\"").unwrap();
    other.optimizer.name = burn_lr_cifar::config::OptimizerName::Adamw;
    let err = training::train(&other, data(20), &opts(StartMode::Resume, None))
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("[model] arch: tiny in the checkpoint, resnet8 now"),
        "{err}"
    );
    assert!(
        err.contains("[optimizer] name: sgd in the checkpoint, adamw now"),
        "{err}"
    );
    assert!(!err.contains('\n'), "{err}");
    assert_eq!(std::fs::read(tmp.path().join("config.toml")).unwrap(), config_before);
    assert_eq!(std::fs::read(tmp.path().join("metrics.csv")).unwrap(), metrics_before);
    assert_eq!(
        burn_lr_cifar::run::checkpoint::epochs_on_disk(&tmp.path().join("checkpoint")),
        checkpoints_before
    );
    // Other training images (same count, other pixels; or another count).
    let mut changed = data(20);
    changed.train[3].pixels[0] ^= 1;
    let err = training::train(&cfg, changed, &opts(StartMode::Resume, None))
        .unwrap_err()
        .to_string();
    assert!(err.contains("training images: other images or order"), "{err}");
    let err = training::train(&cfg, data(30), &opts(StartMode::Resume, None))
        .unwrap_err()
        .to_string();
    assert!(err.contains("training images: 20 in the checkpoint, 30 now"), "{err}");
    // A device change is allowed: the checkpoint does not depend on it.
    let mut cpu = cfg.clone();
    cpu.training.device = burn_lr_cifar::device::DeviceName::Cpu;
    cpu.data.num_workers = 2;
    training::train(&cpu, data(20), &opts(StartMode::Resume, Some(2))).unwrap();
}

#[test]
fn resume_is_bit_exact_with_augmentation() {
    let _serial = serial();
    let sched = "type = \"one_cycle\"\nmax_lr = 0.3";
    let with_aug = |dir: &Path| {
        let mut c = config(dir, sched, 3, 8, 1);
        c.data.augment = true;
        c
    };
    let whole = tempfile::tempdir().unwrap();
    let a = training::train(&with_aug(whole.path()), data(24), &quiet()).unwrap();
    let split = tempfile::tempdir().unwrap();
    training::train(&with_aug(split.path()), data(24), &opts(StartMode::New, Some(1))).unwrap();
    training::train(&with_aug(split.path()), data(24), &opts(StartMode::Resume, Some(2))).unwrap();
    let b = training::train(&with_aug(split.path()), data(24), &opts(StartMode::Resume, None)).unwrap();
    assert_eq!(rows(whole.path()), rows(split.path()));
    assert_eq!(results(&a.epochs), results(&b.epochs));
    assert_eq!(weights(a.model.as_ref().unwrap()), weights(b.model.as_ref().unwrap()));
}

#[test]
fn a_damaged_checkpoint_is_skipped_in_one_line_and_leftovers_are_removed() {
    let _serial = serial();
    let tmp = tempfile::tempdir().unwrap();
    let cfg = config(tmp.path(), STEP, 3, 8, 1);
    training::train(&cfg, data(20), &opts(StartMode::New, Some(2))).unwrap();
    let ckpt = tmp.path().join("checkpoint");
    let model = ckpt.join("model-2.bpk");
    let len = std::fs::metadata(&model).unwrap().len();
    std::fs::OpenOptions::new()
        .write(true)
        .open(&model)
        .unwrap()
        .set_len(len / 3)
        .unwrap();
    std::fs::write(ckpt.join(".partial-optim-3.bpk"), b"half a file").unwrap();
    std::fs::write(tmp.path().join(".burn-lr-tmp-abc"), b"half a csv").unwrap();
    let resumed = training::train(&cfg, data(20), &opts(StartMode::Resume, None)).unwrap();
    assert_eq!(resumed.resumed_from, Some(1));
    assert_eq!(
        resumed.epochs.iter().map(|r| r.epoch).collect::<Vec<_>>(),
        vec![1, 2, 3]
    );
    assert!(!ckpt.join(".partial-optim-3.bpk").exists());
    assert!(!tmp.path().join(".burn-lr-tmp-abc").exists());
    // Every row of metrics.csv has its sealed checkpoint (the last two are kept).
    for epoch in [2, 3] {
        for kind in ["model", "optim", "scheduler"] {
            assert!(ckpt.join(format!("{kind}-{epoch}.bpk.md5")).is_file(), "{kind}-{epoch}");
        }
    }
}

#[test]
fn metrics_and_lr_csv_garbled_truncated_or_deleted_are_rebuilt_from_the_checkpoint_seal() {
    let _serial = serial();
    let straight_dir = tempfile::tempdir().unwrap();
    let straight = config(straight_dir.path(), STEP, 3, 8, 1);
    training::train(&straight, data(20), &quiet()).unwrap();
    let tmp = tempfile::tempdir().unwrap();
    let cfg = config(tmp.path(), STEP, 3, 8, 1);
    training::train(&cfg, data(20), &opts(StartMode::New, Some(1))).unwrap();
    let (csv, lr) = (tmp.path().join("metrics.csv"), tmp.path().join("lr.csv"));
    let text = std::fs::read_to_string(&csv).unwrap();
    std::fs::write(&csv, text.replacen(",0.1,", ",zero point one,", 1)).unwrap();
    let lr_text = std::fs::read_to_string(&lr).unwrap();
    std::fs::write(&lr, lr_text.lines().take(2).collect::<Vec<_>>().join("\n") + "\n").unwrap();
    training::train(&cfg, data(20), &opts(StartMode::Resume, Some(2))).unwrap();
    std::fs::remove_file(&csv).unwrap();
    std::fs::remove_file(&lr).unwrap();
    let done = training::train(&cfg, data(20), &opts(StartMode::Resume, None)).unwrap();
    assert_eq!(results(&done.epochs), rows(straight_dir.path()));
    assert_eq!(rows(tmp.path()), rows(straight_dir.path()));
    let lr_of = |dir: &Path| std::fs::read_to_string(dir.join("lr.csv")).unwrap();
    assert_eq!(lr_of(tmp.path()), lr_of(straight_dir.path()));
}

#[test]
fn a_diverging_loss_stops_at_its_update_and_keeps_the_last_finite_checkpoint() {
    let _serial = serial();
    // Epoch 1 at lr 1e28 x 1e-30 = 0.01 is fine; epoch 2 at 1e28 overflows within a few updates.
    let sched = "type = \"linear\"\nstart_factor = 1e-30\nend_factor = 1.0\ntotal_iters = 1\nunit = \"epoch\"";
    let tmp = tempfile::tempdir().unwrap();
    let mut cfg = config(tmp.path(), sched, 3, 4, 1);
    cfg.optimizer.lr = 1e28;
    let err = training::train(&cfg, data(20), &quiet()).unwrap_err();
    let msg = err.to_string();
    assert!(msg.contains("at epoch 2, update "), "{msg}");
    assert!(msg.contains("learning rate 1e28"), "{msg}");
    assert!(
        msg.contains("The checkpoint of epoch 1 (finite weights) is kept"),
        "{msg}"
    );
    assert!(
        msg.contains("Lower [optimizer] lr") && msg.contains("in a new run"),
        "{msg}"
    );
    assert_eq!(err.exit_code(), 1);
    assert_eq!(rows(tmp.path()).len(), 1);
    assert_eq!(
        burn_lr_cifar::run::checkpoint::newest_intact(&tmp.path().join("checkpoint")).0,
        Some(1)
    );
    // `on_non_finite = "continue"` trains every epoch, as before.
    let other = tempfile::tempdir().unwrap();
    let mut cont = config_with(other.path(), sched, 3, 4, 1, "on_non_finite = \"continue\"");
    cont.optimizer.lr = 1e28;
    let summary = training::train(&cont, data(20), &quiet()).unwrap();
    assert_eq!(summary.epochs.len(), 3);
    assert!(!summary.epochs[2].train_loss.is_finite());
}

#[test]
fn an_interrupted_run_resumes_to_the_same_numbers() {
    let _serial = serial();
    let whole = tempfile::tempdir().unwrap();
    let a = training::train(&config(whole.path(), STEP, 2, 8, 1), data(20), &quiet()).unwrap();
    let tmp = tempfile::tempdir().unwrap();
    let cfg = config(tmp.path(), STEP, 2, 8, 1);
    training::train(&cfg, data(20), &opts(StartMode::New, Some(1))).unwrap();
    // A stop request (what Ctrl-C sends) during epoch 2: it ends after that update.
    let stop = StopRequest::new();
    stop.request();
    let err = training::train(
        &cfg,
        data(20),
        &TrainOptions {
            stop: Some(stop),
            ..opts(StartMode::Resume, None)
        },
    )
    .unwrap_err();
    let msg = err.to_string();
    assert!(
        msg.contains("interrupted in epoch 2") && msg.contains("checkpoint of epoch 1"),
        "{msg}"
    );
    assert_eq!(err.exit_code(), 130);
    let b = training::train(&cfg, data(20), &opts(StartMode::Resume, None)).unwrap();
    assert_eq!(results(&a.epochs), results(&b.epochs));
    assert_eq!(weights(a.model.as_ref().unwrap()), weights(b.model.as_ref().unwrap()));
}

#[test]
fn a_param_group_matching_nothing_is_an_error_listing_the_paths() {
    let _serial = serial();
    let tmp = tempfile::tempdir().unwrap();
    let mut cfg = config(tmp.path(), STEP, 1, 8, 1);
    cfg.param_groups = vec![toml::from_str("params = \"backbone\"\nlr = 0.01").unwrap()];
    let err = training::check_schedules(&cfg).unwrap_err().to_string();
    assert!(
        err.contains("\"backbone\"") && err.contains("matches no parameter"),
        "{err}"
    );
    assert!(err.contains("fc"), "{err}");
    // And nothing was written: the directory is still free for a corrected run.
    let err = training::train(&cfg, data(20), &quiet()).unwrap_err().to_string();
    assert!(err.contains("\"backbone\""), "{err}");
    assert!(!tmp.path().join("config.toml").exists());
}

#[test]
fn overwrite_never_deletes_what_no_run_wrote() {
    let _serial = serial();
    let tmp = tempfile::tempdir().unwrap();
    // An artifact directory pointed at a CIFAR-10 image folder: refused, with or without
    // --overwrite, and the images stay.
    let image = tmp.path().join("train/airplane/0.png");
    std::fs::create_dir_all(image.parent().unwrap()).unwrap();
    std::fs::write(&image, b"png").unwrap();
    let cfg = config(tmp.path(), STEP, 1, 8, 1);
    for start in [StartMode::New, StartMode::Overwrite] {
        let err = training::train(&cfg, data(20), &opts(start, None))
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("train/airplane") && err.contains("no burn-lr run wrote"),
            "{err}"
        );
    }
    assert!(image.is_file());
    // --overwrite deletes the run's own files only.
    let other = tempfile::tempdir().unwrap();
    let cfg = config(other.path(), STEP, 1, 8, 1);
    training::train(&cfg, data(20), &quiet()).unwrap();
    std::fs::write(other.path().join("notes.txt"), b"mine").unwrap();
    training::train(&cfg, data(20), &opts(StartMode::Overwrite, None)).unwrap();
    assert!(other.path().join("notes.txt").is_file());
}
