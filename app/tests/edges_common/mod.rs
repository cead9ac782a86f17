//! Shared by the edge tests (`edges.rs`, `edges_resume.rs`): the binary, its output, a run
//! fixture over a small image folder, waits with a limit.

#![allow(dead_code)]

use crate::app_common::{image_folder, saved_weights};
use std::os::unix::fs::FileTypeExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output};
use std::time::{Duration, Instant};

pub fn bin() -> Command {
    Command::new(env!("CARGO_BIN_EXE_burn-lr"))
}

pub fn burn_lr(args: &[&str]) -> Output {
    bin().args(args).output().expect("run burn-lr")
}

pub fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

pub fn stdout(out: &Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// A refusal: exit code `code`, one `error:` line, no panic.
pub fn one_line(out: &Output, code: i32) -> String {
    let err = stderr(out);
    assert_eq!(out.status.code(), Some(code), "stderr: {err}\nstdout: {}", stdout(out));
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(err.starts_with("error: ") && !err.contains("panicked"), "{err}");
    err
}

/// A tiny SGD run (`step` schedule) over the image folder: `images` per class per split.
pub struct Fixture {
    pub tmp: tempfile::TempDir,
    pub config: String,
    pub data: String,
}

impl Fixture {
    pub fn new(images: usize, epochs: usize, extra: &str) -> Self {
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

    pub fn path(&self, name: &str) -> PathBuf {
        self.tmp.path().join(name)
    }

    pub fn train(&self, art: &Path, more: &[&str]) -> Command {
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

    pub fn run(&self, art: &Path, more: &[&str]) -> Output {
        self.train(art, more).output().unwrap()
    }
}

/// The results of a run directory: `metrics.csv` without its timing columns, `lr.csv`, and the
/// kept weights (`model.bpk`, a finished run's).
pub fn files(art: &Path) -> (Vec<String>, String, Option<Vec<f32>>) {
    let metrics = std::fs::read_to_string(art.join("metrics.csv")).unwrap();
    let rows = metrics
        .lines()
        .map(|l| l.split(',').take(5).collect::<Vec<_>>().join(","))
        .collect();
    let kept = saved_weights(&art.join("model.bpk"));
    (rows, std::fs::read_to_string(art.join("lr.csv")).unwrap(), kept)
}

/// `--resume` where an epoch was committed (a seal is there), else `--overwrite` (a run stopped
/// before its first commit has nothing to continue).
pub fn continue_flag(art: &Path) -> &'static str {
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

pub fn wait(child: &mut Child, limit: Duration) -> std::process::ExitStatus {
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

pub fn is_char_device(path: &Path) -> bool {
    std::fs::symlink_metadata(path).is_ok_and(|m| m.file_type().is_char_device())
}

pub const PLATEAU: &str = "[optimizer]\nlr = 0.1\n[scheduler]\ntype = \"reduce_on_plateau\"\npatience = 0\n";
