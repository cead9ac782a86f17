//! `[training] cpu_conv`: oneDNN's convolution (forward, input and weight gradients) equals
//! Burn's flex convolution over random shapes; a run with it trains close to Burn's, says so in
//! its header and resumes bit-exactly; where it cannot run, `onednn` is one line and `auto`
//! falls back to Burn's.
//!
//! Without `libdnnl.so.2` the oneDNN tests print why and pass; CI installs it and sets
//! `BURN_LR_REQUIRE_ONEDNN=1`, which makes a missing library a failure.

mod app_common;

use app_common::image_folder;
use burn::module::Param;
use burn::nn::conv::{Conv2d, Conv2dConfig};
use burn::nn::PaddingConfig2d;
use burn::tensor::{Device, Tensor, TensorData};
use burn_lr_cifar::conv::{conv2d, extension, onednn, ConvKernel};
use rand::{Rng, SeedableRng};
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// oneDNN, or `None` (the test is skipped) where it does not open and CI does not require it.
fn onednn_or_skip() -> Option<&'static onednn::OneDnn> {
    match onednn::get() {
        Ok(lib) => Some(lib),
        Err(e) if std::env::var_os("BURN_LR_REQUIRE_ONEDNN").is_some() => {
            panic!("BURN_LR_REQUIRE_ONEDNN is set, but {e}")
        }
        Err(e) => {
            eprintln!("skipped: {e}");
            None
        }
    }
}

/// One convolution: `[batch, c_in, h, w]` input, `c_out` filters of `k` (rows, columns), its
/// stride and its symmetric padding (rows, columns).
#[derive(Debug, Clone, Copy)]
struct Case {
    batch: usize,
    c_in: usize,
    c_out: usize,
    h: usize,
    w: usize,
    k: [usize; 2],
    stride: [usize; 2],
    pad: [usize; 2],
}

impl Case {
    /// `[batch, c_in, c_out, h, w, k, stride, padding]`: a square kernel, stride and padding.
    fn square([batch, c_in, c_out, h, w, k, s, p]: [usize; 8]) -> Self {
        Case {
            batch,
            c_in,
            c_out,
            h,
            w,
            k: [k; 2],
            stride: [s; 2],
            pad: [p; 2],
        }
    }

    /// `[oh, ow]`, PyTorch's.
    fn out(&self) -> [usize; 2] {
        let o = |i: usize, len: usize| (len + 2 * self.pad[i] - self.k[i]) / self.stride[i] + 1;
        [o(0, self.h), o(1, self.w)]
    }
}

fn values(rng: &mut rand_chacha::ChaCha8Rng, n: usize) -> Vec<f32> {
    (0..n).map(|_| rng.random_range(-1.0f32..1.0)).collect()
}

/// The ResNet layers, kernels 1, 3 and 7, strides 1 to 3, batch 1, odd sizes and channel counts
/// that are not multiples of the SIMD width (8), rows and columns that differ, random cases.
fn cases() -> Vec<Case> {
    let c = Case::square;
    let mut cases = vec![
        c([4, 16, 16, 32, 32, 3, 1, 1]),
        c([4, 16, 32, 32, 32, 3, 2, 1]),
        c([4, 16, 32, 32, 32, 1, 2, 0]),
        c([2, 3, 16, 32, 32, 3, 1, 1]),
        c([1, 7, 5, 13, 11, 7, 2, 3]),
        c([3, 9, 13, 9, 15, 1, 1, 0]),
        c([1, 1, 1, 5, 5, 3, 3, 0]),
        c([2, 19, 17, 7, 7, 3, 1, 2]),
        Case {
            batch: 2,
            c_in: 5,
            c_out: 6,
            h: 11,
            w: 8,
            k: [3, 1],
            stride: [2, 1],
            pad: [1, 0],
        },
        Case {
            batch: 1,
            c_in: 3,
            c_out: 4,
            h: 6,
            w: 13,
            k: [1, 5],
            stride: [1, 3],
            pad: [0, 2],
        },
    ];
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(19);
    for _ in 0..16 {
        let k: [usize; 2] = [0, 1].map(|_| [1, 3, 5, 7][rng.random_range(0..4)]);
        let pad = k.map(|k| rng.random_range(0..=k / 2 + 1));
        // At least the kernel, once padded.
        let [h, w] = [0, 1].map(|i| rng.random_range(k[i].saturating_sub(2 * pad[i]).max(1)..=17));
        let (c_in, c_out) = (rng.random_range(1..=21), rng.random_range(1..=21));
        let stride = [rng.random_range(1..=3), rng.random_range(1..=3)];
        cases.push(Case {
            batch: rng.random_range(1..=5),
            c_in,
            c_out,
            h,
            w,
            k,
            stride,
            pad,
        });
    }
    cases
}

fn layer(case: Case, weight: &[f32], device: &Device) -> Conv2d {
    let Case {
        c_in,
        c_out,
        k,
        stride,
        pad,
        ..
    } = case;
    let mut conv = Conv2dConfig::new([c_in, c_out], k)
        .with_stride(stride)
        .with_padding(PaddingConfig2d::Explicit(pad[0], pad[1], pad[0], pad[1]))
        .with_bias(false)
        .init(device);
    let w = Tensor::<4>::from_data(TensorData::new(weight.to_vec(), [c_out, c_in, k[0], k[1]]), device);
    conv.weight = Param::from_tensor(w);
    conv
}

/// `(y, dL/dx, dL/dweight)` of `L = sum(conv(x) * g)` with `kernel`.
fn run(case: Case, x: &[f32], weight: &[f32], g: &[f32], kernel: ConvKernel) -> [Vec<f32>; 3] {
    let device = Device::flex().autodiff();
    let conv = layer(case, weight, &device);
    let shape = [case.batch, case.c_in, case.h, case.w];
    let x = Tensor::<4>::from_data(TensorData::new(x.to_vec(), shape), &device).require_grad();
    let y = conv2d(&conv, x.clone(), kernel);
    let g = Tensor::<4>::from_data(TensorData::new(g.to_vec(), y.dims()), &device);
    let grads = (y.clone() * g).sum().backward();
    let vec = |t: Tensor<4>| t.into_data().try_to_vec::<f32>().unwrap();
    let dx = x.grad(&grads).expect("dL/dx");
    let dw = conv.weight.grad(&grads).expect("dL/dweight");
    [vec(y.inner()), vec(dx), vec(dw)]
}

fn assert_close(what: &str, case: Case, got: &[f32], want: &[f32]) {
    assert_eq!(got.len(), want.len(), "{what} {case:?}");
    let scale = want.iter().fold(1f32, |m, v| m.max(v.abs()));
    let err = got.iter().zip(want).fold(0f32, |m, (a, b)| m.max((a - b).abs()));
    assert!(
        err <= 1e-5 * scale,
        "{what} {case:?}: max error {err} (largest value {scale})"
    );
}

#[test]
fn onednn_equals_burns_convolution_and_its_gradients() {
    let Some(lib) = onednn_or_skip() else { return };
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(7);
    let before = extension::fallbacks();
    for case in cases() {
        let Case {
            batch,
            c_in,
            c_out,
            h,
            w,
            k,
            stride,
            pad,
        } = case;
        let [oh, ow] = case.out();
        let x = values(&mut rng, batch * c_in * h * w);
        let weight = values(&mut rng, c_out * c_in * k[0] * k[1]);
        let g = values(&mut rng, batch * c_out * oh * ow);
        let burn = run(case, &x, &weight, &g, ConvKernel::Burn);
        let calls = extension::onednn_calls();
        let dnn = run(case, &x, &weight, &g, ConvKernel::OneDnn);
        // The forward pass and both gradients ran on oneDNN (other tests may add calls).
        assert!(extension::onednn_calls() >= calls + 3, "{case:?} did not run on oneDNN");
        for (i, what) in ["forward", "input gradient", "weight gradient"].into_iter().enumerate() {
            assert_close(what, case, &dnn[i], &burn[i]);
        }
        // The wrapper alone, without Burn's graph: the same values.
        let shape = onednn::Conv2dShape {
            input: [batch, c_in, h, w],
            weight: [c_out, c_in, k[0], k[1]],
            stride,
            padding: pad,
        };
        assert_close(
            "wrapper forward",
            case,
            &lib.forward(&shape, &x, &weight).unwrap(),
            &burn[0],
        );
        assert_close(
            "wrapper input gradient",
            case,
            &lib.backward_data(&shape, &weight, &g).unwrap(),
            &burn[1],
        );
        assert_close(
            "wrapper weight gradient",
            case,
            &lib.backward_weights(&shape, &x, &g).unwrap(),
            &burn[2],
        );
    }
    assert_eq!(extension::fallbacks(), before, "a case fell back to Burn's convolution");
}

#[test]
fn convolutions_onednn_does_not_cover_are_burns() {
    // Dilation, groups, a bias, asymmetric padding: the model's `conv2d` hands them to Burn.
    let device = Device::flex();
    let x = Tensor::<4>::random([2, 4, 9, 9], burn::tensor::Distribution::Default, &device);
    let configs = [
        Conv2dConfig::new([4, 6], [3, 3]).with_dilation([2, 2]).with_bias(false),
        Conv2dConfig::new([4, 6], [3, 3]).with_groups(2).with_bias(false),
        Conv2dConfig::new([4, 6], [3, 3]),
        Conv2dConfig::new([4, 6], [3, 3])
            .with_padding(PaddingConfig2d::Explicit(1, 0, 0, 1))
            .with_bias(false),
    ];
    let before = extension::fallbacks();
    for config in configs {
        let conv = config.init(&device);
        let want = conv.forward(x.clone()).into_data();
        conv2d(&conv, x.clone(), ConvKernel::OneDnn)
            .into_data()
            .assert_eq(&want, true);
    }
    assert_eq!(extension::fallbacks(), before);
}

fn burn_lr(args: &[&str], env: &[(&str, &str)]) -> Output {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_burn-lr"));
    cmd.args(args).envs(env.iter().copied());
    cmd.output().expect("run burn-lr")
}

/// A tiny SGD + OneCycle run of 2 epochs on the CPU; `extra` is appended to `[training]`.
fn config(dir: &Path, name: &str, extra: &str) -> String {
    let path = dir.join(format!("{name}.toml"));
    let text = format!(
        "[model]\narch = \"tiny\"\n[data]\naugment = false\n[optimizer]\nname = \"sgd\"\nlr = 0.05\nmomentum = 0.9\n\
         [scheduler]\ntype = \"one_cycle\"\nmax_lr = 0.1\n\
         [training]\nepochs = 2\nbatch_size = 8\ndevice = \"cpu\"\n{extra}\n"
    );
    std::fs::write(&path, text).unwrap();
    path.to_str().unwrap().to_string()
}

fn train(config: &str, data: &Path, art: &Path, more: &[&str], env: &[(&str, &str)]) -> Output {
    let mut args = vec!["train", "--config", config, "--data-dir", data.to_str().unwrap()];
    args.extend(["--artifact-dir", art.to_str().unwrap()]);
    args.extend(more);
    burn_lr(&args, env)
}

fn ok(out: &Output) -> String {
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(out.status.success(), "{stdout}{}", String::from_utf8_lossy(&out.stderr));
    stdout
}

/// The train and validation loss of each epoch in `dir/metrics.csv`.
fn losses(dir: &Path) -> Vec<(f64, f64)> {
    let text = std::fs::read_to_string(dir.join("metrics.csv")).unwrap();
    let row = |l: &str| {
        let f: Vec<f64> = l.split(',').skip(1).take(2).map(|x| x.parse().unwrap()).collect();
        (f[0], f[1])
    };
    text.lines().skip(1).map(row).collect()
}

#[test]
fn a_run_on_onednn_trains_as_burns_does_and_resumes_exactly() {
    let Some(lib) = onednn_or_skip() else { return };
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("data");
    image_folder(&data, 4);
    let burn_cfg = config(tmp.path(), "burn", "cpu_conv = \"burn\"");
    let burn_run = tmp.path().join("burn");
    assert!(ok(&train(&burn_cfg, &data, &burn_run, &[], &[])).contains("\nconvolution: Burn's\n"));
    let dnn_cfg = config(tmp.path(), "onednn", "cpu_conv = \"onednn\"");
    let whole = tmp.path().join("onednn");
    let out = train(&dnn_cfg, &data, &whole, &[], &[]);
    let stdout = ok(&out);
    assert!(
        stdout.contains(&format!("\nconvolution: oneDNN {} (", lib.version())),
        "{stdout}"
    );
    // No convolution fell back to Burn's (it would warn).
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!stderr.contains("warning"), "{stderr}");
    let (reference, dnn) = (losses(&burn_run), losses(&whole));
    assert_eq!(dnn.len(), 2);
    for ((a, b), (x, y)) in reference.iter().zip(&dnn) {
        // The same weights, batches and schedule; only the order of the sums differs.
        for (burn, onednn) in [(a, x), (b, y)] {
            assert!(
                (burn - onednn).abs() <= 1e-3 * burn.abs(),
                "Burn's {burn}, oneDNN {onednn}"
            );
        }
    }
    assert_ne!(reference, dnn, "the run did not use oneDNN");
    // Stopped after epoch 1 and resumed: the same losses, bit for bit.
    let resumed = tmp.path().join("resumed");
    ok(&train(&dnn_cfg, &data, &resumed, &["--stop-after-epoch", "1"], &[]));
    ok(&train(&dnn_cfg, &data, &resumed, &["--resume"], &[]));
    assert_eq!(losses(&resumed), dnn, "resume");
}

fn one_line_error(out: &Output) -> String {
    assert_eq!(out.status.code(), Some(2), "{}", String::from_utf8_lossy(&out.stdout));
    let err = String::from_utf8_lossy(&out.stderr).into_owned();
    assert_eq!(err.lines().count(), 1, "{err}");
    err
}

#[test]
fn onednn_where_it_cannot_run_is_one_line_and_auto_uses_burns() {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("data");
    image_folder(&data, 1);
    let art = tmp.path().join("a");
    let no_lib = [("BURN_LR_ONEDNN_LIB", "/nonexistent/libdnnl.so.2")];
    let err = one_line_error(&train(
        &config(tmp.path(), "a", "cpu_conv = \"onednn\""),
        &data,
        &art,
        &[],
        &no_lib,
    ));
    assert!(
        err.contains("cpu_conv = \"onednn\"") && err.contains("apt-get install libdnnl-dev"),
        "{err}"
    );
    let half = config(tmp.path(), "b", "cpu_conv = \"onednn\"\nprecision = \"bf16\"");
    let err = one_line_error(&train(&half, &data, &art, &[], &[]));
    assert!(err.contains("cpu_conv = \"onednn\": it runs in f32 only"), "{err}");
    let err = one_line_error(&train(
        &config(tmp.path(), "c", "cpu_conv = \"fast\""),
        &data,
        &art,
        &[],
        &[],
    ));
    assert!(
        err.contains("cpu_conv") && err.contains("onednn") && err.contains("burn"),
        "{err}"
    );
    // `auto` without the library: Burn's, said in the header.
    let auto = config(tmp.path(), "d", "cpu_conv = \"auto\"");
    let stdout = ok(&train(&auto, &data, &art, &["--epochs", "1"], &no_lib));
    assert!(stdout.contains("\nconvolution: Burn's\n"), "{stdout}");
}

/// Damaged copies of a shared library: the first 10 kB of one (this test's own binary, or
/// libdnnl.so.2 where it is installed) and the library cut short by one byte.
fn damaged_libraries(dir: &Path) -> Vec<PathBuf> {
    let mut sources = vec![std::env::current_exe().unwrap()];
    sources.extend(
        [
            "/usr/lib/x86_64-linux-gnu/libdnnl.so.2",
            "/usr/lib/aarch64-linux-gnu/libdnnl.so.2",
        ]
        .map(PathBuf::from)
        .into_iter()
        .filter(|p| p.is_file()),
    );
    let mut out = Vec::new();
    for (i, source) in sources.iter().enumerate() {
        let bytes = std::fs::read(source).unwrap();
        for (j, len) in [10_000, bytes.len() - 1].into_iter().enumerate() {
            let path = dir.join(format!("libdamaged-{i}-{j}.so"));
            std::fs::write(&path, &bytes[..len]).unwrap();
            out.push(path);
        }
    }
    out
}

#[test]
fn a_damaged_library_is_one_line_and_auto_falls_back() {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("data");
    image_folder(&data, 1);
    for (i, lib) in damaged_libraries(tmp.path()).iter().enumerate() {
        let env = [("BURN_LR_ONEDNN_LIB", lib.to_str().unwrap())];
        let art = tmp.path().join(format!("a{i}"));
        let err = one_line_error(&train(
            &config(tmp.path(), &format!("x{i}"), "cpu_conv = \"onednn\""),
            &data,
            &art,
            &[],
            &env,
        ));
        assert!(err.contains(lib.to_str().unwrap()), "{err}");
        assert!(err.contains("truncated") || err.contains("not an ELF"), "{err}");
        let auto = config(tmp.path(), &format!("y{i}"), "cpu_conv = \"auto\"");
        let stdout = ok(&train(
            &auto,
            &data,
            &tmp.path().join(format!("b{i}")),
            &["--epochs", "1"],
            &env,
        ));
        assert!(stdout.contains("\nconvolution: Burn's\n"), "{stdout}");
    }
}
