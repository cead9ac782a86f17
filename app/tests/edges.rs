//! The promises at the edges (issue 28), on the binary as a user or a faulty machine meets it:
//! paths that are not regular files are written into or refused, never replaced; drawing ends
//! for any input; a closed or full stdout, a full disk or `kill -9` at any instant leaves a run
//! that `--resume` brings back to the straight run's files; foreign files where Burn logs,
//! hostile run names, edited run files, a lock that is a link or a folder, stale temporary
//! files: each one line and the right exit code, never a panic.

mod app_common;
mod edges_common;

use edges_common::*;
use std::io::Read;
use std::os::unix::fs::FileTypeExt;
use std::path::Path;
use std::process::Stdio;
use std::time::Duration;

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
