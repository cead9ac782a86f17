//! `burn-lr compare` as a user runs it: two configs on the same data, `summary.md` with the
//! target reached, overlay charts, each run in its own directory; configs that would not see
//! the same data, a bad target and an occupied directory are refused before any training.

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

/// A tiny config (`tiny` model, batch 4) with `scheduler` and `extra` lines in `[data]`.
fn config(dir: &Path, name: &str, scheduler: &str, data: &str) -> String {
    let path = dir.join(format!("{name}.toml"));
    std::fs::write(
        &path,
        format!(
            "[model]\narch = \"tiny\"\n[data]\n{data}\n[optimizer]\nname = \"sgd\"\nlr = 0.05\n[scheduler]\n{scheduler}\n\
             [training]\nepochs = 2\nbatch_size = 4\ndevice = \"cpu\"\nseed = 7\n"
        ),
    )
    .unwrap();
    path.to_str().unwrap().to_string()
}

#[test]
fn two_configs_give_a_summary_charts_and_one_run_directory_each() {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("data");
    image_folder(&data, 2);
    let fixed = config(tmp.path(), "fixed", "type = \"fixed\"", "");
    let step = config(tmp.path(), "step", "type = \"step\"\nstep_size = 1\ngamma = 0.5", "");
    let out = tmp.path().join("cmp");
    let (d, o) = (data.to_str().unwrap(), out.to_str().unwrap());
    let args = ["compare", "--configs", &fixed, &step, "--data-dir", d, "--out", o];
    let run = burn_lr(&args);
    assert!(run.status.success(), "{}", stderr(&run));
    let md = std::fs::read_to_string(out.join("summary.md")).unwrap();
    assert!(md.contains("--configs"), "the command is recorded: {md}");
    let rows: Vec<&str> = md
        .lines()
        .filter(|l| l.starts_with("| fixed") || l.starts_with("| step"))
        .collect();
    assert_eq!(rows.len(), 2, "{md}");
    // The target is the first run's final accuracy, which the first run reaches by epoch 2.
    let metrics = std::fs::read_to_string(out.join("fixed/metrics.csv")).unwrap();
    let final_acc: f64 = metrics
        .lines()
        .last()
        .unwrap()
        .split(',')
        .nth(3)
        .unwrap()
        .parse()
        .unwrap();
    assert!(md.contains(&format!("Target: {final_acc:.2}%")), "{md}");
    let cells: Vec<&str> = rows[0].split('|').map(str::trim).collect();
    assert_eq!(cells[1..4], ["fixed", "fixed", "2/2"], "{md}");
    assert!(["1", "2"].contains(&cells[6]), "epochs to target: {md}");
    assert_eq!(cells[5], format!("{final_acc:.2}%"), "{md}");
    // Each run is a whole run directory; the step run's lr.csv halves the LR every 5 updates.
    let lr = std::fs::read_to_string(out.join("step/lr.csv")).unwrap();
    let lrs: Vec<f64> = lr
        .lines()
        .skip(1)
        .map(|l| l.split(',').nth(2).unwrap().parse().unwrap())
        .collect();
    assert_eq!(lrs, [vec![0.05; 5], vec![0.025; 5]].concat());
    for png in ["compare_accuracy.png", "compare_lr.png"] {
        let img = image::open(out.join(png)).unwrap();
        assert_eq!((img.width(), img.height()), (1200, 800), "{png}");
    }
    // The same command again: the run directories hold runs; refused before training, exit 2.
    let again = burn_lr(&args);
    assert_eq!(again.status.code(), Some(2), "{}", stderr(&again));
    assert!(stderr(&again).contains("--overwrite"), "{}", stderr(&again));
    // --resume continues a comparison: the finished run is kept as it is, the missing one trains.
    std::fs::remove_dir_all(out.join("step")).unwrap();
    let resumed = burn_lr(&[&args[..], &["--resume"]].concat());
    assert!(resumed.status.success(), "{}", stderr(&resumed));
    assert_eq!(std::fs::read_to_string(out.join("fixed/metrics.csv")).unwrap(), metrics);
    assert_eq!(std::fs::read_to_string(out.join("step/lr.csv")).unwrap(), lr);
    let md_again = std::fs::read_to_string(out.join("summary.md")).unwrap();
    assert!(
        md_again.contains(rows[0]) && md_again.contains(&format!("Target: {final_acc:.2}%")),
        "{md_again}"
    );
}

#[test]
fn configs_that_would_not_see_the_same_data_or_a_bad_target_are_refused_in_one_line() {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("data");
    image_folder(&data, 2);
    let d = data.to_str().unwrap();
    let out = tmp.path().join("cmp");
    let o = out.to_str().unwrap();
    let a = config(tmp.path(), "a", "type = \"fixed\"", "train_limit = 10");
    let b = config(tmp.path(), "b", "type = \"fixed\"", "train_limit = 20");
    let run = burn_lr(&["compare", "--configs", &a, &b, "--data-dir", d, "--out", o]);
    assert_eq!(run.status.code(), Some(2));
    let err = stderr(&run);
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(
        err.contains("[data] train_limit differs") && err.contains("a has 10, b has 20"),
        "{err}"
    );
    assert!(!out.join("a").exists(), "nothing trained");
    // A target outside (0, 100] is refused first.
    let run = burn_lr(&[
        "compare",
        "--configs",
        &a,
        &b,
        "--train-limit",
        "10",
        "--data-dir",
        d,
        "--out",
        o,
        "--target-accuracy",
        "150",
    ]);
    assert_eq!(run.status.code(), Some(2));
    assert!(stderr(&run).contains("--target-accuracy = 150"), "{}", stderr(&run));
    // Two configs with the same file stem would share a directory.
    std::fs::create_dir(tmp.path().join("other")).unwrap();
    let a2 = config(&tmp.path().join("other"), "a", "type = \"fixed\"", "train_limit = 10");
    let run = burn_lr(&["compare", "--configs", &a, &a2, "--data-dir", d, "--out", o]);
    assert_eq!(run.status.code(), Some(2));
    assert!(stderr(&run).contains("two configs are named `a`"), "{}", stderr(&run));
    // Times are only comparable on one device.
    let c = config(tmp.path(), "c", "type = \"fixed\"", "train_limit = 10");
    let nd = std::fs::read_to_string(&c)
        .unwrap()
        .replace("device = \"cpu\"", "device = \"auto\"");
    std::fs::write(&c, nd).unwrap();
    let run = burn_lr(&["compare", "--configs", &a, &c, "--data-dir", d, "--out", o]);
    assert_eq!(run.status.code(), Some(2));
    assert!(stderr(&run).contains("[training] device differs"), "{}", stderr(&run));
    let two = std::fs::read_to_string(&a)
        .unwrap()
        .replace("device = \"cpu\"", "device = \"cpu\"\ndevices = 2");
    std::fs::write(&c, two).unwrap();
    let run = burn_lr(&["compare", "--configs", &a, &c, "--data-dir", d, "--out", o]);
    assert_eq!(run.status.code(), Some(2));
    assert!(
        stderr(&run)
            .contains("[training] devices differs: a has 1, c has 2; times are only comparable on the same devices"),
        "{}",
        stderr(&run)
    );
    // One config is not a comparison (clap: one line, exit 2).
    let run = burn_lr(&["compare", "--configs", &a, "--out", o]);
    assert_eq!(run.status.code(), Some(2));
}

#[test]
fn compare_resume_gives_every_finished_run_its_kept_weights() {
    // One epoch each, killed after the seals, before model.bpk: the SGD run's weights are in its
    // checkpoint; the SWA average's recomputed statistics need the epoch's batches, and a
    // one-epoch run has no checkpoint before it, so compare trains that run again.
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("data");
    image_folder(&data, 2);
    let one_epoch = |name: &str, extra: &str| {
        let path = config(tmp.path(), name, "type = \"fixed\"", "");
        let text = std::fs::read_to_string(&path)
            .unwrap()
            .replace("epochs = 2", "epochs = 1")
            + extra;
        std::fs::write(&path, text).unwrap();
        path
    };
    let sgd = one_epoch("sgd", "");
    let swa = one_epoch("swa", "[averaging]\nkind = \"swa\"\nupdate_bn_batches = 2\n");
    let out = tmp.path().join("cmp");
    let (d, o) = (data.to_str().unwrap(), out.to_str().unwrap());
    let args = ["compare", "--configs", &sgd, &swa, "--data-dir", d, "--out", o];
    assert!(burn_lr(&args).status.success());
    let kept = |run: &str| app_common::saved_weights(&out.join(run).join("model.bpk"));
    let straight = (kept("sgd").unwrap(), kept("swa").unwrap());
    for run in ["sgd", "swa"] {
        std::fs::remove_file(out.join(run).join("model.bpk")).unwrap();
    }
    let resumed = burn_lr(&[&args[..], &["--resume"]].concat());
    assert!(resumed.status.success(), "{}", stderr(&resumed));
    assert_eq!((kept("sgd").unwrap(), kept("swa").unwrap()), straight);
}
