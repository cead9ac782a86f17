//! The promises at the edges (issue 28) that end in `--resume`: a closed or full stdout, a full
//! disk or `kill -9` at any instant (of `train` and of `compare`) leaves a run that `--resume`
//! brings back to the straight run's files; sealed config and facts, rebuilt rows, stale
//! temporary files, runs of a burn-lr before the seals.

mod app_common;
mod edges_common;

use edges_common::*;
use std::io::{BufRead, BufReader, Read};
use std::path::Path;
use std::process::Stdio;
use std::time::{Duration, Instant};

#[test]
fn a_closed_stdout_ends_the_run_after_a_committed_epoch_and_resume_completes_it() {
    let fx = Fixture::new(2, 6, "");
    let straight = fx.path("straight");
    assert!(fx.run(&straight, &[]).status.success());
    // `train | head -5`: the reader goes after the first epoch line (five more to print).
    let art = fx.path("a");
    let mut child = fx
        .train(&art, &[])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    for line in lines.by_ref() {
        if line.unwrap().starts_with("epoch 1/6") {
            break;
        }
    }
    drop(lines);
    let status = wait(&mut child, Duration::from_secs(120));
    let mut err = String::new();
    child.stderr.take().unwrap().read_to_string(&mut err).unwrap();
    assert_eq!(status.code(), Some(141), "{err}");
    assert!(!err.contains("panicked") && err.contains("stdout was closed"), "{err}");
    let out = fx.run(&art, &["--resume"]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(files(&art), files(&straight));
    // Into a full stdout: nothing is trained, one line, exit 1.
    if Path::new("/dev/full").exists() {
        let full = std::fs::OpenOptions::new().write(true).open("/dev/full").unwrap();
        let out = fx.train(&fx.path("b"), &[]).stdout(full).output().unwrap();
        let err = one_line(&out, 1);
        assert!(err.contains("stdout cannot be written"), "{err}");
        assert!(!fx.path("b").join("checkpoint").exists());
    }
    // `schedule`, `plot` into a closed pipe: the files written, exit 141, no panic.
    let mut child = bin()
        .args(["schedule", "--config", &fx.config, "--steps", "5000"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    drop(child.stdout.take());
    let status = wait(&mut child, Duration::from_secs(60));
    assert_eq!(status.code(), Some(141));
    let mut child = bin()
        .arg("plot")
        .arg(&art)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    drop(child.stdout.take());
    let status = wait(&mut child, Duration::from_secs(60));
    let mut err = String::new();
    child.stderr.take().unwrap().read_to_string(&mut err).unwrap();
    assert_eq!(status.code(), Some(141), "{err}");
    assert!(!err.contains("panicked"), "{err}");
    assert!(art.join("loss.png").is_file());
}

#[test]
fn kill_9_at_any_instant_then_resume_gives_the_straight_run_s_files() {
    let fx = Fixture::new(4, 3, "");
    let straight = fx.path("straight");
    let start = Instant::now();
    assert!(fx.run(&straight, &[]).status.success());
    let took = start.elapsed();
    for i in 0..10u32 {
        let art = fx.path(&format!("k{i}"));
        let mut child = fx
            .train(&art, &[])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        std::thread::sleep(took * i / 9);
        let _ = child.kill(); // SIGKILL
        child.wait().unwrap();
        let out = fx.run(&art, &[continue_flag(&art)]);
        assert!(out.status.success(), "killed at {:?}: {}", took * i / 9, stderr(&out));
        assert_eq!(files(&art), files(&straight), "killed at {:?}", took * i / 9);
    }
}

#[test]
fn a_full_disk_at_any_file_ends_the_run_with_one_line_and_resume_completes_it() {
    use std::os::unix::process::CommandExt;
    let fx = Fixture::new(2, 3, "");
    let straight = fx.path("straight");
    assert!(fx.run(&straight, &[]).status.success());
    for (i, limit) in [300u64, 2_000, 20_000, 40_000, 70_000].into_iter().enumerate() {
        let art = fx.path(&format!("f{i}"));
        let mut cmd = fx.train(&art, &[]);
        // SAFETY: between fork and exec only async-signal-safe calls: the file size limit
        // (writes past it fail with EFBIG, as on a full disk) and SIGXFSZ ignored so that
        // they fail instead of killing the process.
        unsafe {
            cmd.pre_exec(move || {
                let rlim = libc::rlimit {
                    rlim_cur: limit,
                    rlim_max: libc::RLIM_INFINITY,
                };
                libc::setrlimit(libc::RLIMIT_FSIZE, &rlim);
                libc::signal(libc::SIGXFSZ, libc::SIG_IGN);
                Ok(())
            });
        }
        let out = cmd.output().unwrap();
        let err = stderr(&out);
        assert!(!err.contains("panicked"), "limit {limit}: {err}");
        if !out.status.success() {
            assert_eq!(out.status.code(), Some(1), "limit {limit}: {err}");
            assert_eq!(err.lines().filter(|l| l.starts_with("error: ")).count(), 1, "{err}");
        }
        let resumed = fx.run(&art, &[continue_flag(&art)]);
        assert!(resumed.status.success(), "limit {limit}: {}", stderr(&resumed));
        assert_eq!(files(&art), files(&straight), "limit {limit}");
    }
}

#[test]
fn a_run_s_config_and_facts_are_compared_with_their_sealed_copies() {
    let fx = Fixture::new(1, 3, "");
    let art = fx.path("a");
    assert!(fx.run(&art, &["--stop-after-epoch", "1"]).status.success());
    let edit = |path: &Path, from: &str, to: &str| {
        let text = std::fs::read_to_string(path).unwrap();
        assert!(text.contains(from), "{text}");
        std::fs::write(path, text.replace(from, to)).unwrap();
    };
    // weight_decay edited in the run's config.toml and in the new config alike.
    edit(
        &art.join("config.toml"),
        "weight_decay = 0.0005",
        "weight_decay = 0.001",
    );
    edit(Path::new(&fx.config), "weight_decay = 0.0005", "weight_decay = 0.001");
    let err = one_line(&fx.run(&art, &["--resume"]), 2);
    assert!(
        err.contains("[optimizer] weight_decay: 0.0005 in the checkpoint, 0.001 now"),
        "{err}"
    );
    assert!(err.contains("config.toml differs from the copy sealed"), "{err}");
    // lr edited in both, with another epochs count: every change named at once, values true.
    edit(Path::new(&fx.config), "weight_decay = 0.001", "weight_decay = 0.0005");
    edit(Path::new(&fx.config), "lr = 0.05", "lr = 0.07");
    edit(&art.join("config.toml"), "lr = 0.05", "lr = 0.07");
    let err = one_line(&fx.run(&art, &["--resume", "--epochs", "5", "--batch-size", "2"]), 2);
    for change in [
        "[optimizer] lr: 0.05 in the checkpoint, 0.07 now",
        "[training] batch_size: 4 in the checkpoint, 2 now",
    ] {
        assert!(err.contains(change), "{change}: {err}");
    }
    // The original config resumes, the edited run files are rewritten, a cut run.toml too.
    edit(Path::new(&fx.config), "lr = 0.07", "lr = 0.05");
    let facts = std::fs::read_to_string(art.join("run.toml")).unwrap();
    std::fs::write(art.join("run.toml"), &facts[..facts.len() / 2]).unwrap();
    let out = fx.run(&art, &["--resume"]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("config.toml: differs from the copy sealed"),
        "{}",
        stderr(&out)
    );
    assert!(std::fs::read_to_string(art.join("config.toml"))
        .unwrap()
        .contains("lr = 0.05"));
    assert_eq!(std::fs::read_to_string(art.join("run.toml")).unwrap(), facts);
}

#[test]
fn rows_lost_from_metrics_csv_or_lr_csv_are_rebuilt_on_resume() {
    let fx = Fixture::new(1, 3, "");
    let straight = fx.path("straight");
    assert!(fx.run(&straight, &[]).status.success());
    let art = fx.path("a");
    assert!(fx.run(&art, &["--stop-after-epoch", "2"]).status.success());
    // As after a crash between epoch 2's seal and its row, and a truncated lr.csv.
    let metrics = std::fs::read_to_string(art.join("metrics.csv")).unwrap();
    std::fs::write(
        art.join("metrics.csv"),
        metrics.lines().take(2).collect::<Vec<_>>().join("\n") + "\n",
    )
    .unwrap();
    std::fs::write(art.join("lr.csv"), "step,epoch,lr\n").unwrap();
    let out = fx.run(&art, &["--resume"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let err = stderr(&out);
    assert!(
        err.contains("metrics.csv: rebuilt") && err.contains("lr.csv: rebuilt"),
        "{err}"
    );
    assert_eq!(files(&art), files(&straight));
}

#[test]
fn temporary_files_of_killed_processes_are_removed_by_the_next_command_there() {
    let fx = Fixture::new(1, 1, "");
    let art = fx.path("a");
    assert!(fx.run(&art, &[]).status.success());
    // A process id that never runs (above Linux's pid_max), as a killed writer's would be.
    let stale = art.join(".burn-lr-tmp-4294967.abc");
    std::fs::write(&stale, b"half a png").unwrap();
    assert!(burn_lr(&["plot", art.to_str().unwrap()]).status.success());
    assert!(!stale.exists());
    let out = fx.path("out");
    std::fs::create_dir(&out).unwrap();
    let stale = out.join(".burn-lr-tmp-4294967.def");
    std::fs::write(&stale, b"half a summary").unwrap();
    let other = fx.path("other.toml");
    std::fs::copy(&fx.config, &other).unwrap();
    let res = burn_lr(&[
        "compare",
        "--configs",
        &fx.config,
        other.to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
        "--data-dir",
        &fx.data,
    ]);
    assert!(res.status.success(), "{}", stderr(&res));
    assert!(!stale.exists());
}

#[test]
fn compare_after_a_lost_row_summarizes_every_trained_epoch() {
    let fx = Fixture::new(1, 2, "");
    let other = fx.path("other.toml");
    std::fs::copy(&fx.config, &other).unwrap();
    let out = fx.path("out");
    let args = [
        "compare",
        "--configs",
        &fx.config,
        other.to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
        "--data-dir",
        &fx.data,
    ];
    assert!(burn_lr(&args).status.success());
    // A kill -9 between epoch 2's seal and its row of the first run.
    let csv = out.join("tiny").join("metrics.csv");
    let text = std::fs::read_to_string(&csv).unwrap();
    std::fs::write(&csv, text.lines().take(2).collect::<Vec<_>>().join("\n") + "\n").unwrap();
    let mut again = args.to_vec();
    again.push("--resume");
    let res = burn_lr(&again);
    assert!(res.status.success(), "{}", stderr(&res));
    let summary = std::fs::read_to_string(out.join("summary.md")).unwrap();
    assert_eq!(summary.matches(" | 2/2 | ").count(), 2, "{summary}");
    assert_eq!(std::fs::read_to_string(&csv).unwrap().lines().count(), 3);
}

#[test]
fn kill_9_of_compare_at_any_instant_then_resume_gives_the_straight_comparison() {
    let fx = Fixture::new(2, 2, "");
    let other = fx.path("other.toml");
    std::fs::write(
        &other,
        std::fs::read_to_string(&fx.config)
            .unwrap()
            .replace("step_size = 1", "step_size = 2"),
    )
    .unwrap();
    let compare = |out: &Path, more: &[&str]| {
        let mut cmd = bin();
        cmd.args([
            "compare",
            "--configs",
            &fx.config,
            other.to_str().unwrap(),
            "--data-dir",
            &fx.data,
            "--out",
        ])
        .arg(out)
        .args(more);
        cmd
    };
    let straight = fx.path("straight");
    let start = Instant::now();
    assert!(compare(&straight, &[]).output().unwrap().status.success());
    let took = start.elapsed();
    let table = |out: &Path| {
        let md = std::fs::read_to_string(out.join("summary.md")).unwrap();
        // The rows without their times.
        md.lines()
            .filter(|l| l.starts_with("| tiny") || l.starts_with("| other"))
            .map(|l| l.split(" | ").take(5).collect::<Vec<_>>().join(" | "))
            .collect::<Vec<_>>()
    };
    for i in 0..8u32 {
        let out = fx.path(&format!("c{i}"));
        let mut child = compare(&out, &[])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        std::thread::sleep(took * i / 7);
        let _ = child.kill();
        child.wait().unwrap();
        let res = compare(&out, &["--resume"]).output().unwrap();
        assert!(res.status.success(), "killed at {:?}: {}", took * i / 7, stderr(&res));
        for run in ["tiny", "other"] {
            assert_eq!(
                files(&out.join(run)),
                files(&straight.join(run)),
                "{run}, killed at {:?}",
                took * i / 7
            );
        }
        assert_eq!(table(&out), table(&straight));
        let leftovers: Vec<_> = std::fs::read_dir(&out)
            .unwrap()
            .flatten()
            .filter(|e| e.file_name().to_string_lossy().starts_with(".burn-lr-tmp-"))
            .collect();
        assert!(leftovers.is_empty(), "{leftovers:?}");
    }
}

#[test]
fn a_run_of_a_burn_lr_before_the_seals_resumes_and_keeps_its_resume_point() {
    let fx = Fixture::new(1, 3, "");
    let straight = fx.path("straight");
    assert!(fx.run(&straight, &[]).status.success());
    let art = fx.path("a");
    assert!(fx.run(&art, &["--stop-after-epoch", "1"]).status.success());
    // As an older burn-lr left it: no seals, and run.toml without `epoch_seals`.
    let ckpt = art.join("checkpoint");
    for e in std::fs::read_dir(&ckpt).unwrap().flatten() {
        if e.file_name().to_string_lossy().starts_with("run-") {
            std::fs::remove_file(e.path()).unwrap();
        }
    }
    let facts = std::fs::read_to_string(art.join("run.toml")).unwrap();
    std::fs::write(art.join("run.toml"), facts.replace("epoch_seals = true\n", "")).unwrap();
    let out = fx.run(&art, &["--resume", "--stop-after-epoch", "2"]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(ckpt.join("run-1.toml.md5").is_file() && ckpt.join("run-2.toml.md5").is_file());
    // Killed between epoch 2's checkpoint and its seal: epoch 1, sealed on resume, is used.
    std::fs::remove_file(ckpt.join("run-2.toml.md5")).unwrap();
    let out = fx.run(&art, &["--resume"]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(stdout(&out).contains("resuming after epoch 1"), "{}", stdout(&out));
    assert_eq!(files(&art), files(&straight));
}

#[test]
fn a_finished_run_resumed_again_drops_the_rows_of_an_interrupted_epoch() {
    let fx = Fixture::new(1, 3, "");
    let art = fx.path("a");
    assert!(fx.run(&art, &["--stop-after-epoch", "2"]).status.success());
    let sealed = files(&art);
    // An epoch 3 killed mid-way left rows in lr.csv; nothing is trained up to epoch 2.
    let lr = art.join("lr.csv");
    let mut text = std::fs::read_to_string(&lr).unwrap();
    text += "10,3,0.0005\n11,3,0.0005\n";
    std::fs::write(&lr, text).unwrap();
    let out = fx.run(&art, &["--resume", "--stop-after-epoch", "2"]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(stdout(&out).contains("nothing to train"), "{}", stdout(&out));
    assert_eq!(files(&art), sealed);
}

#[test]
fn a_finished_run_without_its_kept_weights_gets_them_from_its_last_checkpoint() {
    // The trained weights (SGD) and an EMA (statistics not recomputed) are in the checkpoint.
    let swa_buffers = "[averaging]\nkind = \"swa\"\nuse_buffers = true";
    for (epochs, extra) in [
        (3, ""),
        (1, "[averaging]\nkind = \"ema\"\ndecay = 0.5"),
        (2, swa_buffers),
    ] {
        let fx = Fixture::new(1, epochs, extra);
        let straight = fx.path("straight");
        assert!(fx.run(&straight, &[]).status.success());
        assert!(files(&straight).2.is_some());
        let art = fx.path("a");
        assert!(fx.run(&art, &[]).status.success());
        // Killed (or failed) after the last epoch's seal, before model.bpk.
        std::fs::remove_file(art.join("model.bpk")).unwrap();
        if epochs == 3 {
            // Fewer epochs than the run trained: refused before any file changes.
            let line = one_line(&fx.run(&art, &["--resume", "--epochs", "2"]), 2);
            assert!(line.contains("already trained 3 epochs"), "{line}");
            assert!(!art.join("model.bpk").exists());
        }
        let out = fx.run(&art, &["--resume"]);
        assert!(out.status.success(), "{}", stderr(&out));
        assert!(stdout(&out).contains("nothing to train"), "{}", stdout(&out));
        let note = stderr(&out);
        assert!(
            note.contains("model.bpk was missing") && note.contains(&format!("checkpoint of epoch {epochs}")),
            "{note}"
        );
        assert_eq!(files(&art), files(&straight), "{extra}");
    }
}

#[test]
fn a_finished_run_whose_missing_kept_weights_need_its_last_epoch_s_batches_trains_it_again() {
    // An SWA average whose BatchNorm statistics are recomputed over the last epoch's batches:
    // no checkpoint holds them, so the last epoch is trained again from the one before.
    let swa = "[averaging]\nkind = \"swa\"\nstart_epoch = 2\nupdate_bn_batches = 2";
    let fx = Fixture::new(2, 3, swa);
    let straight = fx.path("straight");
    assert!(fx.run(&straight, &[]).status.success());
    let art = fx.path("a");
    // Stopped after epoch 1 (its checkpoint's files copied aside), then finished.
    assert!(fx.run(&art, &["--stop-after-epoch", "1"]).status.success());
    copy_epoch_files(&art.join("checkpoint"), 1, &fx.path("epoch-1"));
    assert!(fx.run(&art, &["--resume"]).status.success());
    std::fs::remove_file(art.join("model.bpk")).unwrap();
    // Stopping before the last epoch would drop it and train nothing: refused, nothing touched.
    let before = files_without_kept(&art);
    let line = one_line(&fx.run(&art, &["--resume", "--stop-after-epoch", "2"]), 2);
    assert!(
        line.contains("model.bpk is missing") && line.contains("trains epochs 3..=3 again"),
        "{line}"
    );
    assert_eq!(files_without_kept(&art), before);
    assert!(art.join("checkpoint/run-3.toml").is_file());
    let out = fx.run(&art, &["--resume"]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(stdout(&out).contains("resuming after epoch 2"), "{}", stdout(&out));
    let warning = stderr(&out);
    assert!(
        warning.contains("the run finished epoch 3, but") && warning.contains("epoch 3 is trained again"),
        "{warning}"
    );
    assert_eq!(files(&art), files(&straight));
    // With model.bpk there, nothing is trained.
    let again = fx.run(&art, &["--resume"]);
    assert!(stdout(&again).contains("nothing to train"), "{}", stdout(&again));
    // The checkpoint before the last damaged: an older one (as Burn keeps the best) is used,
    // the epochs trained again named; --stop-after-epoch 2 is short of them.
    let ckpt = art.join("checkpoint");
    let epoch_1: Vec<(std::path::PathBuf, Vec<u8>)> = std::fs::read_dir(fx.path("epoch-1"))
        .unwrap()
        .map(|e| {
            let e = e.unwrap();
            (ckpt.join(e.file_name()), std::fs::read(e.path()).unwrap())
        })
        .collect();
    let damage = || {
        std::fs::remove_file(art.join("model.bpk")).unwrap();
        let model_2 = ckpt.join("model-2.bpk");
        std::fs::write(&model_2, &std::fs::read(&model_2).unwrap()[..100]).unwrap();
    };
    damage();
    for (path, bytes) in &epoch_1 {
        std::fs::write(path, bytes).unwrap();
    }
    let line = one_line(&fx.run(&art, &["--resume", "--stop-after-epoch", "2"]), 2);
    assert!(line.contains("trains epochs 2..=3 again, past epoch 2"), "{line}");
    let out = fx.run(&art, &["--resume"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let warning = stderr(&out);
    assert!(
        warning.contains("epochs 2..=3 are trained again from the checkpoint of epoch 1"),
        "{warning}"
    );
    assert_eq!(files(&art), files(&straight));
    // Without it, nothing to train the last epoch again from: the refusal names the damage.
    damage();
    for (path, _) in &epoch_1 {
        let _ = std::fs::remove_file(path);
    }
    let line = one_line(&fx.run(&art, &["--resume"]), 2);
    assert!(
        line.contains("checkpoint of epoch 2 in") && line.contains("--overwrite"),
        "{line}"
    );
    // A one-epoch run has no checkpoint before its last: one line naming --overwrite.
    let one = Fixture::new(1, 1, "[averaging]\nkind = \"swa\"\nupdate_bn_batches = 2");
    let art = one.path("one");
    assert!(one.run(&art, &[]).status.success());
    std::fs::remove_file(art.join("model.bpk")).unwrap();
    let line = one_line(&one.run(&art, &["--resume"]), 2);
    assert!(
        line.contains("model.bpk is missing") && line.contains("--overwrite"),
        "{line}"
    );
}

/// `metrics.csv` and `lr.csv` of a run whose `model.bpk` is missing.
fn files_without_kept(art: &Path) -> (Vec<String>, String) {
    let (rows, lr, kept) = files(art);
    assert!(kept.is_none());
    (rows, lr)
}

/// Copies the checkpoint files of `epoch` (`model-1.bpk`, `run-1.toml.md5`, ...) in `from` into
/// a new folder `to`.
fn copy_epoch_files(from: &Path, epoch: usize, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for e in std::fs::read_dir(from).unwrap() {
        let e = e.unwrap();
        let name = e.file_name().to_string_lossy().into_owned();
        if name.contains(&format!("-{epoch}.")) {
            std::fs::copy(e.path(), to.join(&name)).unwrap();
        }
    }
}
