//! Inputs as users write them: a schedule preview from any part of a training config, a
//! suggestion for a misspelled schedule type, a subset larger than the data, and paths that are
//! files where a directory is expected (or the other way round). Each bad input is one line on
//! stderr with exit code 2, before anything is trained or written.

mod app_common;

use app_common::image_folder;
use std::path::Path;
use std::process::{Command, Output};

fn burn_lr(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_burn-lr"))
        .args(args)
        .output()
        .expect("run burn-lr")
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// The error of a refused command (exit code 2): one line, or clap's whole usage error for a
/// command line clap refuses.
fn refused(out: &Output) -> String {
    let err = stderr(out);
    assert_eq!(out.status.code(), Some(2), "{err}");
    if !err.trim_end().ends_with("For more information, try '--help'.") {
        assert_eq!(err.lines().count(), 1, "{err}");
    }
    assert!(err.starts_with("error: "), "{err}");
    err
}

fn preview(dir: &Path, text: &str) -> Output {
    let path = dir.join("part.toml");
    std::fs::write(&path, text).unwrap();
    burn_lr(&["schedule", "--config", path.to_str().unwrap(), "--steps", "4"])
}

const STEP: &str = "[scheduler]\ntype = \"step\"\nstep_size = 2\ngamma = 0.5\n";

#[test]
fn a_schedule_preview_takes_any_part_of_a_training_config() {
    let tmp = tempfile::tempdir().unwrap();
    let accepted = [
        // The optimizer table copied whole from a training config.
        format!("[optimizer]\nname = \"sgd\"\nlr = 1.0\nmomentum = 0.9\nnesterov = true\nweight_decay = 5e-4\n{STEP}"),
        format!("[optimizer]\nname = \"adamw\"\nlr = 1\nbeta1 = 0.9\nbeta2 = 0.99\neps = 1e-6\n{STEP}"),
        // Other tables, complete or not.
        format!("[model]\narch = \"resnet8\"\n[optimizer]\nlr = 1.0\n{STEP}[training]\nbatch_size = 64\nseed = 3\n"),
        format!("[data]\ntrain_limit = 100\naugment = false\n[optimizer]\nlr = 1.0\n{STEP}[training]\nepochs = 3\n"),
        format!("{STEP}[optimizer]\nlr = 1.0\n[[param_groups]]\nparams = \"fc\"\nlr = 0.1\n"),
        format!("{STEP}[optimizer]\nlr = 1.0\n[[param_groups]]\nlr = 0.1\n"),
        // A whole training config.
        format!(
            "[model]\narch = \"tiny\"\n[optimizer]\nname = \"sgd\"\nlr = 1.0\nmomentum = 0.9\n{STEP}[training]\n\
             epochs = 2\nbatch_size = 8\ndevice = \"cpu\"\n"
        ),
    ];
    for text in &accepted {
        let out = preview(tmp.path(), text);
        assert!(out.status.success(), "{text}\n{}", stderr(&out));
        let csv = String::from_utf8_lossy(&out.stdout).into_owned();
        assert_eq!(csv, "step,lr\n0,1.0\n1,1.0\n2,0.5\n3,0.5\n", "{text}");
    }
    // OneCycle sets its own LR: no [optimizer] at all, or one without lr, is fine.
    let one_cycle = "[scheduler]\ntype = \"one_cycle\"\nmax_lr = 0.1\n";
    for text in [
        one_cycle.to_string(),
        format!("[optimizer]\nname = \"sgd\"\nmomentum = 0.9\n{one_cycle}"),
    ] {
        let out = preview(tmp.path(), &text);
        assert!(out.status.success(), "{text}\n{}", stderr(&out));
    }
}

#[test]
fn a_schedule_preview_still_refuses_what_a_training_config_refuses() {
    let tmp = tempfile::tempdir().unwrap();
    for (text, says) in [
        (
            format!("[optimizer]\nlr = 1.0\nmomentun = 0.9\n{STEP}"),
            "line 3, column 1: [optimizer] momentun",
        ),
        (
            format!("[optimizer]\nlr = 1.0\nmomentum = \"high\"\n{STEP}"),
            "[optimizer] momentum",
        ),
        (
            format!("[optimizer]\nlr = 1.0\nmomentum = 1.5\n{STEP}"),
            "optimizer.momentum",
        ),
        (
            format!("[optimizer]\nname = \"adam\"\nlr = 1.0\n{STEP}"),
            "[optimizer] name",
        ),
        (
            format!("[optimizer]\nlr = 1.0\n{STEP}[trainig]\nepochs = 2\n"),
            "trainig",
        ),
        (
            format!("[optimizer]\nlr = 1.0\n{STEP}[training]\nepochs = 0\n"),
            "training.epochs",
        ),
        (
            format!("[optimizer]\nlr = 1.0\n{STEP}[model]\narch = \"resnet7\"\n"),
            "[model] arch",
        ),
        (
            format!("[optimizer]\nlr = 1.0\n{STEP}[data]\ntrain_limit = 0\n"),
            "data.train_limit",
        ),
        (
            format!("[optimizer]\nlr = 1.0\n{STEP}[[param_groups]]\nparams = \"fc\"\n[param_groups.scheduler]\ntype = \"step\"\nstep_size = 2\ngamma = 5.0\n"),
            "[[param_groups]] #1 (in the file's order): step: invalid `gamma` = 5",
        ),
        (
            format!("[optimizer]\nlr = 1.0\n{STEP}[[param_groups]]\nparams = \"fc\"\nlrr = 0.1\n"),
            "lrr",
        ),
        (
            format!("[optimizer]\nlr = 1.0\n{STEP}stepsize = 3\n"),
            "line 7, column 1: [scheduler] type = \"step\": `stepsize`",
        ),
        // A schedule that scales the base LR needs it.
        (STEP.to_string(), "[optimizer] lr is required"),
    ] {
        let err = refused(&preview(tmp.path(), &text));
        assert!(err.contains(says), "{text}\n{err}");
    }
}

#[test]
fn a_type_close_to_no_name_lists_the_types_without_a_guess() {
    let tmp = tempfile::tempdir().unwrap();
    for written in ["adam", "sgd", ""] {
        let text = format!("[optimizer]\nlr = 1.0\n[scheduler]\ntype = \"{written}\"\n");
        let err = refused(&preview(tmp.path(), &text));
        assert!(
            !err.contains("did you mean") && err.contains("(one of fixed, step"),
            "{written}: {err}"
        );
    }
}

#[test]
fn a_misspelled_type_suggests_the_name_the_user_meant() {
    let tmp = tempfile::tempdir().unwrap();
    for (written, suggested) in [
        (
            "cosine_warm",
            "`cosine_warm_restarts` (an alias of `cosine_annealing_warm_restarts`)",
        ),
        ("cosine_annealing_warm", "`cosine_annealing_warm_restarts`"),
        ("warm_restarts", "cosine_annealing_warm_restarts"),
        ("plateau", "reduce_on_plateau"),
        ("onecyclelr", "`one_cycle_lr` (an alias of `one_cycle`)"),
        ("cosine_restarts", "`cosine_with_restarts`"),
        ("exponential_decay", "`exponential`"),
    ] {
        let text = format!("[optimizer]\nlr = 1.0\n[scheduler]\ntype = \"{written}\"\n");
        let err = refused(&preview(tmp.path(), &text));
        let said = err.split("did you mean ").nth(1).unwrap_or_default();
        assert!(!said.is_empty(), "{written}: {err}");
        assert!(said.contains(suggested), "{written}: {err}");
        assert!(!err.contains(" in `scheduler`"), "{err}");
    }
}

/// A tiny CPU config training into `art`.
fn tiny(dir: &Path, art: &Path) -> String {
    std::fs::create_dir_all(dir).unwrap();
    let path = dir.join("tiny.toml");
    std::fs::write(
        &path,
        format!(
            "[model]\narch = \"tiny\"\n[optimizer]\nname = \"sgd\"\nlr = 0.05\n[training]\nepochs = 1\nbatch_size = 4\n\
             device = \"cpu\"\nartifact_dir = \"{}\"\n",
            art.display()
        ),
    )
    .unwrap();
    path.to_str().unwrap().to_string()
}

#[test]
fn a_subset_larger_than_the_data_names_both_numbers() {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("data");
    image_folder(&data, 2); // 20 training and 20 test images
    let art = tmp.path().join("run");
    let config = tiny(tmp.path(), &art);
    let data = data.to_str().unwrap();
    for (flag, says) in [
        (
            "--train-limit",
            "train_limit (--train-limit) = 60000: more than the 20 training images",
        ),
        (
            "--test-limit",
            "test_limit (--test-limit) = 60000: more than the 20 test images",
        ),
    ] {
        let out = burn_lr(&["train", "--config", &config, "--data-dir", data, flag, "60000"]);
        let err = refused(&out);
        assert!(err.contains(says), "{err}");
        assert!(!art.join("metrics.csv").exists(), "nothing was trained");
    }
    let out = burn_lr(&[
        "find-lr",
        "--config",
        &config,
        "--data-dir",
        data,
        "--train-limit",
        "21",
    ]);
    assert!(refused(&out).contains("more than the 20 training images"));
    // All of them is fine.
    let out = burn_lr(&["train", "--config", &config, "--data-dir", data, "--train-limit", "20"]);
    assert!(out.status.success(), "{}", stderr(&out));
}

#[test]
fn a_file_where_a_directory_belongs_is_one_line() {
    let tmp = tempfile::tempdir().unwrap();
    let file = tmp.path().join("a-file");
    std::fs::write(&file, b"not a directory").unwrap();
    let under = file.join("run");
    let config = tiny(tmp.path(), &tmp.path().join("run"));
    let missing = tmp.path().join("no-data");
    let (file_s, under_s, missing_s) = (
        file.to_str().unwrap(),
        under.to_str().unwrap(),
        missing.to_str().unwrap(),
    );
    let train = |art: &str, extra: &[&str]| {
        let mut args = vec![
            "train",
            "--config",
            &config,
            "--data-dir",
            missing_s,
            "--artifact-dir",
            art,
        ];
        args.extend_from_slice(extra);
        refused(&burn_lr(&args))
    };
    for err in [train(file_s, &[]), train(file_s, &["--resume"]), train(under_s, &[])] {
        assert!(err.contains(file_s) && err.contains("is a file"), "{err}");
        assert!(!err.contains("os error"), "{err}");
    }
    assert_eq!(std::fs::read(&file).unwrap(), b"not a directory");
    let cfg2 = tiny(tmp.path(), &tmp.path().join("run2"));
    let compare = [
        "compare",
        "--configs",
        &config,
        &cfg2,
        "--out",
        file_s,
        "--data-dir",
        missing_s,
    ];
    let err = refused(&burn_lr(&compare));
    assert!(err.contains("--out") && err.contains("is a file"), "{err}");
    let err = refused(&burn_lr(&[
        "find-lr",
        "--config",
        &config,
        "--out",
        file_s,
        "--data-dir",
        missing_s,
    ]));
    assert!(err.contains("--out") && err.contains("is a file"), "{err}");
    let err = refused(&burn_lr(&["plot", file_s]));
    assert!(err.contains("is a file"), "{err}");
    let err = refused(&burn_lr(&["plot", missing_s]));
    assert!(err.contains("does not exist"), "{err}");
    let schedule = tmp.path().join("s.toml");
    std::fs::write(&schedule, "[optimizer]\nlr = 1.0\n").unwrap();
    let schedule = schedule.to_str().unwrap();
    let dir = tmp.path().to_str().unwrap();
    let err = refused(&burn_lr(&[
        "schedule", "--config", schedule, "--steps", "3", "--plot", dir,
    ]));
    assert!(err.contains("--plot") && err.contains("is a directory"), "{err}");
    let png = file.join("x.png");
    let err = refused(&burn_lr(&[
        "schedule",
        "--config",
        schedule,
        "--steps",
        "3",
        "--plot",
        png.to_str().unwrap(),
    ]));
    assert!(err.contains("is a file"), "{err}");
    // --config that is a directory or missing; a data folder that is a file; empty paths (an
    // empty flag value is clap's error, an empty value in a config ours).
    let empty_dir = tiny(&tmp.path().join("sub"), Path::new(""));
    for (args, says) in [
        (vec!["train", "--config", dir], "--config"),
        (vec!["schedule", "--config", dir, "--steps", "3"], "--config"),
        (vec!["train", "--config", missing_s], "--config"),
        (
            vec!["train", "--config", &config, "--data-dir", file_s],
            "CIFAR-10 folder",
        ),
        (
            vec!["train", "--config", &config, "--data-dir", missing_s],
            "Run without --data-dir to download",
        ),
        (
            vec!["train", "--config", &empty_dir, "--data-dir", missing_s],
            "the path is empty",
        ),
        (
            vec!["train", "--config", &config, "--artifact-dir", ""],
            "a value is required",
        ),
    ] {
        let err = refused(&burn_lr(&args));
        assert!(err.contains(says) && !err.contains("os error"), "{args:?}: {err}");
    }
}

#[test]
fn a_folder_where_a_run_writes_a_file_and_a_stop_past_the_last_epoch_are_refused() {
    let tmp = tempfile::tempdir().unwrap();
    let art = tmp.path().join("run");
    std::fs::create_dir_all(art.join("metrics.csv")).unwrap();
    let config = tiny(tmp.path(), &art);
    let missing = tmp.path().join("no-data");
    let missing = missing.to_str().unwrap();
    let err = refused(&burn_lr(&["train", "--config", &config, "--data-dir", missing]));
    assert!(err.contains("metrics.csv (a folder"), "{err}");
    assert!(art.join("metrics.csv").is_dir(), "nothing deleted");
    let err = refused(&burn_lr(&[
        "train",
        "--config",
        &config,
        "--data-dir",
        missing,
        "--overwrite",
    ]));
    assert!(err.contains("metrics.csv (a folder"), "{err}");
    let err = refused(&burn_lr(&["train", "--config", &config, "--stop-after-epoch", "2"]));
    assert!(
        err.contains("--stop-after-epoch 2: the run has 1 epoch ([training] epochs"),
        "{err}"
    );
    // compare's and find-lr's own files: checked before anything trains.
    let out = tmp.path().join("cmp");
    std::fs::create_dir_all(out.join("summary.md")).unwrap();
    let other = tiny(tmp.path(), &tmp.path().join("run2"));
    let err = refused(&burn_lr(&[
        "compare",
        "--configs",
        &config,
        &other,
        "--out",
        out.to_str().unwrap(),
        "--data-dir",
        missing,
    ]));
    assert!(
        err.contains("summary.md: is a directory where `burn-lr compare` writes"),
        "{err}"
    );
    std::fs::create_dir_all(out.join("lr_find.csv")).unwrap();
    let err = refused(&burn_lr(&[
        "find-lr",
        "--config",
        &config,
        "--out",
        out.to_str().unwrap(),
        "--data-dir",
        missing,
    ]));
    assert!(
        err.contains("lr_find.csv: is a directory where `burn-lr find-lr` writes"),
        "{err}"
    );
}

#[test]
fn find_lr_ignores_the_test_subset_it_never_reads() {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("data");
    image_folder(&data, 2);
    let config = tiny(tmp.path(), &tmp.path().join("run"));
    let text = std::fs::read_to_string(&config).unwrap();
    std::fs::write(&config, format!("{text}[data]\ntest_limit = 1000\n")).unwrap();
    let out = tmp.path().join("find");
    let out = burn_lr(&[
        "find-lr",
        "--config",
        &config,
        "--data-dir",
        data.to_str().unwrap(),
        "--num-iter",
        "3",
        "--out",
        out.to_str().unwrap(),
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
}
