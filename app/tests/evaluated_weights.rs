//! Runs that validate and keep other weights than they step (issue 30): `[averaging]` (SWA,
//! EMA) and the schedule-free optimizers. Both models' validation in every row, the average or
//! `x` kept, a resume that ends where the straight run ends, refusals by name.

mod app_common;

use app_common::{config_with, data, quiet, saved_weights, serial, weights};
use burn_lr_cifar::config::TrainConfig;
use burn_lr_cifar::run::artifacts::{read_metrics_csv, EpochRecord, METRICS_HEADER_LIVE};
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

/// A row's epoch, losses, accuracy, LR and the stepped model's validation.
type Row = (usize, f64, f64, f64, f64, Option<(f64, f64)>);

/// Every number of a row but its wall time.
fn results(rows: &[EpochRecord]) -> Vec<Row> {
    rows.iter()
        .map(|r| (r.epoch, r.train_loss, r.val_loss, r.val_acc, r.lr, r.live))
        .collect()
}

/// A tiny run with `table` appended after `[training]` (an `[averaging]` table, or nothing) and
/// `optimizer` in place of SGD's name.
fn cfg(dir: &Path, epochs: usize, optimizer: &str, table: &str) -> TrainConfig {
    let mut c = config_with(dir, STEP, epochs, 8, 1, table);
    if !optimizer.is_empty() {
        let text = toml::to_string(&c)
            .unwrap()
            .replace("name = \"sgd\"", &format!("name = \"{optimizer}\""));
        c = TrainConfig::from_toml(&text).unwrap();
    }
    c
}

/// A tiny 3-epoch Schedule-Free AdamW run at a constant LR of 0.01 into `dir`.
fn schedule_free_adamw(dir: &Path) -> TrainConfig {
    let mut c = cfg(dir, 3, "adamw_schedule_free", "");
    c.scheduler = toml::from_str("type = \"fixed\"").unwrap();
    c.optimizer.lr = 0.01;
    c
}

/// The straight run and the same run stopped after epoch 1 and 2 and resumed: equal rows, equal
/// kept weights. Returns the straight run's rows.
fn straight_and_resumed(make: impl Fn(&Path) -> TrainConfig) -> Vec<EpochRecord> {
    let whole = tempfile::tempdir().unwrap();
    let a = training::train(&make(whole.path()), data(24), &quiet()).unwrap();
    let split = tempfile::tempdir().unwrap();
    training::train(&make(split.path()), data(24), &opts(StartMode::New, Some(1))).unwrap();
    training::train(&make(split.path()), data(24), &opts(StartMode::Resume, Some(2))).unwrap();
    let b = training::train(&make(split.path()), data(24), &opts(StartMode::Resume, None)).unwrap();
    let on_disk = |dir: &Path| read_metrics_csv(&dir.join("metrics.csv")).unwrap();
    assert_eq!(results(&on_disk(whole.path())), results(&on_disk(split.path())));
    assert_eq!(results(&a.epochs), results(&b.epochs));
    assert_eq!(weights(a.model.as_ref().unwrap()), weights(b.model.as_ref().unwrap()));
    // model.bpk holds the kept weights (the average or x), the record of the model alone.
    let kept = weights(a.model.as_ref().unwrap());
    for dir in [whole.path(), split.path()] {
        assert!(
            saved_weights(&dir.join("model.bpk")) == Some(kept.clone()),
            "{}",
            dir.display()
        );
    }
    let csv = std::fs::read_to_string(whole.path().join("metrics.csv")).unwrap();
    assert!(csv.starts_with(METRICS_HEADER_LIVE), "{csv}");
    a.epochs
}

#[test]
fn swa_validates_the_average_beside_the_stepped_model_and_resumes_exactly() {
    let _serial = serial();
    let table = "[averaging]\nkind = \"swa\"\nstart_epoch = 2\nupdate_bn_batches = 2";
    let rows = straight_and_resumed(|dir| cfg(dir, 4, "", table));
    assert_eq!(rows.len(), 4);
    // Epoch 1: no average yet, the stepped model is the validated one.
    assert_eq!(rows[0].live, Some((rows[0].val_loss, rows[0].val_acc)));
    // From epoch 3 the average (two models, statistics recomputed) is not the stepped model.
    for r in &rows[2..] {
        let (loss, _) = r.live.unwrap();
        assert!(loss.is_finite() && loss != r.val_loss, "{r:?}");
    }
}

#[test]
fn ema_every_two_updates_from_update_3_resumes_exactly() {
    let _serial = serial();
    let table = "[averaging]\nkind = \"ema\"\ndecay = 0.5\nstart_update = 3\nevery = 2\nuse_buffers = true";
    let rows = straight_and_resumed(|dir| cfg(dir, 3, "", table));
    // 3 updates per epoch: the first average after update 3, the end of epoch 1.
    assert!(rows.iter().all(|r| r.live.is_some()));
    assert_ne!(rows[2].live.unwrap().0, rows[2].val_loss);
}

#[test]
fn schedule_free_adamw_validates_x_and_resumes_exactly() {
    let _serial = serial();
    let rows = straight_and_resumed(|dir| {
        let mut c = schedule_free_adamw(dir);
        c.optimizer.warmup_steps = Some(2);
        c
    });
    for r in &rows {
        let (loss, _) = r.live.unwrap();
        assert!(loss.is_finite() && loss != r.val_loss, "x and y differ: {r:?}");
    }
}

#[test]
fn schedule_free_sgd_trains_under_its_reference_name() {
    let _serial = serial();
    let tmp = tempfile::tempdir().unwrap();
    let mut c = cfg(tmp.path(), 2, "SGDScheduleFree", "");
    c.scheduler = toml::from_str("type = \"fixed\"").unwrap();
    let run = training::train(&c, data(24), &quiet()).unwrap();
    assert!(run.epochs.iter().all(|r| r.val_loss.is_finite() && r.live.is_some()));
}

#[test]
fn a_resume_that_adds_or_changes_the_average_is_refused_by_name() {
    let _serial = serial();
    let tmp = tempfile::tempdir().unwrap();
    training::train(&cfg(tmp.path(), 3, "", ""), data(24), &opts(StartMode::New, Some(1))).unwrap();
    let averaged = cfg(tmp.path(), 3, "", "[averaging]\nkind = \"ema\"");
    let err = training::train(&averaged, data(24), &opts(StartMode::Resume, None)).unwrap_err();
    assert_eq!(err.exit_code(), 2);
    assert!(
        err.to_string()
            .contains("[averaging] kind: (not set) in the checkpoint, ema now"),
        "{err}"
    );
    let other = tempfile::tempdir().unwrap();
    training::train(
        &cfg(other.path(), 3, "", "[averaging]\nkind = \"ema\""),
        data(24),
        &opts(StartMode::New, Some(1)),
    )
    .unwrap();
    // A start after the run's last update would average nothing: refused before training.
    let late = cfg(tmp.path(), 3, "", "[averaging]\nkind = \"ema\"\nstart_update = 10");
    let err = training::train(&late, data(24), &opts(StartMode::Overwrite, None)).unwrap_err();
    assert_eq!(err.exit_code(), 2);
    assert!(
        err.to_string()
            .contains("start_update = 10: after the run's last optimizer update (3 epochs x 3 updates = 9)"),
        "{err}"
    );
    // An `every` that never comes again within the run: an average of one model, refused.
    let rare = cfg(
        tmp.path(),
        3,
        "",
        "[averaging]\nkind = \"ema\"\nstart_update = 4\nevery = 6",
    );
    let err = training::train(&rare, data(24), &opts(StartMode::Overwrite, None)).unwrap_err();
    assert_eq!(err.exit_code(), 2);
    assert!(
        err.to_string().contains("every = 6: from start_update = 4") && err.to_string().contains("at most 5 here"),
        "{err}"
    );
    let fits = cfg(
        tmp.path(),
        3,
        "",
        "[averaging]\nkind = \"ema\"\nstart_update = 4\nevery = 5",
    );
    burn_lr_cifar::run::weights::check_start(&fits, 3).unwrap();
    let decay = cfg(other.path(), 3, "", "[averaging]\nkind = \"ema\"\ndecay = 0.9");
    let err = training::train(&decay, data(24), &opts(StartMode::Resume, None)).unwrap_err();
    assert!(err.to_string().contains("[averaging] decay"), "{err}");
}

#[test]
fn an_ema_with_decay_0_validates_as_the_stepped_model_does() {
    // decay 0 with buffers: the average is a copy of the model after every update, so both
    // columns are one model measured two ways (Burn's metrics and the live observer).
    let _serial = serial();
    let tmp = tempfile::tempdir().unwrap();
    let table = "[averaging]\nkind = \"ema\"\ndecay = 0.0\nuse_buffers = true";
    let run = training::train(&cfg(tmp.path(), 2, "", table), data(24), &quiet()).unwrap();
    for r in &run.epochs {
        let (loss, acc) = r.live.unwrap();
        assert_eq!(acc, r.val_acc, "{r:?}");
        assert!((loss - r.val_loss).abs() <= 1e-6 * r.val_loss.abs(), "{r:?}");
    }
}

#[test]
fn schedule_free_without_its_kept_x_trains_the_last_epoch_again_to_write_it() {
    // x's BatchNorm statistics are recomputed over the last epoch's batches, which no
    // checkpoint holds: a run that stopped before writing model.bpk trains that epoch again.
    let _serial = serial();
    let tmp = tempfile::tempdir().unwrap();
    let c = schedule_free_adamw(tmp.path());
    let straight = training::train(&c, data(24), &quiet()).unwrap();
    let read = |name: &str| std::fs::read(tmp.path().join(name)).unwrap();
    let kept = tmp.path().join("model.bpk");
    let x = saved_weights(&kept).unwrap();
    assert_eq!(x, weights(straight.model.as_ref().unwrap()));
    let (metrics, lr) = (read("metrics.csv"), read("lr.csv"));
    std::fs::remove_file(&kept).unwrap();
    let resumed = training::train(&c, data(24), &opts(StartMode::Resume, None)).unwrap();
    assert_eq!(saved_weights(&kept), Some(x));
    assert_eq!(results(&resumed.epochs), results(&straight.epochs));
    assert_eq!(read("lr.csv"), lr);
    let rows = |bytes: &[u8]| {
        results(
            &burn_lr_cifar::run::artifacts::parse_metrics_csv(
                std::str::from_utf8(bytes).unwrap(),
                Path::new("metrics.csv"),
            )
            .unwrap(),
        )
    };
    assert_eq!(rows(&read("metrics.csv")), rows(&metrics));
}
