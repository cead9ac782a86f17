//! Every shipped `configs/*.toml` (and `configs/*/*.toml`) parses, validates and builds its schedule (and each parameter
//! group's) for the run it describes, with no length warning; a bad schedule fails before any
//! data is read; the ResNet-9 recipe (piecewise-linear LR, label smoothing, cutout) trains on
//! the CPU.

mod app_common;

use burn_lr::learner::LearnerRun;
use burn_lr_cifar::config::TrainConfig;
use burn_lr_cifar::run::check_schedules;

#[test]
fn every_shipped_config_builds_its_schedule() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../configs");
    // configs/*.toml and one level of folders (configs/cpu-compare/, configs/article/).
    let mut paths: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .flat_map(|p| {
            if p.is_dir() {
                std::fs::read_dir(&p).unwrap().map(|e| e.unwrap().path()).collect()
            } else {
                vec![p]
            }
        })
        .filter(|p| p.extension().is_some_and(|x| x == "toml"))
        .collect();
    paths.sort();
    assert!(paths.len() >= 20, "{paths:?}");
    for path in paths {
        let cfg = TrainConfig::from_file(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        check_schedules(&cfg).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        let t = &cfg.training;
        let images = cfg.data.train_limit.unwrap_or(50_000);
        let run = LearnerRun::new(images, t.batch_size, t.epochs)
            .with_grad_accumulation(t.grad_accumulation)
            .with_devices(t.devices.len())
            .run_info(cfg.optimizer.lr)
            .unwrap();
        assert!(cfg.scheduler.length_warnings(&run).is_empty(), "{}", path.display());
        let mut s = cfg.scheduler.init(&run).unwrap();
        for _ in 0..run.total_updates.min(20_000) {
            let lr = burn::lr_scheduler::LrScheduler::step(&mut s);
            assert!(lr.is_finite() && lr >= 0.0, "{}: lr {lr}", path.display());
        }
    }
}

#[test]
fn a_bad_schedule_fails_before_the_data_is_read() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("bad.toml");
    std::fs::write(
        &path,
        "[model]\narch = \"tiny\"\n[optimizer]\nname = \"sgd\"\nlr = 0.1\n[scheduler]\ntype = \"one_cycle\"\n\
         max_lr = 0.1\npct_start = 1.5\n[training]\nepochs = 2\nbatch_size = 8\n",
    )
    .unwrap();
    let start = std::time::Instant::now();
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_burn-lr"))
        .args([
            "train",
            "--config",
            path.to_str().unwrap(),
            "--data-dir",
            "/nonexistent/cifar10",
        ])
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(err.contains("pct_start") && !err.contains("nonexistent"), "{err}");
    assert!(start.elapsed().as_secs() < 10);
}

#[test]
fn the_resnet9_recipe_trains_a_few_updates_on_the_cpu() {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../configs/gpu/resnet9-dawn.toml");
    let mut cfg = TrainConfig::from_file(&path).unwrap();
    assert_eq!(
        (cfg.data.cutout, cfg.training.label_smoothing, cfg.training.epochs),
        (Some(8), 0.2, 24)
    );
    // Its model, data augmentation, loss, optimizer and schedule; 2 epochs of 2 updates of 8
    // images instead of 24 of 98 of 512.
    let dir = tempfile::tempdir().unwrap();
    cfg.training.epochs = 2;
    cfg.training.batch_size = 8;
    cfg.training.device = burn_lr_cifar::device::DeviceName::Cpu;
    cfg.training.artifact_dir = dir.path().into();
    let summary = burn_lr_cifar::run::train(&cfg, app_common::data(16), &app_common::quiet()).unwrap();
    assert_eq!(summary.updates_per_epoch, 2);
    for row in &summary.epochs {
        assert!(row.train_loss.is_finite() && row.val_loss.is_finite(), "{row:?}");
    }
    // Page's schedule read at every update: lr = 0.4 * interp(k / 2, [0, 5, 24], [0, 1, 0]),
    // in numpy.interp's arithmetic (slope 1 / 5 times the distance from the knot 0).
    let lrs: Vec<f64> = burn_lr::monitor::read_lr_csv(&dir.path().join("lr.csv"))
        .unwrap()
        .rows
        .iter()
        .map(|r| r.lr)
        .collect();
    let page = |k: f64| 0.4 * (1.0 / 5.0 * (k / 2.0));
    assert_eq!(lrs, [page(0.0), page(1.0), page(2.0), page(3.0)]);
}
