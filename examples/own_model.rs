//! burn-lr inside *your own* Burn training run: your model, your data, your
//! `SupervisedTraining`, with an exact PyTorch `ReduceLROnPlateau` fed the validation loss,
//! through the library's one entry point, `LearnerSchedule` (the library alone, no CIFAR app:
//! `cargo run --release --example own_model`). With the `monitor` feature
//! (`cargo run --release --example own_model --features monitor`) it also runs the LR range
//! test on the model first, logs every update's LR to `lr.csv` and TensorBoard, shows a
//! progress bar and draws `lr_schedule.png`.

use burn::data::dataloader::batcher::Batcher;
use burn::data::dataloader::DataLoaderBuilder;
use burn::data::dataset::InMemDataset;
use burn::module::Module;
use burn::nn::loss::CrossEntropyLossConfig;
use burn::nn::{Linear, LinearConfig, Relu};
use burn::tensor::{Device, Int, Tensor, TensorData};
use burn::train::metric::{AccuracyMetric, LearningRateMetric, LossMetric};
use burn::train::{ClassificationOutput, InferenceStep, Learner, SupervisedTraining, TrainOutput, TrainStep};
use burn_lr::burn; // the Burn burn-lr is built on (0.22, or 0.23 with its feature burn-0-23)
use burn_lr::learner::{LearnerRun, LearnerSchedule, NonFiniteLossGuard};
use burn_lr::optim::CycledSgdConfig;
use burn_lr::schedule::SchedulerConfig;

/// Your model: a small MLP over 2-D points, `[batch, 2]` -> logits `[batch, 2]`.
#[derive(Module, Debug)]
struct Mlp {
    hidden: Linear,
    out: Linear,
    act: Relu,
}

#[derive(Clone, Debug)]
struct Batch {
    points: Tensor<2>,
    labels: Tensor<1, Int>,
}

/// Your data: points in the unit square, label = inside the circle of radius 0.6.
#[derive(Clone, Debug)]
struct Point {
    xy: [f32; 2],
    label: i64,
}

struct PointBatcher;

impl Batcher<Point, Batch> for PointBatcher {
    fn batch(&self, items: Vec<Point>, device: &Device) -> Batch {
        let n = items.len();
        let xy: Vec<f32> = items.iter().flat_map(|p| p.xy).collect();
        let labels: Vec<i64> = items.iter().map(|p| p.label).collect();
        Batch {
            points: Tensor::from_data(TensorData::new(xy, [n, 2]), device),
            labels: Tensor::from_data(TensorData::new(labels, [n]), device),
        }
    }
}

impl Mlp {
    fn classify(&self, batch: Batch) -> ClassificationOutput {
        let logits = self.out.forward(self.act.forward(self.hidden.forward(batch.points)));
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

fn points(n: usize, seed: u64) -> Vec<Point> {
    let mut x = seed;
    let mut next = move || {
        x = x.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
        (x >> 40) as f32 / (1u64 << 24) as f32 * 2.0 - 1.0
    };
    (0..n)
        .map(|_| {
            let xy = [next(), next()];
            Point {
                xy,
                label: i64::from(xy[0] * xy[0] + xy[1] * xy[1] < 0.36),
            }
        })
        .collect()
}

fn main() {
    let device = Device::default().autodiff();
    let model = Mlp {
        hidden: LinearConfig::new(2, 32).init(&device),
        out: LinearConfig::new(32, 2).init(&device),
        act: Relu::new(),
    };
    let train_points = points(2048, 1);
    let train_items = train_points.len();
    let train = DataLoaderBuilder::new(PointBatcher)
        .batch_size(64)
        .shuffle(1)
        .build(InMemDataset::new(train_points));
    let valid = DataLoaderBuilder::new(PointBatcher)
        .batch_size(256)
        .build(InMemDataset::new(points(512, 2)));

    // PyTorch: ReduceLROnPlateau(optimizer, mode="min", factor=0.5, patience=1); step(val_loss).
    // The same TOML a burn-lr config holds; any schedule works here (one_cycle, cosine, ...).
    let config: SchedulerConfig = toml::from_str("type = \"reduce_lr_on_plateau\"\nfactor = 0.5\npatience = 1")
        .expect("a valid [scheduler] table");
    // What the run knows: its training items, batch size and epochs (add
    // .with_grad_accumulation(n) / .with_devices(n) as you configure Burn): the optimizer
    // updates per epoch follow from it.
    let run = LearnerRun::new(train_items, 64, 6);
    let schedule = LearnerSchedule::new(&config, 0.5, &run).expect("valid schedule");
    for warning in schedule.warnings() {
        eprintln!("warning: {warning}");
    }
    let dir = std::env::temp_dir().join("burn-lr-own-model");
    // Resuming? `schedule.check_resume(&dir, epoch)?` names what differs before Burn loads it.
    let watch = schedule.watch();
    // torch.optim.SGD(lr): momentum-cycled when the schedule cycles momentum.
    let optimizer = CycledSgdConfig::new()
        .init(schedule.momentum())
        .expect("valid SGD settings");
    #[cfg(feature = "monitor")]
    let (schedule, renderer) = monitor::attach(&model, &optimizer, train.as_ref(), schedule, &dir, run.epochs);
    #[cfg(not(feature = "monitor"))]
    let renderer = burn_lr::learner::QuietRenderer::new();
    let training = SupervisedTraining::new(&dir, train, valid);
    // Stops the run at the first NaN/inf training loss (no NaN epoch is checkpointed).
    let guard = NonFiniteLossGuard::new(training.interrupter(), &run, 0);
    let result = training
        .metrics((LossMetric::new(), AccuracyMetric::new()))
        .metric_train(guard.clone())
        .metric_train_numeric(LearningRateMetric::new())
        .with_default_checkpointers()
        // The validation loss of each epoch reaches the plateau schedule before the epoch's
        // checkpoint is written (so resuming keeps it); your own early stopping goes inside.
        .with_checkpointing_strategy(schedule.checkpointing(None))
        .early_stopping(schedule.early_stopping())
        .with_application_logger(None)
        .renderer(Box::new(renderer))
        .num_epochs(run.epochs)
        .launch(Learner::new(model, optimizer, schedule.into_scheduler()));
    if let Some(err) = watch.error() {
        eprintln!("error: {err}");
        std::process::exit(2);
    }
    if let Some(divergence) = guard.divergence() {
        eprintln!("error: {divergence}: lower the learning rate");
        std::process::exit(1);
    }
    #[cfg(feature = "monitor")]
    monitor::draw(&dir);
    println!(
        "trained; artifacts (per-iteration LR in train/epoch-N/Learning_Rate.log) in {}",
        dir.display()
    );
    drop(result);
}

/// The `monitor` feature in a user's own run.
#[cfg(feature = "monitor")]
mod monitor {
    use super::Mlp;
    use burn::data::dataloader::DataLoader;
    use burn::optim::ModuleOptimizer;
    use burn_lr::burn;
    use burn_lr::learner::{LearnerSchedule, LrObserver, LrUpdate, QuietRenderer};
    use burn_lr::monitor::{lr_find, plot, progress_bar, read_lr_csv, LrFindConfig, LrLog, TensorBoardLog};
    use std::path::Path;

    /// The LR range test on the untrained model (it trains clones), then `lr.csv` and
    /// TensorBoard attached to the schedule, and a progress bar for the renderer.
    pub fn attach(
        model: &Mlp,
        optimizer: &ModuleOptimizer,
        train: &dyn DataLoader<super::Batch>,
        schedule: LearnerSchedule,
        dir: &Path,
        epochs: usize,
    ) -> (LearnerSchedule, QuietRenderer) {
        let found = lr_find(model, optimizer, train, &LrFindConfig::default()).expect("range test");
        println!("lr range test: suggested LR {:?}", found.recommended_max_lr());
        let groups = schedule.group_params();
        let momentum = schedule.momentum().is_some();
        let mut lr = LrLog::create(&dir.join("lr.csv"), &groups, momentum, 0).expect("lr.csv");
        let mut tb = TensorBoardLog::create(&dir.join("tensorboard"), &groups).expect("tensorboard");
        let schedule = schedule.with_observer(move |u: &LrUpdate<'_>| {
            lr.observe(u);
            tb.observe(u);
        });
        (schedule, QuietRenderer::with_progress(progress_bar(epochs)))
    }

    /// `lr_schedule.png` from `lr.csv`.
    pub fn draw(dir: &Path) {
        let trace = read_lr_csv(&dir.join("lr.csv")).expect("lr.csv");
        plot::lr_schedule(&trace, "ReduceLROnPlateau on the MLP", &dir.join("lr_schedule.png")).expect("plot");
        println!("lr_schedule.png, lr.csv and tensorboard/ in {}", dir.display());
    }
}
