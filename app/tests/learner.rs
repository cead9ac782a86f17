//! Real Burn `Learner` runs (Burn's flex CPU backend, a tiny ResNet, synthetic images) proving the
//! stepping: one scheduler step per optimizer update, epoch-unit schedules change only at epoch
//! boundaries, OneCycle spans exactly the run (gradient accumulation included), the plateau
//! scheduler sees the validation metric, and resume continues exactly; `label_smoothing` reaches
//! the loss and is kept on resume.

mod app_common;

use app_common::{config, config_with, data, quiet};
use burn_lr::schedule::*;
use burn_lr_cifar::run::{self as training, TrainOptions};
use std::path::Path;

/// The LR Burn logged for each training iteration (batch) of `epoch`.
fn logged_lrs(dir: &Path, epoch: usize) -> Vec<f64> {
    let path = dir
        .join("train")
        .join(format!("epoch-{epoch}"))
        .join("Learning_Rate.log");
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    text.lines()
        .filter(|l| !l.ends_with("final"))
        .map(|l| l.split(',').next().unwrap().parse::<f64>().unwrap())
        .collect()
}

#[test]
fn epoch_unit_schedule_changes_only_at_epoch_boundaries() {
    let dir = tempfile::tempdir().unwrap();
    // 20 images, batch 8: 3 batches = 3 optimizer updates per epoch.
    let cfg = config(dir.path(), "type = \"step\"\nstep_size = 1\ngamma = 0.5", 3, 8, 1);
    let summary = training::train(&cfg, data(20), &quiet()).unwrap();
    assert_eq!(summary.updates_per_epoch, 3);
    for (epoch, lr) in [(1, 0.1), (2, 0.05), (3, 0.025)] {
        assert_eq!(logged_lrs(dir.path(), epoch), vec![lr; 3], "epoch {epoch}");
    }
    // The per-epoch summary and metrics.csv.
    assert_eq!(summary.epochs.len(), 3);
    assert_eq!(summary.epochs[2].lr, 0.025);
    assert!(summary
        .epochs
        .iter()
        .all(|r| r.train_loss.is_finite() && r.val_loss.is_finite()));
    let csv = burn_lr_cifar::run::artifacts::read_metrics_csv(&dir.path().join("metrics.csv")).unwrap();
    assert_eq!(csv, summary.epochs);
    assert!(dir.path().join("checkpoint/scheduler-3.bpk").is_file());
    assert!(dir.path().join("config.toml").is_file());
}

#[test]
fn one_cycle_spans_the_run_with_gradient_accumulation() {
    let dir = tempfile::tempdir().unwrap();
    // 20 images, batch 4: 5 batches per epoch; accumulation 2: updates after batches 2, 4 and
    // the leftover 5th, so 3 updates per epoch and 6 in the run.
    let cfg = config(
        dir.path(),
        "type = \"one_cycle\"\nmax_lr = 0.4\npct_start = 0.5",
        2,
        4,
        2,
    );
    let summary = training::train(&cfg, data(20), &quiet()).unwrap();
    assert_eq!(summary.updates_per_epoch, 3);
    let expected = OneCycleLrSchedulerConfig::new(0.4)
        .with_pct_start(0.5)
        .with_total_steps(6)
        .init()
        .unwrap();
    let mut k = 0;
    for epoch in 1..=2 {
        let lrs = logged_lrs(dir.path(), epoch);
        assert_eq!(lrs.len(), 5, "one LR entry per batch");
        // Batches 2, 4, 5 (1-based) are the ones followed by an optimizer update.
        for batch in [1, 3, 4] {
            assert_eq!(lrs[batch], expected.lr_at_update(k), "epoch {epoch}, update {k}");
            k += 1;
        }
    }
    // The last update of the run used the cycle's final (minimum) LR.
    assert_eq!(expected.lr_at_update(5), 0.4 / 25.0 / 1e4);
}

#[test]
fn plateau_is_fed_the_validation_loss_and_survives_resume() {
    // threshold_mode abs with a huge threshold: the first epoch improves on +inf, every later
    // epoch is bad; patience 0 halves the LR after each bad epoch, whatever the loss values.
    let sched =
        "type = \"reduce_on_plateau\"\nfactor = 0.5\npatience = 0\nthreshold = 1000.0\nthreshold_mode = \"abs\"";
    let dir = tempfile::tempdir().unwrap();
    let cfg = config(dir.path(), sched, 4, 8, 1);
    let first = TrainOptions {
        stop_after_epoch: Some(2),
        ..quiet()
    };
    training::train(&cfg, data(20), &first).unwrap();
    assert_eq!(logged_lrs(dir.path(), 1), vec![0.1; 3]);
    assert_eq!(logged_lrs(dir.path(), 2), vec![0.1; 3]); // epoch 1 improved
                                                         // Epoch 2's metric is inside the epoch-2 checkpoint: resuming applies it from epoch 3 on,
                                                         // and `best` from epoch 1 survives, so epoch 3 is bad again.
    let resume = TrainOptions {
        start: burn_lr_cifar::run::dir::StartMode::Resume,
        ..quiet()
    };
    let summary = training::train(&cfg, data(20), &resume).unwrap();
    assert_eq!(logged_lrs(dir.path(), 3), vec![0.05; 3]);
    assert_eq!(logged_lrs(dir.path(), 4), vec![0.025; 3]);
    let lrs: Vec<f64> = summary.epochs.iter().map(|r| r.lr).collect();
    assert_eq!(lrs, vec![0.1, 0.1, 0.05, 0.025]);
}

#[test]
fn plateau_follows_the_real_validation_loss() {
    let sched = "type = \"reduce_on_plateau\"\nfactor = 0.5\npatience = 0\nthreshold = 0.0";
    let dir = tempfile::tempdir().unwrap();
    let cfg = config(dir.path(), sched, 4, 8, 1);
    let summary = training::train(&cfg, data(20), &quiet()).unwrap();
    // Replay the logged validation losses through PyTorch's rule.
    let mut s = ReduceLrOnPlateauSchedulerConfig {
        factor: 0.5,
        patience: 0,
        threshold: 0.0,
        ..Default::default()
    }
    .init(0.1)
    .unwrap();
    let mut expected = vec![0.1];
    for row in &summary.epochs[..3] {
        expected.push(s.report(row.val_loss));
    }
    for (epoch, lr) in expected.iter().enumerate() {
        assert_eq!(logged_lrs(dir.path(), epoch + 1), vec![*lr; 3], "epoch {}", epoch + 1);
    }
}

#[test]
fn resume_reproduces_the_uninterrupted_schedule() {
    let sched = "type = \"one_cycle\"\nmax_lr = 0.4";
    let whole = tempfile::tempdir().unwrap();
    training::train(&config(whole.path(), sched, 3, 8, 1), data(20), &quiet()).unwrap();

    let split = tempfile::tempdir().unwrap();
    let cfg = config(split.path(), sched, 3, 8, 1);
    training::train(
        &cfg,
        data(20),
        &TrainOptions {
            stop_after_epoch: Some(1),
            ..quiet()
        },
    )
    .unwrap();
    training::train(
        &cfg,
        data(20),
        &TrainOptions {
            start: burn_lr_cifar::run::dir::StartMode::Resume,
            ..quiet()
        },
    )
    .unwrap();
    for epoch in 1..=3 {
        assert_eq!(
            logged_lrs(split.path(), epoch),
            logged_lrs(whole.path(), epoch),
            "epoch {epoch}"
        );
    }
    let rows = burn_lr_cifar::run::artifacts::read_metrics_csv(&split.path().join("metrics.csv")).unwrap();
    assert_eq!(rows.iter().map(|r| r.epoch).collect::<Vec<_>>(), vec![1, 2, 3]);
}

#[test]
fn resume_with_another_schedule_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = config(dir.path(), "type = \"step\"\nstep_size = 1", 2, 8, 1);
    training::train(
        &cfg,
        data(20),
        &TrainOptions {
            stop_after_epoch: Some(1),
            ..quiet()
        },
    )
    .unwrap();
    let other = config(dir.path(), "type = \"step\"\nstep_size = 2", 2, 8, 1);
    let err = training::train(
        &other,
        data(20),
        &TrainOptions {
            start: burn_lr_cifar::run::dir::StartMode::Resume,
            ..quiet()
        },
    )
    .unwrap_err()
    .to_string();
    assert!(
        err.contains("[scheduler] step_size: 1 in the checkpoint, 2 now"),
        "{err}"
    );
    // And --resume with nothing to resume from.
    let empty = tempfile::tempdir().unwrap();
    let err = training::train(
        &config(empty.path(), "type = \"fixed\"", 1, 8, 1),
        data(20),
        &TrainOptions {
            start: burn_lr_cifar::run::dir::StartMode::Resume,
            ..quiet()
        },
    )
    .unwrap_err()
    .to_string();
    assert!(err.contains("no complete checkpoint"), "{err}");
}

#[test]
fn label_smoothing_is_in_the_loss_and_a_resume_keeps_it() {
    let sched = "type = \"fixed\"";
    let (plain, smooth) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let a = training::train(&config(plain.path(), sched, 1, 8, 1), data(20), &quiet()).unwrap();
    let cfg = config_with(smooth.path(), sched, 2, 8, 1, "label_smoothing = 0.3");
    let stop = TrainOptions {
        stop_after_epoch: Some(1),
        ..quiet()
    };
    let b = training::train(&cfg, data(20), &stop).unwrap();
    // The same seed, weights and batches: only the loss's targets differ.
    assert_ne!(a.epochs[0].train_loss, b.epochs[0].train_loss);
    assert!(b.epochs[0].train_loss.is_finite() && b.epochs[0].val_loss.is_finite());
    let resume = TrainOptions {
        start: burn_lr_cifar::run::dir::StartMode::Resume,
        ..quiet()
    };
    let other = config_with(smooth.path(), sched, 2, 8, 1, "label_smoothing = 0.1");
    let err = training::train(&other, data(20), &resume).unwrap_err().to_string();
    assert!(
        err.contains("[training] label_smoothing: 0.3 in the checkpoint, 0.1 now"),
        "{err}"
    );
    training::train(&cfg, data(20), &resume).unwrap();
    let rows = burn_lr_cifar::run::artifacts::read_metrics_csv(&smooth.path().join("metrics.csv")).unwrap();
    assert_eq!(rows.len(), 2);
    assert_eq!(rows[0].train_loss, b.epochs[0].train_loss);
}
