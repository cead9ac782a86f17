//! What keeping other weights than the stepped ones costs (issue 30): a training step of
//! ResNet-20 at batch 128 through Burn's `Learner` with SGD alone, with an EMA and with an SWA
//! average taken after every update (`AveragedLearnerModel`), with AdamW and with Schedule-Free
//! AdamW (`ScheduleFreeLearnerModel`); and the optimizer state's bytes of SGD, AdamW and
//! Schedule-Free AdamW after one update.
//!
//! Run: `cargo bench --bench weights_step` (release). The five steps are timed in turn, round
//! after round (2 warm-up rounds, then `BURN_LR_BENCH_ROUNDS`, default 12), so the machine's
//! drift hits all of them alike; the medians and their ratios are printed and written to
//! `target/criterion/weights_step.csv`. Environment: `BURN_LR_BENCH_MODELS` (one `[model]
//! arch`, default `resnet20`), `BURN_LR_BENCH_BATCH` (default 128), `BURN_LR_BENCH_BACKENDS`
//! (one of `cpu`, `wgpu`, `cuda`; default `cpu`, Burn's flex with the oneDNN convolution where
//! `libdnnl.so.2` opens). `cargo test --benches` runs one round of ResNet-8 at batch 8 (that it
//! runs, not how fast).

use burn::optim::{GradientsParams, ModuleOptimizer};
use burn::tensor::{Device, Distribution, Int, Tensor};
use burn::train::{ClassificationOutput, Learner, LearnerModel, TrainStep};
use burn_lr::averaging::{AdamWScheduleFreeConfig, AveragedModelConfig, AveragingKind};
use burn_lr::learner::{
    AveragedLearnerConfig, AveragedLearnerModel, LearnerRun, LearnerSchedule, ScheduleFreeLearnerModel,
};
use burn_lr::schedule::SchedulerConfig;
use burn_lr_cifar::config::OptimizerConfig;
use burn_lr_cifar::conv::{is_flex, CpuConv};
use burn_lr_cifar::data::{CifarBatch, CLASSES};
use burn_lr_cifar::device::{device, DeviceName};
use burn_lr_cifar::model::{Arch, ResNet};
use burn_lr_cifar::run::optimizer;
use std::time::Instant;

/// What is measured: the model, the batch, the device, how many rounds.
struct Setup {
    arch: Arch,
    batch: usize,
    device: Device,
    rounds: usize,
}

fn setup() -> Setup {
    let bench = std::env::args().any(|a| a == "--bench");
    let env = |name: &str, default: &str| std::env::var(name).unwrap_or_else(|_| default.to_string());
    let (model, batch, rounds) = match bench {
        true => (
            env("BURN_LR_BENCH_MODELS", "resnet20"),
            env("BURN_LR_BENCH_BATCH", "128"),
            env("BURN_LR_BENCH_ROUNDS", "12"),
        ),
        false => ("resnet8".into(), "8".into(), "1".into()),
    };
    let backend = match env("BURN_LR_BENCH_BACKENDS", "cpu").as_str() {
        "cpu" => DeviceName::Cpu,
        "wgpu" => DeviceName::Wgpu,
        "cuda" => DeviceName::Cuda,
        other => panic!("BURN_LR_BENCH_BACKENDS: `{other}` (allowed: one of cpu, wgpu, cuda)"),
    };
    Setup {
        arch: toml::Value::String(model.clone())
            .try_into()
            .unwrap_or_else(|_| panic!("BURN_LR_BENCH_MODELS: unknown model `{model}`")),
        batch: batch.parse().expect("BURN_LR_BENCH_BATCH: a number"),
        device: device(backend).unwrap_or_else(|e| panic!("BURN_LR_BENCH_BACKENDS: {e}")),
        rounds: rounds.parse().expect("BURN_LR_BENCH_ROUNDS: a number"),
    }
}

/// A fresh model of `s` (same seed each time) with the app's convolution.
fn model(s: &Setup) -> ResNet {
    s.device.seed(42);
    let conv = CpuConv::Auto
        .resolve(is_flex(&s.device), true)
        .expect("a CPU convolution");
    ResNet::new(s.arch, CLASSES.len(), &s.device.clone().autodiff()).with_conv_kernel(conv)
}

/// Random images `[batch, 3, 32, 32]` and labels on the autodiff device.
fn batch(s: &Setup) -> CifarBatch {
    let ad = s.device.clone().autodiff();
    CifarBatch {
        images: Tensor::random([s.batch, 3, 32, 32], Distribution::Normal(0.0, 1.0), &ad),
        targets: Tensor::<1, Int>::arange(0..s.batch as i64, &ad).remainder_scalar(10),
    }
}

/// The app's optimizer `name` (SGD: momentum 0.9, Nesterov, weight decay 5e-4) and a fixed LR.
fn app_optimizer(name: &str, model: &ResNet) -> (ModuleOptimizer, LearnerSchedule) {
    let text = match name {
        "sgd" => "name = \"sgd\"\nlr = 0.05\nmomentum = 0.9\nnesterov = true\nweight_decay = 5e-4",
        _ => "name = \"adamw\"\nlr = 0.001\nweight_decay = 0.05",
    };
    let cfg: OptimizerConfig = toml::from_str(text).expect("valid optimizer");
    let fixed: SchedulerConfig = toml::from_str("type = \"fixed\"").expect("valid schedule");
    let schedule = LearnerSchedule::new(&fixed, cfg.lr, &LearnerRun::new(1000, 1, 1)).expect("valid schedule");
    let (optim, _) = optimizer(&cfg, &schedule, model).expect("valid optimizer");
    (optim, schedule)
}

/// One optimizer update through the `Learner`; the loss comes back to the host.
fn step<M>(learner: &mut Learner<M>, batch: &CifarBatch) -> f32
where
    M: LearnerModel + TrainStep<Input = CifarBatch, Output = ClassificationOutput>,
{
    let out = learner.train_step(batch.clone());
    learner.lr_step();
    learner.optimizer_step(out.grads);
    out.item.loss.into_scalar()
}

type Stepper = Box<dyn FnMut(&CifarBatch) -> f32>;

fn averaged(s: &Setup, kind: AveragingKind, use_buffers: bool) -> Stepper {
    let m = model(s);
    let (optim, schedule) = app_optimizer("sgd", &m);
    let config = AveragedLearnerConfig::new(
        AveragedModelConfig::new(kind)
            .with_decay(0.999)
            .with_use_buffers(use_buffers),
    )
    .with_update_bn_batches(0);
    let wrapped = AveragedLearnerModel::new(m, config).expect("valid averaging");
    let mut learner = Learner::new(wrapped, optim, schedule.into_scheduler());
    Box::new(move |b| step(&mut learner, b))
}

/// The five steps compared, by name.
fn steppers(s: &Setup) -> Vec<(&'static str, Stepper)> {
    let plain = |name: &str| -> Stepper {
        let m = model(s);
        let (optim, schedule) = app_optimizer(name, &m);
        let mut learner = Learner::new(m, optim, schedule.into_scheduler());
        Box::new(move |b| step(&mut learner, b))
    };
    let schedule_free = || -> Stepper {
        let m = model(s);
        let (_, schedule) = app_optimizer("adamw", &m);
        let (optim, weights) = AdamWScheduleFreeConfig::new()
            .with_weight_decay(0.05)
            .init(&m)
            .expect("valid optimizer");
        let wrapped = ScheduleFreeLearnerModel::new(m, weights).with_update_bn_batches(0);
        let mut learner = Learner::new(wrapped, optim, schedule.into_scheduler());
        Box::new(move |b| step(&mut learner, b))
    };
    vec![
        ("sgd", plain("sgd")),
        ("sgd+ema", averaged(s, AveragingKind::Ema, true)),
        ("sgd+swa", averaged(s, AveragingKind::Swa, false)),
        ("adamw", plain("adamw")),
        ("adamw_schedule_free", schedule_free()),
    ]
}

/// The optimizer state's bytes (Burn's optimizer record, encoded) after one update.
fn state_bytes(s: &Setup, name: &str) -> usize {
    let m = model(s);
    let mut optim = match name {
        "adamw_schedule_free" => AdamWScheduleFreeConfig::new().init(&m).expect("valid optimizer").0,
        other => app_optimizer(other, &m).0,
    };
    let loss = m.forward_classification(batch(s)).loss;
    let grads = GradientsParams::from_grads(loss.backward(), &m);
    let _ = optim.step(0.001f64, m, grads);
    optim.into_bytes().expect("an encodable record").len()
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    let n = v.len();
    if n % 2 == 1 {
        v[n / 2]
    } else {
        (v[n / 2 - 1] + v[n / 2]) / 2.0
    }
}

fn main() {
    let s = setup();
    let data = batch(&s);
    let mut steps = steppers(&s);
    let mut times: Vec<Vec<f64>> = vec![Vec::new(); steps.len()];
    let warm_up = if s.rounds > 1 { 2 } else { 0 };
    for round in 0..warm_up + s.rounds {
        for (i, (_, f)) in steps.iter_mut().enumerate() {
            let t = Instant::now();
            std::hint::black_box(f(&data));
            if round >= warm_up {
                times[i].push(t.elapsed().as_secs_f64() * 1e3);
            }
        }
    }
    let ms: Vec<f64> = times.into_iter().map(median).collect();
    let by = |name: &str| ms[steps.iter().position(|(n, _)| *n == name).expect("a measured step")];
    let mut csv = String::from("step,median_ms,ratio_to_reference,reference,state_bytes\n");
    println!(
        "{:?} batch {} on {:?}, {} rounds (median ms per step):",
        s.arch, s.batch, s.device, s.rounds
    );
    for (name, _) in &steps {
        let reference = if name.starts_with("adamw") { "adamw" } else { "sgd" };
        let ratio = by(name) / by(reference);
        let state = match *name {
            "sgd" | "adamw" | "adamw_schedule_free" => state_bytes(&s, name).to_string(),
            _ => String::new(),
        };
        println!(
            "  {name:<20} {:>9.1} ms  {ratio:.3}x {reference}  {}",
            by(name),
            if state.is_empty() {
                String::new()
            } else {
                format!("optimizer state {state} bytes")
            }
        );
        csv += &format!("{name},{:.3},{ratio:.4},{reference},{state}\n", by(name));
    }
    let target = std::env::var_os("CARGO_TARGET_DIR").map_or_else(
        || std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../target"),
        std::path::PathBuf::from,
    );
    let out = target.join("criterion");
    std::fs::create_dir_all(&out).expect("target/criterion");
    std::fs::write(out.join("weights_step.csv"), csv).expect("weights_step.csv");
}
