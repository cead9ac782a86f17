//! `[training] precision` on the CPU (Burn's flex computes in bf16 and f16): a half-precision
//! run trains, says so in its header, differs from the f32 run only by rounding, and resumes
//! bit-exactly; a bad name and a device whose float type this process already fixed are one-line
//! errors. Each run is a `burn-lr` process of its own: Burn sets a device's float type once per
//! process.

mod app_common;

use app_common::image_folder;
use burn::tensor::{Device, Tensor};
use burn_lr_cifar::device::{configure, Precision};
use std::path::Path;
use std::process::{Command, Output};

fn burn_lr(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_burn-lr"))
        .args(args)
        .output()
        .expect("run burn-lr")
}

/// The config of a tiny SGD + OneCycle run of 2 epochs on the CPU in `precision`.
fn config(dir: &Path, precision: &str) -> String {
    let path = dir.join(format!("{precision}.toml"));
    std::fs::write(
        &path,
        format!(
            "[model]\narch = \"tiny\"\n[optimizer]\nname = \"sgd\"\nlr = 0.05\nmomentum = 0.9\n\
             [scheduler]\ntype = \"one_cycle\"\nmax_lr = 0.1\n\
             [training]\nepochs = 2\nbatch_size = 8\ndevice = \"cpu\"\nprecision = \"{precision}\"\n"
        ),
    )
    .unwrap();
    path.to_str().unwrap().to_string()
}

/// `(train_loss, val_loss)` of each epoch in `dir/metrics.csv`.
fn losses(dir: &Path) -> Vec<(f64, f64)> {
    let text = std::fs::read_to_string(dir.join("metrics.csv")).unwrap();
    text.lines()
        .skip(1)
        .map(|l| {
            let f: Vec<f64> = l.split(',').skip(1).take(2).map(|x| x.parse().unwrap()).collect();
            (f[0], f[1])
        })
        .collect()
}

fn train(config: &str, data: &Path, art: &Path, more: &[&str]) -> Output {
    let mut args = vec!["train", "--config", config, "--data-dir", data.to_str().unwrap()];
    args.extend(["--artifact-dir", art.to_str().unwrap()]);
    args.extend(more);
    burn_lr(&args)
}

fn ok(out: &Output) -> String {
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(out.status.success(), "{stdout}{}", String::from_utf8_lossy(&out.stderr));
    stdout
}

#[test]
fn half_precision_trains_close_to_f32_and_resumes_exactly() {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("data");
    image_folder(&data, 4);
    let f32_run = tmp.path().join("f32");
    ok(&train(&config(tmp.path(), "f32"), &data, &f32_run, &[]));
    let reference = losses(&f32_run);
    for p in ["bf16", "f16"] {
        let cfg = config(tmp.path(), p);
        let whole = tmp.path().join(p);
        let stdout = ok(&train(&cfg, &data, &whole, &[]));
        assert!(stdout.contains(&format!("Tiny on Cpu (flex) in {p}:")), "{stdout}");
        let half = losses(&whole);
        assert_eq!(half.len(), 2);
        for ((a, b), (x, y)) in reference.iter().zip(&half) {
            // The same weights, batches and schedule: only the rounding differs (bf16 keeps 8
            // bits of mantissa, f16 11), so the losses are close but not bit-identical.
            for (f, h) in [(a, x), (b, y)] {
                assert!((f - h).abs() <= 0.02 * f.abs(), "{p}: f32 {f}, {p} {h}");
            }
        }
        assert_ne!(reference, half, "{p}: the run did not compute in {p}");
        // Stopped after epoch 1 and resumed: the same losses, bit for bit.
        let resumed = tmp.path().join(format!("{p}-resumed"));
        ok(&train(&cfg, &data, &resumed, &["--stop-after-epoch", "1"]));
        ok(&train(&cfg, &data, &resumed, &["--resume"]));
        assert_eq!(losses(&resumed), half, "{p}: resume");
    }
}

#[test]
fn a_bad_precision_or_a_device_already_in_another_type_is_one_line() {
    let tmp = tempfile::tempdir().unwrap();
    let cfg = config(tmp.path(), "fp16");
    let out = train(&cfg, &tmp.path().join("no-data"), &tmp.path().join("a"), &[]);
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(
        err.contains("precision") && err.contains("bf16") && err.contains("f16"),
        "{err}"
    );
    // In one process: the CPU's float type is f32 once a tensor exists on it.
    let device = Device::flex();
    let _ = Tensor::<1>::zeros([2], &device);
    assert!(configure(std::slice::from_ref(&device), Precision::F32).is_ok());
    let err = configure(&[device], Precision::Bf16).unwrap_err().to_string();
    assert!(
        err.starts_with("[training] precision = \"bf16\": this process already computes in f32") && !err.contains('\n'),
        "{err}"
    );
}
