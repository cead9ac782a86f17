//! Training throughput: one full training step (forward, cross-entropy, backward, the
//! scheduler's `step()`, the optimizer update) of ResNet-8, ResNet-20 and ResNet-18 at batch
//! 128 on every backend compiled in, and the input pipeline alone (JPEG decode; crop, flip,
//! normalize and batch; Burn's data loader over one epoch).
//!
//! Run: `cargo bench --bench train_step` (add `--features wgpu` for the GPU). Environment:
//! - `BURN_LR_BENCH_BACKENDS`: comma list of `cpu` (Burn's flex), `ndarray`, `wgpu`, `cuda`;
//!   default `cpu` plus `wgpu`/`cuda` when compiled in (`ndarray` needs `--features ndarray`: ~3 images/s).
//! - `BURN_LR_BENCH_MODELS`: default `resnet8,resnet20,resnet18` (any `[model] arch`).
//! - `BURN_LR_BENCH_BATCH`: images per step, default 128.
//! - `BURN_LR_BENCH_PEAK`: the device, by a name of `burn_lr_cifar::model::flops::PEAKS`
//!   (`H200`, `H100`, `A100`, `L4`, `V100`, `T4`, `RTX4090`, `RTX3090`), for the model-FLOP
//!   utilisation columns; without it they are empty.
//! - `BURN_LR_BENCH_PRECISION`: `f32` (default), `bf16` or `f16`: the float type of every
//!   tensor on the benchmarked devices (`[training] precision`, through Burn's
//!   `Device::configure`, once per process: run the bench once per precision).
//! - `BURN_LR_BENCH_CONV`: `auto` (default), `onednn` or `burn`: the CPU convolution
//!   (`[training] cpu_conv`); the CSV's `conv` column says which ran.
//!
//! Each step is the app's: SGD (momentum 0.9, Nesterov, weight decay 5e-4) with OneCycle
//! (`max_lr` 0.2, cycled momentum) through Burn's `Learner` (`train_step`, `lr_step`,
//! `optimizer_step`), the loss read back to the host as Burn's loss metric does. Criterion
//! takes the median of 10 samples of one step each after 3 warm-up steps (flat sampling).
//! `cargo test --benches` runs every benchmark once (CI does, to prove they run).
//! Peak memory is the host heap (a counting allocator) from building the model to the last
//! step; a GPU's own memory is not in it. The heap is mimalloc, as in the `burn-lr` binary (with
//! its purge off, as there);
//! `BURN_LR_BENCH_ALLOCATOR=system` measures with the system allocator instead (this single
//! training thread shows no consistent difference; a whole run, with Burn's loader and metric
//! threads, does: docs/measured.md, "Speed").
//!
//! Each row also has the model's training FLOPs per image, counted from its layers (3x the
//! forward pass's multiply-adds x 2: `burn_lr_cifar::model::flops`), the TFLOP/s they make at
//! the measured speed, and with `BURN_LR_BENCH_PEAK` the model-FLOP utilisation against that
//! device's f32 and bf16 peaks (an f32 step reads against the f32 peak, the bf16 figure being
//! the headroom; a bf16 step against the bf16 peak).
//!
//! Results: criterion's report plus `target/criterion/train_step.csv` (`backend, model, batch,
//! precision, median_ms, images_per_s, peak_host_mib, train_gflop_per_image, tflop_per_s, mfu_f32,
//! mfu_bf16`) and `target/criterion/input_pipeline.csv`, which `benches/compare.sh` reads.

use burn::data::dataloader::batcher::Batcher;
use burn::data::dataloader::{DataLoader, DataLoaderBuilder};
use burn::tensor::{Device, Distribution, Int, Tensor};
use burn::train::Learner;
use burn_lr::learner::{LearnerRun, LearnerSchedule};
use burn_lr::schedule::SchedulerConfig;
use burn_lr_cifar::config::OptimizerConfig;
use burn_lr_cifar::conv::{is_flex, ConvKernel, CpuConv};
use burn_lr_cifar::data::{
    load_image_folder, CifarBatch, CifarBatcher, CifarItem, Crop, EpochDataset, EpochLoader, TrainItem, CLASSES,
};
use burn_lr_cifar::device::device;
use burn_lr_cifar::device::DeviceName;
use burn_lr_cifar::device::{configure, Precision};
use burn_lr_cifar::model::flops::{mfu, peak};
use burn_lr_cifar::model::{Arch, ResNet};
use burn_lr_cifar::run::optimizer;
use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, SamplingMode, Throughput};
use mimalloc::MiMalloc;
use std::alloc::{GlobalAlloc, Layout, System};
use std::path::PathBuf;
use std::sync::atomic::{AtomicU8, AtomicUsize, Ordering};
use std::sync::{Arc, OnceLock};
use std::time::{Duration, Instant, SystemTime};

/// The heap allocator of the bench: mimalloc, as the `burn-lr` binary uses (or the system
/// allocator with `BURN_LR_BENCH_ALLOCATOR=system`, the "before" of docs/measured.md), counting live
/// and peak bytes. The choice is read once, at the first allocation, and never changes.
struct Counting;

static LIVE: AtomicUsize = AtomicUsize::new(0);
static PEAK: AtomicUsize = AtomicUsize::new(0);
/// 0: not chosen yet, 1: system, 2: mimalloc.
static CHOICE: AtomicU8 = AtomicU8::new(0);

fn use_system() -> bool {
    let mut choice = CHOICE.load(Ordering::Relaxed);
    if choice == 0 {
        // `getenv` does not allocate (std's `env::var` would, inside the allocator).
        let name = c"BURN_LR_BENCH_ALLOCATOR";
        let value = unsafe { libc::getenv(name.as_ptr()) };
        let system = !value.is_null() && unsafe { std::ffi::CStr::from_ptr(value) }.to_bytes() == b"system";
        choice = if system { 1 } else { 2 };
        CHOICE.store(choice, Ordering::Relaxed);
    }
    choice == 1
}

fn counted(p: *mut u8, grow: usize, shrink: usize) -> *mut u8 {
    if !p.is_null() {
        let live = LIVE.fetch_add(grow, Ordering::Relaxed) + grow;
        LIVE.fetch_sub(shrink, Ordering::Relaxed);
        PEAK.fetch_max(live, Ordering::Relaxed);
    }
    p
}

unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        let p = unsafe {
            if use_system() {
                System.alloc(layout)
            } else {
                MiMalloc.alloc(layout)
            }
        };
        counted(p, layout.size(), 0)
    }
    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        // Forwarded: both allocators skip zeroing pages fresh from the kernel.
        let p = unsafe {
            if use_system() {
                System.alloc_zeroed(layout)
            } else {
                MiMalloc.alloc_zeroed(layout)
            }
        };
        counted(p, layout.size(), 0)
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        unsafe {
            if use_system() {
                System.dealloc(ptr, layout)
            } else {
                MiMalloc.dealloc(ptr, layout)
            }
        };
        LIVE.fetch_sub(layout.size(), Ordering::Relaxed);
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        let p = unsafe {
            if use_system() {
                System.realloc(ptr, layout, new_size)
            } else {
                MiMalloc.realloc(ptr, layout, new_size)
            }
        };
        counted(p, new_size, layout.size())
    }
}

#[global_allocator]
static ALLOCATOR: Counting = Counting;

const MIB: f64 = 1024.0 * 1024.0;

fn env_list(name: &str, default: &str) -> Vec<String> {
    std::env::var(name)
        .unwrap_or_else(|_| default.into())
        .split(',')
        .map(|s| s.trim().to_lowercase())
        .filter(|s| !s.is_empty())
        .collect()
}

fn default_backends() -> String {
    let mut list = vec!["cpu"];
    if cfg!(feature = "wgpu") {
        list.push("wgpu");
    }
    if cfg!(feature = "cuda") {
        list.push("cuda");
    }
    list.join(",")
}

fn device_of(name: &str) -> Device {
    let device_name = match name {
        "cpu" => DeviceName::Cpu,
        "ndarray" => DeviceName::Ndarray,
        "wgpu" => DeviceName::Wgpu,
        "cuda" => DeviceName::Cuda,
        other => panic!("BURN_LR_BENCH_BACKENDS: unknown backend `{other}` (allowed: cpu, ndarray, wgpu, cuda)"),
    };
    device(device_name).unwrap_or_else(|e| panic!("BURN_LR_BENCH_BACKENDS: {name}: {e}"))
}

/// Once per process, before any tensor: the binary's heap settings
/// ([`burn_lr_cifar::allocator::keep_freed_memory`]) and every benchmarked device's float type
/// (`BURN_LR_BENCH_PRECISION`; Burn fixes it per device at its first tensor, and the input
/// pipeline's batches are on the CPU). Returns the precision.
fn setup() -> Precision {
    static PRECISION: OnceLock<Precision> = OnceLock::new();
    *PRECISION.get_or_init(|| {
        burn_lr_cifar::allocator::keep_freed_memory();
        burn_lr_cifar::conv::passive_openmp_threads();
        let precision = bench_precision();
        for backend in env_list("BURN_LR_BENCH_BACKENDS", &default_backends()) {
            let device = device_of(&backend);
            configure(std::slice::from_ref(&device), precision).unwrap_or_else(|e| panic!("{backend}: {e}"));
        }
        precision
    })
}

/// `BURN_LR_BENCH_CONV` (default `auto`) resolved for `device` in the bench's precision.
fn conv_kernel(device: &Device) -> ConvKernel {
    let conv: CpuConv = std::env::var("BURN_LR_BENCH_CONV").map_or(CpuConv::Auto, |c| {
        toml::Value::String(c.clone())
            .try_into()
            .unwrap_or_else(|_| panic!("BURN_LR_BENCH_CONV: unknown convolution `{c}` (allowed: auto, onednn, burn)"))
    });
    conv.resolve(is_flex(device), setup() == Precision::F32)
        .unwrap_or_else(|e| panic!("BURN_LR_BENCH_CONV: {e}"))
}

/// `BURN_LR_BENCH_PRECISION` (default f32).
fn bench_precision() -> Precision {
    std::env::var("BURN_LR_BENCH_PRECISION").map_or(Precision::F32, |p| {
        toml::Value::String(p.clone())
            .try_into()
            .unwrap_or_else(|_| panic!("BURN_LR_BENCH_PRECISION: unknown precision `{p}` (allowed: f32, bf16, f16)"))
    })
}

fn arch_of(name: &str) -> Arch {
    toml::Value::String(name.into())
        .try_into()
        .unwrap_or_else(|_| panic!("BURN_LR_BENCH_MODELS: unknown model `{name}`"))
}

/// `target/criterion` of this build (the workspace target directory).
fn out_dir() -> PathBuf {
    let target = std::env::var_os("CARGO_TARGET_DIR").map_or_else(
        || PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../target"),
        PathBuf::from,
    );
    target.join("criterion")
}

/// A Burn `Learner` set up as the app sets up quick-cpu (SGD Nesterov, OneCycle), and a batch
/// of random images `[batch, 3, 32, 32]` and labels on `device`.
fn learner(arch: Arch, batch: usize, device: &Device) -> (Learner<ResNet>, CifarBatch) {
    device.seed(42);
    let scheduler: SchedulerConfig =
        toml::from_str("type = \"one_cycle\"\nmax_lr = 0.2\npct_start = 0.25").expect("valid OneCycle config");
    let run = LearnerRun::new(batch * 1000, batch, 10);
    let schedule = LearnerSchedule::new(&scheduler, 0.1, &run).expect("valid OneCycle schedule");
    let optim_cfg: OptimizerConfig =
        toml::from_str("name = \"sgd\"\nlr = 0.1\nmomentum = 0.9\nnesterov = true\nweight_decay = 5e-4")
            .expect("valid optimizer config");
    let model = ResNet::new(arch, CLASSES.len(), &device.clone().autodiff()).with_conv_kernel(conv_kernel(device));
    let (optim, _) = optimizer(&optim_cfg, &schedule, &model).expect("valid optimizer settings");
    let images = Tensor::random(
        [batch, 3, 32, 32],
        Distribution::Normal(0.0, 1.0),
        &device.clone().autodiff(),
    );
    let targets = Tensor::<1, Int>::arange(0..batch as i64, &device.clone().autodiff()).remainder_scalar(10);
    let learner = Learner::new(model, optim, schedule.into_scheduler());
    (learner, CifarBatch { images, targets })
}

/// One optimizer update; the loss comes back to the host (as Burn's loss metric reads it).
fn step(learner: &mut Learner<ResNet>, batch: &CifarBatch) -> f32 {
    let out = learner.train_step(batch.clone());
    learner.lr_step();
    learner.optimizer_step(out.grads);
    out.item.loss.into_scalar()
}

struct StepResult {
    backend: String,
    model: String,
    batch: usize,
    precision: Precision,
    median_ms: f64,
    peak_mib: f64,
    /// Training FLOPs per image.
    train_flops: u64,
    /// The convolution, as the run header says it.
    conv: String,
}

/// `BURN_LR_BENCH_PEAK`'s device: its name and f32 / bf16 peaks (TFLOP/s).
fn bench_peak() -> Option<(&'static str, f64, Option<f64>)> {
    let name = std::env::var("BURN_LR_BENCH_PEAK").ok().filter(|n| !n.is_empty())?;
    Some(peak(&name).unwrap_or_else(|| {
        let names: Vec<&str> = burn_lr_cifar::model::flops::PEAKS.iter().map(|p| p.0).collect();
        panic!(
            "BURN_LR_BENCH_PEAK: unknown device `{name}` (allowed: {})",
            names.join(", ")
        )
    }))
}

/// The median criterion estimated for `group/id` in this process (milliseconds); `None` when
/// criterion did not measure it now (filtered out, or `cargo test --benches`, which runs each
/// benchmark once without estimates).
fn criterion_median_ms(group: &str, id: &str) -> Option<f64> {
    let path = out_dir().join(group).join(id).join("new").join("estimates.json");
    let modified = std::fs::metadata(&path).and_then(|m| m.modified()).ok()?;
    if modified < *STARTED.get_or_init(SystemTime::now) {
        return None;
    }
    let text = std::fs::read_to_string(&path).ok()?;
    let v: serde_json::Value = serde_json::from_str(&text).ok()?;
    Some(v["median"]["point_estimate"].as_f64()? / 1e6)
}

/// When this bench process started (estimates older than this are from an earlier run).
static STARTED: OnceLock<SystemTime> = OnceLock::new();

/// A learner built on first use, warmed up by 3 untimed steps (allocations, autotuning), so a
/// benchmark that criterion filters out builds nothing.
struct Lazy {
    arch: Arch,
    batch: usize,
    device: Device,
    built: Option<(Learner<ResNet>, CifarBatch)>,
}

impl Lazy {
    fn get(&mut self) -> &mut (Learner<ResNet>, CifarBatch) {
        let (arch, batch, device) = (self.arch, self.batch, &self.device);
        self.built.get_or_insert_with(|| {
            PEAK.store(LIVE.load(Ordering::Relaxed), Ordering::Relaxed);
            let (mut learner, data) = learner(arch, batch, device);
            for _ in 0..3 {
                assert!(step(&mut learner, &data).is_finite(), "{arch:?}: non-finite loss");
            }
            (learner, data)
        })
    }
}

fn bench_steps(c: &mut Criterion) {
    let batch: usize =
        std::env::var("BURN_LR_BENCH_BATCH").map_or(128, |b| b.parse().expect("BURN_LR_BENCH_BATCH: a number"));
    let precision = setup();
    let mut results = Vec::new();
    let mut group = c.benchmark_group("train_step");
    // Ten samples of one step each (a step takes 0.1-10 s): criterion says it cannot finish
    // them in the 1 ms target and takes them anyway.
    group
        .sampling_mode(SamplingMode::Flat)
        .sample_size(10)
        .warm_up_time(Duration::from_millis(1))
        .measurement_time(Duration::from_millis(1))
        .throughput(Throughput::Elements(batch as u64));
    for backend in env_list("BURN_LR_BENCH_BACKENDS", &default_backends()) {
        let device = device_of(&backend);
        for model in env_list("BURN_LR_BENCH_MODELS", "resnet8,resnet20,resnet18") {
            let mut lazy = Lazy {
                arch: arch_of(&model),
                batch,
                device: device.clone(),
                built: None,
            };
            let id = format!("{backend}-{model}");
            group.bench_function(BenchmarkId::from_parameter(&id), |b| {
                b.iter_custom(|iters| {
                    let (learner, data) = lazy.get();
                    let t = Instant::now();
                    for _ in 0..iters {
                        std::hint::black_box(step(learner, data));
                    }
                    t.elapsed()
                })
            });
            let peak_mib = PEAK.load(Ordering::Relaxed) as f64 / MIB;
            let ran = lazy.built.take().is_some();
            if let (true, Some(median_ms)) = (ran, criterion_median_ms("train_step", &id)) {
                // Counted from the layers' shapes: nothing is drawn or allocated.
                let train_flops = ResNet::new(arch_of(&model), CLASSES.len(), &Device::flex()).train_flops();
                results.push(StepResult {
                    backend: backend.clone(),
                    model,
                    batch,
                    precision,
                    median_ms,
                    peak_mib,
                    train_flops,
                    conv: conv_kernel(&device).describe(),
                });
            }
        }
    }
    group.finish();
    if !results.is_empty() {
        write_steps(&results);
    }
}

fn write_steps(results: &[StepResult]) {
    let device = bench_peak();
    let mut csv = String::from(
        "backend,model,batch,precision,median_ms,images_per_s,peak_host_mib,train_gflop_per_image,tflop_per_s,mfu_f32,mfu_bf16,conv\n",
    );
    let mfu_head = device.map_or("MFU".into(), |(name, _, _)| format!("MFU {name} f32/bf16"));
    println!(
        "\n{:<8} {:<10} {:>6} {:>5} {:>11} {:>10} {:>14} {:>12} {:>9} {:>20}",
        "backend", "model", "batch", "type", "ms/step", "images/s", "peak host MiB", "GFLOP/image", "TFLOP/s", mfu_head
    );
    for r in results {
        let ips = r.batch as f64 / (r.median_ms / 1e3);
        let gflop = r.train_flops as f64 / 1e9;
        let tflops = ips * r.train_flops as f64 / 1e12;
        // Fractions in the CSV, percent on screen; empty without a peak.
        let (f32_mfu, bf16_mfu) = match device {
            Some((_, f32_peak, bf16_peak)) => (
                Some(mfu(ips, r.train_flops, f32_peak)),
                bf16_peak.map(|p| mfu(ips, r.train_flops, p)),
            ),
            None => (None, None),
        };
        let pct = |m: Option<f64>| m.map_or("-".into(), |m| format!("{:.2}%", 100.0 * m));
        let frac = |m: Option<f64>| m.map_or(String::new(), |m| format!("{m:.5}"));
        println!(
            "{:<8} {:<10} {:>6} {:>5} {:>11.1} {:>10.1} {:>14.0} {:>12.3} {:>9.3} {:>20}",
            r.backend,
            r.model,
            r.batch,
            r.precision.to_string(),
            r.median_ms,
            ips,
            r.peak_mib,
            gflop,
            tflops,
            format!("{} / {}", pct(f32_mfu), pct(bf16_mfu))
        );
        csv += &format!(
            "{},{},{},{},{:.3},{:.2},{:.1},{:.4},{:.4},{},{},{}\n",
            r.backend,
            r.model,
            r.batch,
            r.precision,
            r.median_ms,
            ips,
            r.peak_mib,
            gflop,
            tflops,
            frac(f32_mfu),
            frac(bf16_mfu),
            r.conv
        );
    }
    write_out("train_step.csv", &csv);
}

fn write_out(name: &str, text: &str) {
    let dir = out_dir();
    std::fs::create_dir_all(&dir).expect("create target/criterion");
    std::fs::write(dir.join(name), text).expect("write the bench summary");
    println!("wrote {}", dir.join(name).display());
}

/// `n` random-looking images, labels cycling through the classes.
fn items(n: usize) -> Vec<CifarItem> {
    (0..n)
        .map(|i| CifarItem {
            pixels: (0..3072).map(|p| ((p * 31 + i * 17) % 251) as u8).collect(),
            label: (i % 10) as u8,
        })
        .collect()
}

/// `per_class` JPEGs of 32x32 in `root/<class>/`, as `../shared/data/cifar10/train` holds them.
fn jpeg_folder(per_class: usize) -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("temp dir");
    for (label, class) in CLASSES.iter().enumerate() {
        std::fs::create_dir(dir.path().join(class)).expect("class dir");
        for (i, item) in items(per_class).iter().enumerate() {
            let rgb = image::RgbImage::from_fn(32, 32, |x, y| {
                let p = (y * 32 + x) as usize;
                image::Rgb([
                    item.pixels[p],
                    item.pixels[1024 + p],
                    item.pixels[2048 + p].wrapping_add(label as u8),
                ])
            });
            rgb.save(dir.path().join(class).join(format!("{i:05}.jpg")))
                .expect("write a JPEG");
        }
    }
    dir
}

fn bench_input(c: &mut Criterion) {
    setup();
    let batch = 128;
    let mut group = c.benchmark_group("input_pipeline");
    group.sample_size(10);
    let folder = jpeg_folder(200);
    group.throughput(Throughput::Elements(2000));
    group.bench_function("decode_jpeg_folder", |b| {
        b.iter(|| load_image_folder(folder.path()).expect("decodes"))
    });
    let cpu = Device::flex();
    let train: Vec<TrainItem> = items(batch)
        .into_iter()
        .enumerate()
        .map(|(i, item)| TrainItem {
            item,
            crop: Some(Crop {
                dy: (i % 9) as i32 - 4,
                dx: 2,
                flip: i % 2 == 0,
                cutout: None,
            }),
        })
        .collect();
    group.throughput(Throughput::Elements(batch as u64));
    group.bench_function("crop_flip_normalize_batch", |b| {
        b.iter(|| <CifarBatcher as Batcher<TrainItem, CifarBatch>>::batch(&CifarBatcher, train.clone(), &cpu))
    });
    let epoch_items = 40 * batch;
    let dataset = Arc::new(EpochDataset::new(items(epoch_items), 42, true, 0));
    let inner = DataLoaderBuilder::new(CifarBatcher)
        .batch_size(batch)
        .num_workers(1)
        .set_device(cpu.clone())
        .build(dataset.clone());
    let loader = EpochLoader::new(inner, dataset);
    group.throughput(Throughput::Elements(epoch_items as u64));
    group.bench_function("data_loader_epoch", |b| {
        b.iter(|| {
            loader
                .iter()
                .map(|r| r.expect("batch").targets.dims()[0])
                .sum::<usize>()
        })
    });
    group.finish();
    let mut csv = String::from("stage,images_per_s\n");
    let mut measured = false;
    for (id, n) in [
        ("decode_jpeg_folder", 2000.0),
        ("crop_flip_normalize_batch", batch as f64),
        ("data_loader_epoch", epoch_items as f64),
    ] {
        if let Some(ms) = criterion_median_ms("input_pipeline", id) {
            let ips = n / (ms / 1e3);
            println!("input pipeline {id}: {ips:.0} images/s");
            csv += &format!("{id},{ips:.0}\n");
            measured = true;
        }
    }
    if measured {
        write_out("input_pipeline.csv", &csv);
    }
}

fn config() -> Criterion {
    STARTED.get_or_init(SystemTime::now);
    Criterion::default().output_directory(&out_dir()).configure_from_args()
}

criterion_group!(name = benches; config = config(); targets = bench_input, bench_steps);
criterion_main!(benches);
