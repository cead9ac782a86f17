//! The library's one entry point for a user's own `Learner` run, `LearnerSchedule`: updates per
//! epoch exactly as Burn steps them, the momentum wiring, the resume check, and a plateau metric
//! Burn does not have stopping the run with an error instead of a silent NaN.

use burn::data::dataloader::batcher::Batcher;
use burn::data::dataloader::DataLoaderBuilder;
use burn::data::dataset::InMemDataset;
use burn::lr_scheduler::LrScheduler;
use burn::module::Module;
use burn::nn::loss::CrossEntropyLossConfig;
use burn::nn::{Linear, LinearConfig};
use burn::tensor::{Device, Int, Tensor, TensorData};
use burn::train::metric::LossMetric;
use burn::train::{ClassificationOutput, InferenceStep, Learner, SupervisedTraining, TrainOutput, TrainStep};
use burn_lr::burn; // the Burn burn-lr is built on (0.22, or 0.23 with its feature burn-0-23)
use burn_lr::learner::{LearnerRun, LearnerSchedule, QuietRenderer};
use burn_lr::optim::CycledSgdConfig;
use burn_lr::schedule::{ScheduleError, SchedulerConfig};

fn cfg(toml: &str) -> SchedulerConfig {
    toml::from_str(toml).unwrap()
}

#[test]
fn updates_per_epoch_follow_burn() {
    // 50,000 items, batch 128: 391 batches; accumulation 2: 196 updates (the leftover batch
    // gets its own update).
    assert_eq!(LearnerRun::new(50_000, 128, 1).updates_per_epoch(), 391);
    assert_eq!(
        LearnerRun::new(50_000, 128, 1)
            .with_grad_accumulation(2)
            .updates_per_epoch(),
        196
    );
    // 3 devices: Burn slices 1000 items as 333, 333, 334 and steps one batch of each at once.
    assert_eq!(LearnerRun::new(1000, 100, 1).with_devices(3).updates_per_epoch(), 4);
    assert_eq!(LearnerRun::new(999, 111, 1).with_devices(3).updates_per_epoch(), 3);
    let err = LearnerRun::new(10, 0, 1).run_info(0.1).unwrap_err();
    assert!(
        matches!(
            err,
            ScheduleError::InvalidParam {
                field: "batch_size",
                ..
            }
        ),
        "{err}"
    );
}

#[test]
fn an_epoch_schedule_changes_at_burns_epoch_boundaries_and_momentum_is_wired() {
    let run = LearnerRun::new(20, 8, 3); // 3 updates per epoch
    let schedule = LearnerSchedule::new(&cfg("type = \"step_lr\"\nstep_size = 1\ngamma = 0.5"), 1.0, &run).unwrap();
    assert!(schedule.momentum().is_none());
    let mut base = schedule.base().clone();
    let lrs: Vec<f64> = (0..9).map(|_| base.step()).collect();
    assert_eq!(lrs, [1.0, 1.0, 1.0, 0.5, 0.5, 0.5, 0.25, 0.25, 0.25]);
    let cycled = LearnerSchedule::new(&cfg("type = \"one_cycle\"\nmax_lr = 0.1"), 1.0, &run).unwrap();
    let cell = cycled.momentum().expect("one_cycle cycles momentum").clone();
    let _optimizer = CycledSgdConfig::new()
        .with_momentum(0.9)
        .with_nesterov(true)
        .init(cycled.momentum())
        .unwrap();
    assert_eq!(cell.get(), 0.9);
    let mut base = cycled.base().clone();
    base.step();
    assert_eq!(cell.get(), 0.95);
}

#[test]
fn resume_check_names_a_foreign_checkpoint_and_loads_a_matching_one() {
    let run = LearnerRun::new(20, 8, 3);
    let step = cfg("type = \"step\"\nstep_size = 1");
    let mut writer = LearnerSchedule::new(&step, 1.0, &run).unwrap().into_scheduler();
    for _ in 0..4 {
        writer.step();
    }
    let record = writer.to_record();
    let mut same = LearnerSchedule::new(&step, 1.0, &run).unwrap();
    same.check_record(&record).unwrap();
    assert_eq!(same.base().lr_at_update(4), Some(0.1));
    let mut other = LearnerSchedule::new(&cfg("type = \"step\"\nstep_size = 2"), 1.0, &run).unwrap();
    let err = other.check_record(&record).unwrap_err().to_string();
    assert!(err.contains("step_size=2") || err.contains("other parameters"), "{err}");
    // Another number of updates per epoch is another run.
    let mut longer = LearnerSchedule::new(&step, 1.0, &LearnerRun::new(40, 8, 3)).unwrap();
    assert!(longer.check_record(&record).is_err());
}

#[derive(Module, Debug)]
struct Net {
    out: Linear,
}

#[derive(Clone, Debug)]
struct Batch {
    x: Tensor<2>,
    y: Tensor<1, Int>,
}

#[derive(Clone, Debug)]
struct Item(f32, i64);

struct ItemBatcher;

impl Batcher<Item, Batch> for ItemBatcher {
    fn batch(&self, items: Vec<Item>, device: &Device) -> Batch {
        let n = items.len();
        Batch {
            x: Tensor::from_data(
                TensorData::new(items.iter().map(|i| i.0).collect::<Vec<_>>(), [n, 1]),
                device,
            ),
            y: Tensor::from_data(
                TensorData::new(items.iter().map(|i| i.1).collect::<Vec<_>>(), [n]),
                device,
            ),
        }
    }
}

impl Net {
    fn classify(&self, b: Batch) -> ClassificationOutput {
        let logits = self.out.forward(b.x);
        let loss = CrossEntropyLossConfig::new()
            .init(&logits.device())
            .forward(logits.clone(), b.y.clone());
        ClassificationOutput::new(loss, logits, b.y)
    }
}

impl TrainStep for Net {
    type Input = Batch;
    type Output = ClassificationOutput;
    fn step(&self, b: Batch) -> TrainOutput<ClassificationOutput> {
        let item = self.classify(b);
        TrainOutput::new(self, item.loss.backward(), item)
    }
}

impl InferenceStep for Net {
    type Input = Batch;
    type Output = ClassificationOutput;
    fn step(&self, b: Batch) -> ClassificationOutput {
        self.classify(b)
    }
}

#[test]
fn a_plateau_metric_burn_does_not_have_stops_the_run_with_an_error() {
    let device = Device::flex().autodiff();
    let items: Vec<Item> = (0..16).map(|i| Item(i as f32 / 16.0, i64::from(i % 2 == 0))).collect();
    let loader = || {
        DataLoaderBuilder::new(ItemBatcher)
            .batch_size(8)
            .build(InMemDataset::new(items.clone()))
    };
    let run = LearnerRun::new(16, 8, 4);
    // Validation loss is monitored, but only the train split has a loss metric.
    let schedule = LearnerSchedule::new(&cfg("type = \"reduce_lr_on_plateau\"\npatience = 0"), 0.1, &run).unwrap();
    let watch = schedule.watch();
    let dir = tempfile::tempdir().unwrap();
    let result = SupervisedTraining::new(dir.path(), loader(), loader())
        .metric_train_numeric(LossMetric::new())
        .with_checkpointing_strategy(schedule.checkpointing(None))
        .early_stopping(schedule.early_stopping())
        .with_application_logger(None)
        .renderer(Box::new(QuietRenderer::new()))
        .num_epochs(run.epochs)
        .launch(Learner::new(
            Net {
                out: LinearConfig::new(1, 2).init(&device),
            },
            CycledSgdConfig::new().init(schedule.momentum()).unwrap(),
            schedule.into_scheduler(),
        ));
    drop(result);
    let err = watch.error().expect("the missing metric is an error");
    assert!(err.contains("`Loss`") && err.contains("epoch 1"), "{err}");
    // Stopped after epoch 1, and the LR never decayed on a NaN.
    assert!(!dir.path().join("train/epoch-2").exists());
}

#[test]
fn gradient_accumulation_with_a_partial_last_window_counts_updates_as_burn_steps_them() {
    // 10 items at batch 1: 10 batches per epoch; accumulation 3: updates after batches 3, 6, 9
    // and one for the partial window of batch 10, ceil(10 / 3) = 4 per epoch. Burn 0.22 steps
    // that window when its loader reports the epoch complete, 0.23 after the batch loop: the
    // same count, which is what the schedule spans.
    let device = Device::flex().autodiff();
    let items: Vec<Item> = (0..10).map(|i| Item(i as f32 / 10.0, i64::from(i % 2 == 0))).collect();
    let loader = || {
        DataLoaderBuilder::new(ItemBatcher)
            .batch_size(1)
            .build(InMemDataset::new(items.clone()))
    };
    let run = LearnerRun::new(10, 1, 2).with_grad_accumulation(3);
    assert_eq!(run.updates_per_epoch(), 4);
    let steps = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
    let seen = steps.clone();
    let schedule = LearnerSchedule::new(&cfg("type = \"one_cycle\"\nmax_lr = 0.1"), 0.1, &run)
        .unwrap()
        .with_observer(move |u: &burn_lr::learner::LrUpdate<'_>| seen.lock().unwrap().push((u.step, u.lr)));
    let last_lr = schedule.base().lr_at_update(run.updates_per_epoch() * 2 - 1).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let result = SupervisedTraining::new(dir.path(), loader(), loader())
        .grads_accumulation(3)
        .with_application_logger(None)
        .renderer(Box::new(QuietRenderer::new()))
        .num_epochs(run.epochs)
        .launch(Learner::new(
            Net {
                out: LinearConfig::new(1, 2).init(&device),
            },
            CycledSgdConfig::new().init(schedule.momentum()).unwrap(),
            schedule.into_scheduler(),
        ));
    drop(result);
    let steps = steps.lock().unwrap();
    assert_eq!(
        steps.iter().map(|s| s.0).collect::<Vec<_>>(),
        (0..8).collect::<Vec<_>>()
    );
    // The cycle ends on its last update, where OneCycle reaches its final LR.
    assert_eq!(steps[7].1, last_lr);
}
