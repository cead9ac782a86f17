//! The `burn-lr` binary as a user types it: `schedule` previews, negative plateau metrics,
//! one-line config errors with exit code 2.

mod app_common;

use app_common::image_folder;
use std::path::PathBuf;
use std::process::{Command, Output};

fn write(dir: &tempfile::TempDir, name: &str, text: &str) -> PathBuf {
    let path = dir.path().join(name);
    std::fs::write(&path, text).unwrap();
    path
}

fn burn_lr(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_burn-lr"))
        .args(args)
        .output()
        .expect("run burn-lr")
}

fn preview(toml: &str, args: &[&str]) -> Output {
    let dir = tempfile::tempdir().unwrap();
    let path = write(&dir, "x.toml", toml);
    let mut all = vec!["schedule", "--config", path.to_str().unwrap()];
    all.extend_from_slice(args);
    burn_lr(&all)
}

fn rows(out: &Output) -> Vec<String> {
    assert!(out.status.success(), "stderr: {}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8(out.stdout.clone())
        .unwrap()
        .lines()
        .map(String::from)
        .collect()
}

fn one_line_error(out: &Output) -> String {
    assert_eq!(
        out.status.code(),
        Some(2),
        "stdout: {}",
        String::from_utf8_lossy(&out.stdout)
    );
    let err = String::from_utf8(out.stderr.clone()).unwrap();
    assert_eq!(err.lines().count(), 1, "not one line: {err}");
    assert!(err.starts_with("error: "), "{err}");
    err
}

/// clap's whole usage error: what is wrong (with its tip: valid values, a similar name), the
/// usage line, exit code 2.
fn usage_error(out: &Output) -> String {
    assert_eq!(
        out.status.code(),
        Some(2),
        "stdout: {}",
        String::from_utf8_lossy(&out.stdout)
    );
    let err = String::from_utf8(out.stderr.clone()).unwrap();
    assert!(err.starts_with("error: "), "{err}");
    assert!(err.trim_end().ends_with("For more information, try '--help'."), "{err}");
    assert!(!err.contains("panicked"), "{err}");
    err
}

#[test]
fn usage_errors_are_clap_s_whole_message() {
    let dir = tempfile::tempdir().unwrap();
    let config = write(&dir, "x.toml", "[scheduler]\ntype = \"fixed\"\n");
    let err = usage_error(&burn_lr(&["schedule", "--config", config.to_str().unwrap()]));
    assert!(err.contains("--steps <STEPS>"), "the missing argument is named: {err}");
    let err = usage_error(&burn_lr(&["train", "--device", "gpu"]));
    assert!(err.contains("possible values:") && err.contains("cpu"), "{err}");
    let err = usage_error(&burn_lr(&["trian"]));
    assert!(err.contains("similar subcommand exists: 'train'"), "{err}");
    let err = usage_error(&burn_lr(&["train", "--batch-size", "-5"]));
    assert!(err.contains("invalid value '-5' for '--batch-size"), "{err}");
}

#[test]
fn negative_plateau_metrics_are_accepted() {
    let toml = "[optimizer]\nlr = 1.0\n[scheduler]\ntype = \"reduce_on_plateau\"\nfactor = 0.5\npatience = 0\nthreshold_mode = \"abs\"\n";
    let split: &[&str] = &[
        "--steps",
        "8",
        "--steps-per-epoch",
        "2",
        "--metrics",
        "-0.70,-0.75,-0.70",
    ];
    let joined: &[&str] = &["--steps", "8", "--steps-per-epoch", "2", "--metrics=-0.70,-0.75,-0.70"];
    for args in [split, joined] {
        let r = rows(&preview(toml, args));
        assert_eq!(
            r,
            ["step,lr", "0,1.0", "1,1.0", "2,1.0", "3,1.0", "4,1.0", "5,1.0", "6,0.5", "7,0.5"],
            "{args:?}"
        );
    }
}

#[test]
fn linear_to_zero_is_exactly_zero() {
    let r = rows(&preview(
        "[optimizer]\nlr = 1.0\n[scheduler]\ntype = \"linear\"\nstart_factor = 0.1\nend_factor = 0.0\ntotal_iters = 3\n",
        &["--steps", "4"],
    ));
    assert_eq!(r[4], "3,0.0");
}

#[test]
fn one_cycle_total_steps_previews_longer_and_shorter() {
    let toml = "[optimizer]\nlr = 0.1\n[scheduler]\ntype = \"one_cycle\"\nmax_lr = 0.01\ntotal_steps = 50\n";
    let long = rows(&preview(toml, &["--steps", "53"]));
    assert_eq!(long.len(), 54);
    assert_eq!(long[50].split(',').nth(1), Some("4e-8"));
    assert_eq!(long[53].split(',').nth(1), Some("4e-8"));
    let short = rows(&preview(toml, &["--steps", "20"]));
    assert_eq!(short[..], long[..21]);
    let bad = one_line_error(&preview(
        &toml.replace("max_lr = 0.01", "max_lr = -0.1"),
        &["--steps", "53"],
    ));
    assert!(bad.contains("max_lr"), "{bad}");
    let bad = one_line_error(&preview(
        &toml.replace("max_lr = 0.01", "max_lr = 0.01\npct_start = 1.5"),
        &["--steps", "20"],
    ));
    assert!(bad.contains("pct_start"), "{bad}");
}

#[test]
fn pytorch_names_and_suggestions() {
    let ok = rows(&preview(
        "[optimizer]\nlr = 0.1\n[scheduler]\ntype = \"cosine_annealing_warm_restarts\"\nt_0 = 2\n",
        &["--steps", "3"],
    ));
    assert_eq!(ok.len(), 4);
    let err = one_line_error(&preview(
        "[optimizer]\nlr = 0.1\n[scheduler]\ntype = \"cosine_anealing\"\n",
        &["--steps", "3"],
    ));
    assert!(err.contains("did you mean `cosine_annealing`"), "{err}");
}

#[test]
fn config_errors_are_one_line_with_file_line_and_key() {
    let dir = tempfile::tempdir().unwrap();
    let train = write(
        &dir,
        "bad.toml",
        "[model]\narch = \"tiny\"\n[optimizer]\nname = \"sgd\"\nlr = 0.1\n[training]\nepochs = \"three\"\nbatch_size = 8\n",
    );
    let err = one_line_error(&burn_lr(&["train", "--config", train.to_str().unwrap()]));
    assert!(
        err.contains("bad.toml: line 7, column 10: [training] epochs: invalid type: string \"three\""),
        "{err}"
    );
    let sched = write(
        &dir,
        "sched.toml",
        "[optimizer]\nlr = 0.1\n[scheduler]\ntype = \"step\"\nstep_size = 3\nstepsize = 4\n",
    );
    let err = one_line_error(&burn_lr(&[
        "schedule",
        "--config",
        sched.to_str().unwrap(),
        "--steps",
        "3",
    ]));
    assert!(
        err.contains("sched.toml: line ") && err.contains("[scheduler]") && err.contains("unknown field `stepsize`"),
        "{err}"
    );
    let syntax = write(&dir, "syntax.toml", "[optimizer\nlr = 0.1\n");
    let err = one_line_error(&burn_lr(&[
        "schedule",
        "--config",
        syntax.to_str().unwrap(),
        "--steps",
        "3",
    ]));
    assert!(err.contains("syntax.toml: line 1, column"), "{err}");
}

#[test]
fn a_training_run_warns_once_about_a_one_cycle_length_and_needs_no_special_batch_size() {
    let dir = tempfile::tempdir().unwrap();
    image_folder(&dir.path().join("data"), 2);
    let config = |extra: &str| {
        write(
            &dir,
            "run.toml",
            &format!(
                "[model]\narch = \"tiny\"\n[optimizer]\nname = \"sgd\"\nlr = 0.1\n[scheduler]\ntype = \"one_cycle\"\n\
                 max_lr = 0.05\n{extra}[training]\nepochs = 2\nbatch_size = 4\ndevice = \"cpu\"\n"
            ),
        )
    };
    let train = |path: &PathBuf, art: &str| {
        burn_lr(&[
            "train",
            "--config",
            path.to_str().unwrap(),
            "--data-dir",
            dir.path().join("data").to_str().unwrap(),
            "--artifact-dir",
            dir.path().join(art).to_str().unwrap(),
        ])
    };
    // 20 images at batch 4: 5 updates per epoch, 10 in all; a declared cycle of 3 updates.
    let out = train(&config("total_steps = 3\n"), "a");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    let warnings: Vec<&str> = stderr.lines().filter(|l| l.starts_with("warning: one_cycle")).collect();
    assert_eq!(warnings.len(), 1, "{stderr}");
    assert!(
        warnings[0].contains("total_steps = 3") && warnings[0].contains("10 iterations"),
        "{stderr}"
    );
    // Without a length: a 10-update cycle (a 3-update warmup), no warning, no special batch size.
    let out = train(&config(""), "b");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    assert!(!stderr.contains("warning"), "{stderr}");
}

#[test]
fn schedule_epochs_and_plot() {
    let toml = "[optimizer]\nlr = 1.0\n[scheduler]\ntype = \"step\"\nstep_size = 1\ngamma = 0.5\n";
    let out = preview(toml, &["--epochs", "3", "--steps-per-epoch", "4"]);
    let r = rows(&out);
    assert_eq!(r.len(), 13);
    assert_eq!(r[12], "11,0.25");
    // A nested composite with a cycled momentum, drawn.
    let dir = tempfile::tempdir().unwrap();
    let cfg = write(
        &dir,
        "c.toml",
        "[scheduler]\ntype = \"sequential\"\nmilestones = [2]\n[[scheduler.schedulers]]\ntype = \"one_cycle\"\nmax_lr = 0.1\ntotal_steps = 20\n[[scheduler.schedulers]]\ntype = \"cosine_annealing\"\nt_max = 3\n[optimizer]\nlr = 0.1\n",
    );
    let png = dir.path().join("s.png");
    let out = burn_lr(&[
        "schedule",
        "--config",
        cfg.to_str().unwrap(),
        "--epochs",
        "5",
        "--steps-per-epoch",
        "10",
        "--plot",
        png.to_str().unwrap(),
    ]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let img = image::open(&png).unwrap();
    assert_eq!((img.width(), img.height()), (1200, 800));
    // A plateau preview with its metrics.
    let plateau = write(
        &dir,
        "p.toml",
        "[optimizer]\nlr = 1.0\n[scheduler]\ntype = \"reduce_on_plateau\"\npatience = 0\n",
    );
    let out = burn_lr(&[
        "schedule",
        "--config",
        plateau.to_str().unwrap(),
        "--epochs",
        "3",
        "--steps-per-epoch",
        "2",
        "--metrics",
        "1,1,1",
        "--plot",
        png.to_str().unwrap(),
    ]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    // --steps and --epochs together is clap's usage error.
    let err = usage_error(&preview(toml, &["--steps", "3", "--epochs", "2"]));
    assert!(err.contains("--epochs"), "{err}");
}

#[test]
fn plot_and_find_lr_refuse_bad_input_in_one_line() {
    let dir = tempfile::tempdir().unwrap();
    let err = one_line_error(&burn_lr(&["plot", dir.path().to_str().unwrap()]));
    assert!(err.contains("no lr.csv or metrics.csv"), "{err}");
    let err = one_line_error(&burn_lr(&["find-lr", "--num-iter", "1"]));
    assert!(err.contains("--num-iter") && err.contains(">= 2"), "{err}");
    let err = one_line_error(&burn_lr(&["find-lr", "--start-lr", "1", "--end-lr", "0.5"]));
    assert!(err.contains("--end-lr"), "{err}");
}

#[test]
fn piecewise_preview_reads_row_k_at_k_over_steps_per_epoch() {
    // PyTorch's LambdaLR over numpy.interp(k / 7, [0, 5, 24], [0, 1, 0]) (the library's golden
    // trace): the preview's row k is update k of a run with 7 updates per epoch.
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../tests/golden/piecewise_page_epoch.json");
    let text = std::fs::read_to_string(path).unwrap();
    let g: serde_json::Value = serde_json::from_str(&text).unwrap();
    // The numbers as written (serde_json's default float parsing can be one ulp off).
    let start = text.find("\"lrs\": [").unwrap() + "\"lrs\": [".len();
    let end = start + text[start..].find(']').unwrap();
    let lrs: Vec<f64> = text[start..end].split(',').map(|v| v.trim().parse().unwrap()).collect();
    assert_eq!(lrs.len(), g["lrs"].as_array().unwrap().len());
    let toml = format!("[optimizer]\nlr = 0.4\n[scheduler]\n{}", g["toml"].as_str().unwrap());
    let n = lrs.len().to_string();
    let r = rows(&preview(&toml, &["--steps", &n, "--steps-per-epoch", "7"]));
    assert_eq!(r[0], "step,lr");
    for (k, want) in lrs.iter().enumerate() {
        let (step, lr) = r[k + 1].split_once(',').unwrap();
        assert_eq!(
            (step.parse::<usize>().unwrap(), lr.parse::<f64>().unwrap()),
            (k, *want),
            "row {k}"
        );
    }
    // Knots that are not ascending: one line, exit 2.
    let bad = "[optimizer]\nlr = 0.4\n[scheduler]\ntype = \"piecewise_linear\"\nknots = [0, 5, 5]\nvalues = [0.0, 1.0, 0.0]\n";
    let err = one_line_error(&preview(bad, &["--steps", "3"]));
    assert!(
        err.contains("piecewise_linear") && err.contains("strictly ascending"),
        "{err}"
    );
}
