//! The promises at the edges (issue 28), on the binary as a user or a faulty machine meets it:
//! paths that are not regular files are written into or refused, never replaced; drawing ends
//! for any input; a closed or full stdout, a full disk or `kill -9` at any instant leaves a run
//! that `--resume` brings back to the straight run's files; foreign files where Burn logs,
//! hostile run names, edited run files, a lock that is a link or a folder, stale temporary
//! files: each one line and the right exit code, never a panic.

mod app_common;

use app_common::image_folder;
use std::io::{BufRead, BufReader, Read};
use std::os::unix::fs::FileTypeExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
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

fn stdout(out: &Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// A refusal: exit code `code`, one `error:` line, no panic.
fn one_line(out: &Output, code: i32) -> String {
    let err = stderr(out);
    assert_eq!(out.status.code(), Some(code), "stderr: {err}\nstdout: {}", stdout(out));
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(err.starts_with("error: ") && !err.contains("panicked"), "{err}");
    err
}

/// A tiny SGD run (`step` schedule) over the image folder: `images` per class per split.
struct Fixture {
    tmp: tempfile::TempDir,
    config: String,
    data: String,
}

impl Fixture {
    fn new(images: usize, epochs: usize, extra: &str) -> Self {
        let tmp = tempfile::tempdir().unwrap();
        let data = tmp.path().join("data");
        image_folder(&data, images);
        let config = tmp.path().join("tiny.toml");
        std::fs::write(
            &config,
            format!(
                "[model]\narch = \"tiny\"\n[data]\nnum_workers = 1\n[optimizer]\nname = \"sgd\"\nlr = 0.05\n\
                 weight_decay = 0.0005\n[scheduler]\ntype = \"step\"\nstep_size = 1\n[training]\nepochs = {epochs}\n\
                 batch_size = 4\ndevice = \"cpu\"\ncpu_conv = \"burn\"\n{extra}"
            ),
        )
        .unwrap();
        Self {
            config: config.to_str().unwrap().into(),
            data: data.to_str().unwrap().into(),
            tmp,
        }
    }

    fn path(&self, name: &str) -> PathBuf {
        self.tmp.path().join(name)
    }

    fn train(&self, art: &Path, more: &[&str]) -> Command {
        let mut cmd = bin();
        cmd.args([
            "train",
            "--config",
            &self.config,
            "--data-dir",
            &self.data,
            "--artifact-dir",
        ])
        .arg(art)
        .args(more);
        cmd
    }

    fn run(&self, art: &Path, more: &[&str]) -> Output {
        self.train(art, more).output().unwrap()
    }
}

/// The results of a run directory: `metrics.csv` without its timing columns, and `lr.csv`.
fn files(art: &Path) -> (Vec<String>, String) {
    let metrics = std::fs::read_to_string(art.join("metrics.csv")).unwrap();
    let rows = metrics
        .lines()
        .map(|l| l.split(',').take(5).collect::<Vec<_>>().join(","))
        .collect();
    (rows, std::fs::read_to_string(art.join("lr.csv")).unwrap())
}

/// `--resume` where an epoch was committed (a seal is there), else `--overwrite` (a run stopped
/// before its first commit has nothing to continue).
fn continue_flag(art: &Path) -> &'static str {
    let sealed = std::fs::read_dir(art.join("checkpoint"))
        .into_iter()
        .flatten()
        .flatten()
        .any(|e| {
            let name = e.file_name().to_string_lossy().into_owned();
            name.starts_with("run-") && name.ends_with(".toml.md5")
        });
    if sealed {
        "--resume"
    } else {
        "--overwrite"
    }
}

fn wait(child: &mut Child, limit: Duration) -> std::process::ExitStatus {
    let start = Instant::now();
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            return status;
        }
        if start.elapsed() > limit {
            child.kill().unwrap();
            panic!("still running after {limit:?}");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

fn is_char_device(path: &Path) -> bool {
    std::fs::symlink_metadata(path).is_ok_and(|m| m.file_type().is_char_device())
}

const PLATEAU: &str = "[optimizer]\nlr = 0.1\n[scheduler]\ntype = \"reduce_on_plateau\"\npatience = 0\n";

#[test]
fn a_plot_path_that_is_not_a_file_is_written_into_or_refused_never_replaced() {
    let tmp = tempfile::tempdir().unwrap();
    let config = tmp.path().join("p.toml");
    std::fs::write(&config, PLATEAU).unwrap();
    let plot = |png: &Path| {
        let mut cmd = bin();
        cmd.args([
            "schedule",
            "--config",
            config.to_str().unwrap(),
            "--epochs",
            "3",
            "--metrics",
            "1,1,1",
            "--plot",
        ])
        .arg(png);
        cmd
    };
    // A character device is written into: /dev/null takes it, /dev/full says it is full.
    assert!(plot(Path::new("/dev/null")).output().unwrap().status.success());
    assert!(is_char_device(Path::new("/dev/null")));
    if Path::new("/dev/full").exists() {
        let err = one_line(&plot(Path::new("/dev/full")).output().unwrap(), 1);
        assert!(err.contains("/dev/full") && err.contains("No space left"), "{err}");
        assert!(is_char_device(Path::new("/dev/full")));
    }
    // A named pipe: its reader gets the PNG, and it stays a pipe.
    let fifo = tmp.path().join("fifo.png");
    let c = std::ffi::CString::new(fifo.to_str().unwrap()).unwrap();
    // SAFETY: mkfifo(3) on a NUL-terminated path.
    assert_eq!(unsafe { libc::mkfifo(c.as_ptr(), 0o644) }, 0);
    let reader = {
        let fifo = fifo.clone();
        std::thread::spawn(move || {
            let mut bytes = Vec::new();
            std::fs::File::open(fifo).unwrap().read_to_end(&mut bytes).unwrap();
            bytes
        })
    };
    let out = plot(&fifo).output().unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(reader.join().unwrap().starts_with(b"\x89PNG"));
    assert!(std::fs::symlink_metadata(&fifo).unwrap().file_type().is_fifo());
    // A link to a file: the file gets the PNG, the link stays.
    let target = tmp.path().join("target.png");
    std::fs::write(&target, b"old").unwrap();
    let link = tmp.path().join("link.png");
    std::os::unix::fs::symlink(&target, &link).unwrap();
    assert!(plot(&link).output().unwrap().status.success());
    assert!(std::fs::symlink_metadata(&link).unwrap().file_type().is_symlink());
    assert!(std::fs::read(&target).unwrap().starts_with(b"\x89PNG"));
    // A link to nothing, a folder: refused, nothing created.
    let dangling = tmp.path().join("dangling.png");
    std::os::unix::fs::symlink(tmp.path().join("nowhere.png"), &dangling).unwrap();
    one_line(&plot(&dangling).output().unwrap(), 2);
    assert!(!tmp.path().join("nowhere.png").exists());
    one_line(&plot(tmp.path()).output().unwrap(), 2);
}

#[test]
fn a_run_file_that_is_not_a_regular_file_is_refused_before_training() {
    let fx = Fixture::new(1, 1, "");
    let outside = fx.path("outside.txt");
    for (name, make) in [
        ("metrics.csv", "link"),
        ("lr.csv", "link"),
        ("config.toml", "dir"),
        ("train", "file"),
        ("valid", "file"),
        ("train/epoch-1", "file"),
        ("valid/epoch-1/Loss.log", "dir"),
    ] {
        let art = fx.path(&format!("art-{}", name.replace('/', "-")));
        let path = art.join(name);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(&outside, b"mine").unwrap();
        match make {
            "link" => std::os::unix::fs::symlink(&outside, &path).unwrap(),
            "dir" => std::fs::create_dir(&path).unwrap(),
            _ => std::fs::write(&path, b"mine").unwrap(),
        }
        let err = one_line(&fx.run(&art, &[]), 2);
        assert!(err.contains(name), "{name}: {err}");
        assert_eq!(std::fs::read(&outside).unwrap(), b"mine", "{name}");
        assert!(!art.join("checkpoint").exists(), "{name}: trained");
    }
}

#[test]
fn the_lock_is_never_followed_through_a_link_and_a_folder_there_is_named() {
    let fx = Fixture::new(1, 2, "");
    let art = fx.path("a");
    assert!(fx.run(&art, &["--stop-after-epoch", "1"]).status.success());
    let lock = art.join(".burn-lr.lock");
    let other = fx.path("precious.txt");
    std::fs::write(&other, b"keep me").unwrap();
    std::fs::remove_file(&lock).unwrap();
    std::os::unix::fs::symlink(&other, &lock).unwrap();
    let err = one_line(&fx.run(&art, &["--resume"]), 2);
    assert!(err.contains(".burn-lr.lock") && err.contains("symbolic link"), "{err}");
    assert_eq!(std::fs::read(&other).unwrap(), b"keep me");
    std::fs::remove_file(&lock).unwrap();
    std::fs::create_dir(&lock).unwrap();
    let err = one_line(&fx.run(&art, &["--resume"]), 2);
    assert!(err.contains(".burn-lr.lock (a folder"), "{err}");
    std::fs::remove_dir(&lock).unwrap();
    assert!(fx.run(&art, &["--resume"]).status.success());
}

#[test]
fn drawing_ends_for_huge_tiny_and_non_finite_values() {
    let tmp = tempfile::tempdir().unwrap();
    let config = tmp.path().join("p.toml");
    std::fs::write(&config, PLATEAU).unwrap();
    for metrics in [
        "-1e308,1e308,0",
        "1e308,1e308,1e308",
        "1,1.0000000000000002,1",
        "nan,inf,-inf",
        "5e-324,0,-5e-324",
    ] {
        let png = tmp.path().join("plateau.png");
        let mut child = bin()
            .args(["schedule", "--config", config.to_str().unwrap(), "--epochs", "3"])
            .arg(format!("--metrics={metrics}"))
            .arg("--plot")
            .arg(&png)
            .stdout(Stdio::null())
            .spawn()
            .unwrap();
        assert!(wait(&mut child, Duration::from_secs(60)).success(), "{metrics}");
        assert!(png.is_file(), "{metrics}");
    }
    // A run's files with huge values: `plot` draws them.
    let dir = tmp.path().join("run");
    std::fs::create_dir(&dir).unwrap();
    std::fs::write(
        dir.join("metrics.csv"),
        "epoch,train_loss,val_loss,val_acc,lr,seconds,images_per_s\n1,1e308,-1e308,1e308,0.1,1,1\n2,-1e308,1e308,-1e308,0.1,1,1\n",
    )
    .unwrap();
    std::fs::write(
        dir.join("lr.csv"),
        "step,epoch,lr,momentum\n0,1,1e308,-1e308\n1,1,1e-308,1e308\n",
    )
    .unwrap();
    let mut child = bin().arg("plot").arg(&dir).stdout(Stdio::null()).spawn().unwrap();
    assert!(wait(&mut child, Duration::from_secs(60)).success());
    for png in ["lr_schedule.png", "loss.png", "accuracy.png"] {
        assert!(dir.join(png).is_file(), "{png}");
    }
    // A run file that is a pipe or a device is refused, not read for ever.
    std::fs::remove_file(dir.join("metrics.csv")).unwrap();
    std::os::unix::fs::symlink("/dev/zero", dir.join("metrics.csv")).unwrap();
    let mut child = bin().arg("plot").arg(&dir).stderr(Stdio::piped()).spawn().unwrap();
    assert_eq!(wait(&mut child, Duration::from_secs(60)).code(), Some(2));
    // A checkpoint's seal that is a pipe: the checkpoint is skipped, not read for ever.
    let fx = Fixture::new(1, 2, "");
    let art = fx.path("a");
    assert!(fx.run(&art, &["--stop-after-epoch", "1"]).status.success());
    let md5 = art.join("checkpoint").join("model-1.bpk.md5");
    std::fs::remove_file(&md5).unwrap();
    let c = std::ffi::CString::new(md5.to_str().unwrap()).unwrap();
    // SAFETY: mkfifo(3) on a NUL-terminated path.
    assert_eq!(unsafe { libc::mkfifo(c.as_ptr(), 0o644) }, 0);
    let mut child = fx
        .train(&art, &["--resume"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    assert_eq!(wait(&mut child, Duration::from_secs(60)).code(), Some(2));
}

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
fn compare_names_that_are_not_plain_folder_names_are_refused_before_training() {
    let fx = Fixture::new(1, 1, "");
    let text = std::fs::read_to_string(&fx.config).unwrap();
    let out = fx.path("out");
    for (bad, why) in [
        ("...toml", "starts with `.`"),
        ("..toml", "starts with `.`"),
        ("summary.md.toml", "summary.md"),
        ("COMPARE_LR.png.toml", "compare_lr.png"),
        ("a|b.toml", "`|`"),
    ] {
        let bad_path = fx.path(bad);
        std::fs::write(&bad_path, &text).unwrap();
        let res = burn_lr(&[
            "compare",
            "--configs",
            &fx.config,
            bad_path.to_str().unwrap(),
            "--out",
            out.to_str().unwrap(),
            "--data-dir",
            "/nonexistent",
        ]);
        let err = one_line(&res, 2);
        assert!(err.contains(why), "{bad}: {err}");
        assert!(!fx.path("checkpoint").exists() && !out.join("checkpoint").exists());
    }
    let twin = fx.path("TINY.toml");
    std::fs::write(&twin, &text).unwrap();
    let err = one_line(
        &burn_lr(&[
            "compare",
            "--configs",
            &fx.config,
            twin.to_str().unwrap(),
            "--out",
            out.to_str().unwrap(),
        ]),
        2,
    );
    assert!(err.contains("case does not count"), "{err}");
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
fn config_errors_name_the_file_and_the_line() {
    let tmp = tempfile::tempdir().unwrap();
    let path = tmp.path().join("x.toml");
    let base = "[model]\narch = \"tiny\"\n[optimizer]\nname = \"sgd\"\nlr = 0.1\n[scheduler]\n";
    for (body, line) in [
        ("type = \"fixed\"\n[training]\nepochs = 1\nbatch_size = 0\n", 10),
        (
            "type = \"reduce_on_plateau\"\n[scheduler.warmup]\nepochs = 2\n[training]\nepochs = 3\nbatch_size = 4\n",
            7,
        ),
        (
            "type = \"step\"\nstep_size = 0\n[training]\nepochs = 3\nbatch_size = 4\n",
            8,
        ),
    ] {
        std::fs::write(&path, format!("{base}{body}")).unwrap();
        let err = one_line(
            &burn_lr(&[
                "train",
                "--config",
                path.to_str().unwrap(),
                "--data-dir",
                "/nonexistent",
            ]),
            2,
        );
        assert!(err.contains(&format!("{}, line {line}", path.display())), "{err}");
    }
    // A OneCycle too short for its pct_start: said in the run's terms.
    std::fs::write(
        &path,
        format!(
            "{base}type = \"one_cycle\"\nmax_lr = 0.1\npct_start = 0.25\n[training]\nepochs = 1\nbatch_size = 128\n"
        ),
    )
    .unwrap();
    let err = one_line(
        &burn_lr(&[
            "train",
            "--config",
            path.to_str().unwrap(),
            "--train-limit",
            "500",
            "--data-dir",
            "/nonexistent",
        ]),
        2,
    );
    assert!(
        err.contains("this run is too short") && err.contains("4 step(s)"),
        "{err}"
    );
    assert!(!err.contains("total_steps"), "{err}");
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
