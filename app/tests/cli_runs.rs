//! `burn-lr train` as a user runs it: the device header, a locked directory, Ctrl-C, inputs that
//! used to be ignored (`--stop-after-epoch 0`, `--device wgpu` without the feature, unknown
//! keys in `schedule`), a streamed billion-row preview, one-line errors.

mod app_common;

use app_common::image_folder;
use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

fn bin() -> Command {
    Command::new(env!("CARGO_BIN_EXE_burn-lr"))
}

fn burn_lr(args: &[&str]) -> Output {
    bin().args(args).output().expect("run burn-lr")
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// A tiny SGD run on 20 images (5 updates per epoch at batch 4).
fn tiny_config(dir: &Path, epochs: usize) -> String {
    let path = dir.join("tiny.toml");
    std::fs::write(
        &path,
        format!(
            "[model]\narch = \"tiny\"\n[optimizer]\nname = \"sgd\"\nlr = 0.05\n[scheduler]\ntype = \"step\"\nstep_size = 1\n\
             [training]\nepochs = {epochs}\nbatch_size = 4\ndevice = \"cpu\"\n"
        ),
    )
    .unwrap();
    path.to_str().unwrap().to_string()
}

fn train_args<'a>(config: &'a str, data: &'a str, art: &'a str) -> Vec<&'a str> {
    vec!["train", "--config", config, "--data-dir", data, "--artifact-dir", art]
}

#[test]
fn the_header_names_the_device_and_the_artifacts_and_a_rerun_is_refused() {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("data");
    image_folder(&data, 2);
    let config = tiny_config(tmp.path(), 1);
    let art = tmp.path().join("a");
    let args = train_args(&config, data.to_str().unwrap(), art.to_str().unwrap());
    let out = burn_lr(&args);
    assert!(out.status.success(), "{}", stderr(&out));
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(stdout.contains("Tiny on Cpu (flex):"), "{stdout}");
    assert!(stdout.contains(&format!("artifacts: {}", art.display())), "{stdout}");
    assert!(stdout.contains("eta "), "{stdout}");
    // The same command again: one line, exit 2, the three choices.
    let out = burn_lr(&args);
    assert_eq!(out.status.code(), Some(2));
    let err = stderr(&out);
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(err.contains("--resume") && err.contains("--overwrite"), "{err}");
    let mut again = args.clone();
    again.push("--overwrite");
    assert!(burn_lr(&again).status.success());
}

#[test]
fn a_locked_directory_is_refused_naming_the_other_process() {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("data");
    image_folder(&data, 1);
    let config = tiny_config(tmp.path(), 1);
    let art = tmp.path().join("busy");
    let _held = burn_lr_cifar::run::dir::Lock::take(&art).unwrap();
    let out = burn_lr(&train_args(&config, data.to_str().unwrap(), art.to_str().unwrap()));
    assert_eq!(out.status.code(), Some(2));
    let err = stderr(&out);
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(err.contains(&format!("pid {}", std::process::id())), "{err}");
    assert!(err.contains("busy"), "{err}");
    assert!(!art.join("config.toml").exists());
}

#[cfg(unix)]
#[test]
fn ctrl_c_ends_the_run_with_a_checkpoint_resume_continues_from() {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("data");
    image_folder(&data, 2);
    let config = tiny_config(tmp.path(), 10_000);
    let art = tmp.path().join("run");
    let args = train_args(&config, data.to_str().unwrap(), art.to_str().unwrap());
    let mut child = bin()
        .args(&args)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    while let Some(Ok(line)) = lines.next() {
        if line.starts_with("epoch 2/") {
            break;
        }
    }
    // What a terminal's Ctrl-C sends.
    let pid = libc::pid_t::try_from(child.id()).unwrap();
    // SAFETY: kill(2) with a valid signal number only sends the signal to our own child.
    assert_eq!(unsafe { libc::kill(pid, libc::SIGINT) }, 0);
    let out = child.wait_with_output().unwrap();
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(130), "{err}");
    // Mid-epoch: "interrupted in epoch N"; during validation: "stopped after epoch N (its
    // checkpoint is written)".
    assert!(
        (err.contains("interrupted in epoch") || err.contains("stopped after epoch")) && err.contains("--resume"),
        "{err}"
    );
    let last = err.lines().last().unwrap();
    assert!(last.contains("continues from the checkpoint of epoch"), "{err}");
    // --resume picks it up (and stops again after one more epoch).
    let mut resume = args.clone();
    resume.extend(["--resume", "--epochs", "10000", "--stop-after-epoch"]);
    let n: usize = last
        .rsplit("epoch ")
        .next()
        .unwrap()
        .trim_end_matches('.')
        .parse()
        .unwrap();
    let stop = (n + 1).to_string();
    resume.push(&stop);
    let out = burn_lr(&resume);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(String::from_utf8_lossy(&out.stdout).contains(&format!("resuming after epoch {n}")));
}

#[test]
fn inputs_that_were_ignored_are_errors() {
    let tmp = tempfile::tempdir().unwrap();
    let config = tiny_config(tmp.path(), 2);
    let missing = tmp.path().join("no-data");
    let missing = missing.to_str().unwrap();
    // --stop-after-epoch 0.
    let out = burn_lr(&["train", "--config", &config, "--stop-after-epoch", "0"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("--stop-after-epoch"), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("For more information, try '--help'"),
        "clap's message: {}",
        stderr(&out)
    );
    let out = burn_lr(&["train", "--config", &config, "--resume", "--overwrite"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("cannot be used with"), "{}", stderr(&out));
    // --device wgpu (or ndarray) in a build without it: before any data is looked at.
    for (name, built) in [("wgpu", cfg!(feature = "wgpu")), ("ndarray", cfg!(feature = "ndarray"))] {
        if built {
            continue;
        }
        let out = burn_lr(&["train", "--config", &config, "--device", name, "--data-dir", missing]);
        assert_eq!(out.status.code(), Some(2));
        let err = stderr(&out);
        assert!(
            err.contains(&format!("--features {name}")) && !err.contains("no-data") && err.lines().count() == 1,
            "{err}"
        );
    }
    // --devices: a count >= 1 or distinct indices, one line; wgpu devices without the feature.
    for bad in ["0", "1,1", "two"] {
        let out = burn_lr(&["train", "--config", &config, "--devices", bad, "--data-dir", missing]);
        assert_eq!(out.status.code(), Some(2), "--devices {bad}");
        let err = stderr(&out);
        assert!(
            err.contains("--devices") && err.contains("distinct device indices"),
            "{err}"
        );
        assert_eq!(
            err.lines().next(),
            err.lines().find(|l| l.contains("--devices")),
            "{err}"
        );
    }
    if !cfg!(feature = "wgpu") {
        let out = burn_lr(&[
            "train",
            "--config",
            &config,
            "--device",
            "wgpu",
            "--devices",
            "2",
            "--data-dir",
            missing,
        ]);
        assert_eq!(out.status.code(), Some(2));
        assert!(stderr(&out).contains("--features wgpu"), "{}", stderr(&out));
    }
    // A missing config: one line saying so.
    let out = burn_lr(&["train", "--config", missing]);
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(2));
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(err.contains("--config") && err.contains("does not exist"), "{err}");
    // `schedule` refuses unknown tables and keys, in schedule files and training configs.
    for (text, word) in [
        (
            "[scheduler]\ntype = \"step\"\nstep_size = 2\n[optimizr]\nlr = 0.1\n",
            "optimizr",
        ),
        (
            "[optimizer]\nlr = 0.1\nmomentun = 0.9\n[scheduler]\ntype = \"step\"\nstep_size = 2\n",
            "momentun",
        ),
        (
            "[scheduler]\ntype = \"step\"\nstep_size = 2\nstep_sise = 3\n[optimizer]\nlr = 0.1\n",
            "step_sise",
        ),
    ] {
        let path = tmp.path().join("s.toml");
        std::fs::write(&path, text).unwrap();
        let out = burn_lr(&["schedule", "--config", path.to_str().unwrap(), "--steps", "3"]);
        assert_eq!(out.status.code(), Some(2), "{text}");
        assert!(stderr(&out).contains(word), "{}", stderr(&out));
    }
    let shipped = concat!(env!("CARGO_MANIFEST_DIR"), "/../configs/quick-cpu.toml");
    let out = burn_lr(&["schedule", "--config", shipped, "--steps", "3"]);
    assert!(out.status.success(), "{}", stderr(&out));
}

#[test]
fn no_config_trains_the_quick_cpu_recipe_and_says_so_first() {
    let tmp = tempfile::tempdir().unwrap();
    let missing = tmp.path().join("no-data");
    let out = burn_lr(&["train", "--data-dir", missing.to_str().unwrap()]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    let first = stdout.lines().next().unwrap_or_default();
    if cfg!(any(feature = "wgpu", feature = "cuda")) {
        assert!(first.contains("resnet20-onecycle.toml"), "{first}");
    } else {
        assert!(
            first.contains("configs/quick-cpu.toml") && first.contains("minutes"),
            "{first}"
        );
    }
    assert_eq!(out.status.code(), Some(2));
}

#[test]
fn a_billion_row_preview_streams() {
    let tmp = tempfile::tempdir().unwrap();
    let path = tmp.path().join("c.toml");
    std::fs::write(
        &path,
        "[optimizer]\nlr = 0.1\n[scheduler]\ntype = \"cosine_annealing\"\nt_max = 1000000000\n",
    )
    .unwrap();
    let started = Instant::now();
    let mut child = bin()
        .args(["schedule", "--config", path.to_str().unwrap(), "--steps", "1000000000"])
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let rows: Vec<String> = lines.by_ref().take(100_001).map(Result::unwrap).collect();
    assert_eq!(rows[0], "step,lr");
    assert_eq!(rows[1], "0,0.1");
    assert!(rows[100_000].starts_with("99999,"));
    assert!(started.elapsed() < Duration::from_secs(60), "{:?}", started.elapsed());
    child.kill().unwrap();
    child.wait().unwrap();
}

#[test]
fn a_changed_resume_fails_on_the_change_before_any_data_is_read() {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("data");
    image_folder(&data, 1);
    let config = tiny_config(tmp.path(), 2);
    let art = tmp.path().join("run");
    let mut args = train_args(&config, data.to_str().unwrap(), art.to_str().unwrap());
    args.extend(["--stop-after-epoch", "1"]);
    let out = burn_lr(&args);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(String::from_utf8_lossy(&out.stdout).contains("stopped after epoch 1 of 2"));
    let missing = tmp.path().join("no-data");
    let out = burn_lr(&[
        "train",
        "--config",
        &config,
        "--data-dir",
        missing.to_str().unwrap(),
        "--artifact-dir",
        art.to_str().unwrap(),
        "--resume",
        "--batch-size",
        "5",
    ]);
    assert_eq!(out.status.code(), Some(2));
    let err = stderr(&out);
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(
        err.contains("[training] batch_size: 4 in the checkpoint, 5 now"),
        "{err}"
    );
    assert!(!err.contains("no-data"), "{err}");
}

#[test]
fn a_swa_table_trains_with_swalr_s_learning_rates_and_says_the_weights_are_not_averaged() {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("data");
    image_folder(&data, 2);
    let config = tmp.path().join("swa.toml");
    std::fs::write(
        &config,
        "[model]\narch = \"tiny\"\n[optimizer]\nname = \"sgd\"\nlr = 0.1\n[scheduler]\ntype = \"fixed\"\n\
         [scheduler.swa]\nswa_start = 0\nswa_lr = 0.02\nanneal_epochs = 1\n\
         [training]\nepochs = 3\nbatch_size = 4\ndevice = \"cpu\"\n",
    )
    .unwrap();
    let art = tmp.path().join("a");
    let out = burn_lr(&train_args(
        config.to_str().unwrap(),
        data.to_str().unwrap(),
        art.to_str().unwrap(),
    ));
    assert!(out.status.success(), "{}", stderr(&out));
    let err = stderr(&out);
    assert!(
        err.lines()
            .filter(|l| l.contains("[scheduler.swa]") && l.contains("not averaged"))
            .count()
            == 1,
        "{err}"
    );
    // 20 images at batch 4: 5 updates per epoch; epochs 0 and 1 at the base LR, epoch 2 at
    // swa_lr (one annealing epoch).
    let lr_csv = std::fs::read_to_string(art.join("lr.csv")).unwrap();
    let lrs: Vec<f64> = lr_csv
        .lines()
        .skip(1)
        .map(|l| l.split(',').nth(2).unwrap().parse().unwrap())
        .collect();
    assert_eq!(lrs.len(), 15, "{lr_csv}");
    assert!(
        lrs[..10].iter().all(|&lr| lr == 0.1) && lrs[10..].iter().all(|&lr| lr == 0.02),
        "{lr_csv}"
    );
}

#[test]
fn swa_with_its_average_shows_both_models_and_names_the_weights_kept() {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("data");
    image_folder(&data, 2);
    let config = tmp.path().join("swa.toml");
    std::fs::write(
        &config,
        "[model]\narch = \"tiny\"\n[optimizer]\nname = \"sgd\"\nlr = 0.1\n[scheduler]\ntype = \"fixed\"\n\
         [scheduler.swa]\nswa_start = 0\nswa_lr = 0.02\nanneal_epochs = 1\n\
         [training]\nepochs = 3\nbatch_size = 4\ndevice = \"cpu\"\n[averaging]\nkind = \"swa\"\nupdate_bn_batches = 2\n",
    )
    .unwrap();
    let art = tmp.path().join("a");
    let out = burn_lr(&train_args(
        config.to_str().unwrap(),
        data.to_str().unwrap(),
        art.to_str().unwrap(),
    ));
    let (stdout, err) = (String::from_utf8_lossy(&out.stdout).to_string(), stderr(&out));
    assert!(out.status.success(), "{err}");
    assert!(!err.contains("not averaged"), "{err}");
    assert!(
        stdout.contains("validated and kept: the SWA average (from epoch 2, BatchNorm statistics recomputed over the latest 2 training batches (at most an epoch's))"),
        "{stdout}"
    );
    // Epoch 1 has no average yet; epochs 2 and 3 show the stepped model beside it.
    let epochs: Vec<&str> = stdout.lines().filter(|l| l.starts_with("epoch ")).collect();
    assert_eq!(epochs.len(), 3, "{stdout}");
    assert!(epochs[0].contains("(the stepped model: no swa yet)"), "{stdout}");
    assert!(epochs[1..].iter().all(|l| l.contains("(swa; stepped ")), "{stdout}");
    let done = stdout.lines().find(|l| l.starts_with("done in ")).unwrap();
    assert!(
        done.contains("of the SWA average") && done.contains("the stepped model: val_acc"),
        "{done}"
    );
    let csv = std::fs::read_to_string(art.join("metrics.csv")).unwrap();
    assert!(
        csv.lines().next().unwrap().ends_with(",live_val_loss,live_val_acc"),
        "{csv}"
    );
}

#[test]
fn a_schedule_free_run_under_a_decaying_schedule_gets_the_reference_s_advice() {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("data");
    image_folder(&data, 1);
    let config = tmp.path().join("sf.toml");
    std::fs::write(
        &config,
        "[model]\narch = \"tiny\"\n[optimizer]\nname = \"sgd_schedule_free\"\nlr = 0.1\n\
         [scheduler]\ntype = \"cosine_annealing\"\nt_max = 2\n\
         [training]\nepochs = 2\nbatch_size = 5\ndevice = \"cpu\"\n",
    )
    .unwrap();
    let art = tmp.path().join("a");
    let out = burn_lr(&train_args(
        config.to_str().unwrap(),
        data.to_str().unwrap(),
        art.to_str().unwrap(),
    ));
    let err = stderr(&out);
    assert!(out.status.success(), "{err}");
    let advice: Vec<&str> = err.lines().filter(|l| l.contains("needs no schedule")).collect();
    assert_eq!(advice.len(), 1, "{err}");
    assert!(
        advice[0].contains("constant LR") && advice[0].contains("warmup_steps"),
        "{err}"
    );
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(stdout.contains("validated and kept: schedule-free's x"), "{stdout}");
}
