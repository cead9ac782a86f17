//! The weights you evaluate are not the weights you step: SWA (with SWALR and update_bn) and
//! Schedule-Free AdamW inside *your own* Burn `Learner` run (the library alone:
//! `cargo run --release --example averaging`, a few seconds).
//!
//! 1. SWA as PyTorch's documentation writes it: a cosine schedule, SWALR after epoch `swa_start`,
//!    the average taking in the model after every epoch from there, its BatchNorm statistics
//!    recomputed before each validation. Validation (and so the metrics) runs on the average.
//! 2. Schedule-Free AdamW with a constant learning rate: Burn steps `y`, validation runs on `x`.

use burn::data::dataloader::batcher::Batcher;
use burn::data::dataloader::DataLoaderBuilder;
use burn::data::dataset::InMemDataset;
use burn::module::Module;
use burn::nn::loss::CrossEntropyLossConfig;
use burn::nn::{BatchNorm, BatchNormConfig, Linear, LinearConfig};
use burn::tensor::{Device, Int, Tensor, TensorData};
use burn::train::metric::{AccuracyMetric, LossMetric};
use burn::train::{
    ClassificationOutput, InferenceStep, Learner, LearnerModel, SupervisedTraining, TrainOutput, TrainStep,
};
use burn_lr::averaging::{AdamWScheduleFreeConfig, AveragedModelConfig, AveragingKind};
use burn_lr::burn; // the Burn burn-lr is built on (0.22, or 0.23 with its feature burn-0-23)
use burn_lr::learner::{
    AveragedLearnerConfig, AveragedLearnerModel, LearnerRun, LearnerSchedule, QuietRenderer, ScheduleFreeLearnerModel,
};
use burn_lr::optim::CycledSgdConfig;
use burn_lr::schedule::SchedulerConfig;

/// Your model: points `[batch, 2]` -> logits `[batch, 2]`, with a BatchNorm.
#[derive(Module, Debug)]
struct Mlp {
    hidden: Linear,
    norm: BatchNorm,
    out: Linear,
}

#[derive(Clone, Debug)]
struct Batch {
    points: Tensor<2>,
    labels: Tensor<1, Int>,
}

/// Points in the unit square, label = inside the circle of radius 0.6.
#[derive(Clone, Debug)]
struct Point([f32; 2], i64);

fn points(n: usize, seed: u64) -> Vec<Point> {
    let mut s = seed.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
    let mut next = || {
        s = s.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
        (s >> 40) as f32 / (1u64 << 24) as f32 * 2.0 - 1.0
    };
    (0..n)
        .map(|_| {
            let xy = [next(), next()];
            Point(xy, i64::from(xy[0] * xy[0] + xy[1] * xy[1] < 0.36))
        })
        .collect()
}

struct PointBatcher;

impl Batcher<Point, Batch> for PointBatcher {
    fn batch(&self, items: Vec<Point>, device: &Device) -> Batch {
        let n = items.len();
        let xy: Vec<f32> = items.iter().flat_map(|p| p.0).collect();
        let labels: Vec<i64> = items.iter().map(|p| p.1).collect();
        Batch {
            points: Tensor::from_data(TensorData::new(xy, [n, 2]), device),
            labels: Tensor::from_data(TensorData::new(labels, [n]), device),
        }
    }
}

impl Mlp {
    fn new(device: &Device) -> Self {
        Self {
            hidden: LinearConfig::new(2, 32).init(device),
            norm: BatchNormConfig::new(32).init(device),
            out: LinearConfig::new(32, 2).init(device),
        }
    }

    fn classify(&self, batch: Batch) -> ClassificationOutput {
        let hidden = burn::tensor::activation::relu(self.norm.forward(self.hidden.forward(batch.points)));
        let logits = self.out.forward(hidden);
        let loss = CrossEntropyLossConfig::new()
            .init(&logits.device())
            .forward(logits.clone(), batch.labels.clone());
        ClassificationOutput::new(loss, logits, batch.labels)
    }
}

impl TrainStep for Mlp {
    type Input = Batch;
    type Output = ClassificationOutput;
    fn step(&self, batch: Batch) -> TrainOutput<ClassificationOutput> {
        let item = self.classify(batch);
        TrainOutput::new(self, item.loss.backward(), item)
    }
}

impl InferenceStep for Mlp {
    type Input = Batch;
    type Output = ClassificationOutput;
    fn step(&self, batch: Batch) -> ClassificationOutput {
        self.classify(batch)
    }
}

const BATCH: usize = 64;
const EPOCHS: usize = 8;

/// One `SupervisedTraining` run; returns the trained wrapper.
fn train<M>(
    name: &str,
    model: M,
    optimizer: burn::optim::ModuleOptimizer,
    scheduler: burn::optim::lr_scheduler::module_lr_scheduler::ModuleLrScheduler,
) -> M
where
    M: LearnerModel
        + TrainStep<Input = Batch, Output = ClassificationOutput>
        + InferenceStep<Input = Batch, Output = ClassificationOutput>,
{
    let train = DataLoaderBuilder::new(PointBatcher)
        .batch_size(BATCH)
        .shuffle(1)
        .build(InMemDataset::new(points(2048, 1)));
    let valid = DataLoaderBuilder::new(PointBatcher)
        .batch_size(256)
        .build(InMemDataset::new(points(512, 2)));
    let dir = std::env::temp_dir().join(format!("burn-lr-averaging-{name}"));
    let _ = std::fs::remove_dir_all(&dir);
    let result = SupervisedTraining::new(&dir, train, valid)
        .metrics((LossMetric::new(), AccuracyMetric::new()))
        .with_default_checkpointers()
        .with_application_logger(None)
        .renderer(Box::new(QuietRenderer::new()))
        .num_epochs(EPOCHS)
        .launch(Learner::new(model, optimizer, scheduler));
    result.model
}

/// Validation loss and accuracy of `model` (evaluation mode) on the validation points.
fn evaluate(name: &str, model: &Mlp) {
    let device = model.hidden.weight.val().device();
    let batch = PointBatcher.batch(points(512, 2), &device);
    let labels = batch.labels.clone();
    let out = model.valid().classify(batch);
    let loss: f32 = out.loss.into_scalar();
    let correct: i64 = out
        .output
        .argmax(1)
        .flatten::<1>(0, 1)
        .equal(labels)
        .int()
        .sum()
        .into_scalar();
    println!(
        "{name:<28} validation loss {loss:.4}, accuracy {:.1}%",
        correct as f32 / 5.12
    );
}

fn main() {
    let device = Device::default().autodiff();
    let run = LearnerRun::new(2048, BATCH, EPOCHS);

    // 1. PyTorch: CosineAnnealingLR(T_max=8) and SWALR(swa_lr=0.05) after epoch 4;
    //    AveragedModel(model) updated after every epoch from the one SWALR starts on.
    let config: SchedulerConfig = toml::from_str(
        "type = \"cosine_annealing\"\nt_max = 8\n[swa]\nswa_start = 4\nswa_lr = 0.05\nanneal_epochs = 2",
    )
    .expect("a valid [scheduler] table");
    let schedule = LearnerSchedule::new(&config, 0.2, &run).expect("valid schedule");
    let per_epoch = run.updates_per_epoch();
    let averaging = AveragedModelConfig::new(AveragingKind::Swa)
        .with_start_update(per_epoch * 5) // the end of epoch 5 (the first SWALR epoch)
        .with_every(per_epoch); // then every epoch
    let swa =
        AveragedLearnerModel::new(Mlp::new(&device), AveragedLearnerConfig::new(averaging)).expect("valid averaging");
    let optimizer = CycledSgdConfig::new()
        .with_momentum(0.9)
        .init(schedule.momentum())
        .expect("valid SGD");
    let swa = train("swa", swa, optimizer, schedule.into_scheduler());
    println!(
        "swa: {} models averaged over {} updates",
        swa.n_averaged(),
        swa.updates()
    );
    if let Some(report) = swa.last_update_bn() {
        println!("swa: {report} before validating the average");
    }
    evaluate("swa, the stepped model", &swa.model);
    evaluate("swa, the average (kept)", &swa.evaluated_model());

    // 2. schedulefree.AdamWScheduleFree(lr=0.01, warmup_steps=32), constant LR.
    let model = Mlp::new(&device);
    let (optimizer, weights) = AdamWScheduleFreeConfig::new()
        .with_warmup_steps(32)
        .init(&model)
        .expect("valid settings");
    let constant: SchedulerConfig =
        toml::from_str("type = \"constant\"\nfactor = 1.0\ntotal_iters = 0").expect("constant");
    let scheduler = LearnerSchedule::new(&constant, 0.01, &run)
        .expect("valid schedule")
        .into_scheduler();
    let sf = train(
        "schedule-free",
        ScheduleFreeLearnerModel::new(model, weights),
        optimizer,
        scheduler,
    );
    if let Some(report) = sf.last_update_bn() {
        println!("schedule-free: {report} for x");
    }
    evaluate("schedule-free, y (stepped)", &sf.model);
    evaluate("schedule-free, x (kept)", &sf.evaluated_model());
}
