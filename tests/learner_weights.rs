//! Weight averaging and schedule-free training inside Burn's `Learner`: the average (and `x`)
//! equal to the same training driven by hand, validation on them, checkpoints that resume
//! exactly, and a checkpoint from another setup refused.

use burn::data::dataloader::batcher::Batcher;
use burn::data::dataloader::DataLoaderBuilder;
use burn::data::dataset::InMemDataset;
use burn::module::Module;
use burn::nn::loss::CrossEntropyLossConfig;
use burn::nn::{BatchNorm, BatchNormConfig, Linear, LinearConfig};
use burn::optim::{GradientsParams, ModuleOptimizer, SgdConfig};
use burn::tensor::{Device, Int, Tensor, TensorData};
use burn::train::metric::LossMetric;
use burn::train::{ClassificationOutput, InferenceStep, Learner, SupervisedTraining, TrainOutput, TrainStep};
use burn_lr::averaging::{
    update_bn, AdamWScheduleFreeConfig, AveragedModel, AveragedModelConfig, AveragingKind, SgdScheduleFreeConfig,
};
use burn_lr::burn;
use burn_lr::learner::{AveragedLearnerConfig, AveragedLearnerModel, QuietRenderer, ScheduleFreeLearnerModel};

#[derive(Module, Debug)]
struct Net {
    fc1: Linear,
    bn: BatchNorm,
    fc2: Linear,
}

#[derive(Clone, Debug)]
struct Batch {
    x: Tensor<2>,
    y: Tensor<1, Int>,
}

#[derive(Clone, Debug)]
struct Item([f32; 2], i64);

struct ItemBatcher;

impl Batcher<Item, Batch> for ItemBatcher {
    fn batch(&self, items: Vec<Item>, device: &Device) -> Batch {
        let n = items.len();
        let x: Vec<f32> = items.iter().flat_map(|i| i.0).collect();
        Batch {
            x: Tensor::from_data(TensorData::new(x, [n, 2]), device),
            y: Tensor::from_data(
                TensorData::new(items.iter().map(|i| i.1).collect::<Vec<_>>(), [n]),
                device,
            ),
        }
    }
}

impl Net {
    fn new(device: &Device) -> Self {
        Self {
            fc1: LinearConfig::new(2, 8).init(device),
            bn: BatchNormConfig::new(8).init(device),
            fc2: LinearConfig::new(8, 2).init(device),
        }
    }

    fn classify(&self, b: Batch) -> ClassificationOutput {
        let h = burn::tensor::activation::relu(self.bn.forward(self.fc1.forward(b.x)));
        let logits = self.fc2.forward(h);
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

fn items() -> Vec<Item> {
    (0..16)
        .map(|i| {
            let (a, b) = ((i % 4) as f32 - 1.5, (i / 4) as f32 - 1.5);
            Item([a, b * 0.5], i64::from(a * b > 0.0))
        })
        .collect()
}

/// The batches of one epoch, in the loader's order (no shuffle).
fn batches(device: &Device) -> Vec<Batch> {
    items()
        .chunks(4)
        .map(|c| ItemBatcher.batch(c.to_vec(), device))
        .collect()
}

fn launch<M>(dir: &std::path::Path, model: M, optim: ModuleOptimizer, epochs: usize, resume: Option<usize>) -> M
where
    M: burn::train::LearnerModel
        + TrainStep<Input = Batch, Output = ClassificationOutput>
        + InferenceStep<Input = Batch, Output = ClassificationOutput>,
{
    let loader = || {
        DataLoaderBuilder::new(ItemBatcher)
            .batch_size(4)
            .build(InMemDataset::new(items()))
    };
    let mut training = SupervisedTraining::new(dir, loader(), loader())
        .metrics((LossMetric::new(),))
        .with_default_checkpointers()
        .with_application_logger(None)
        .renderer(Box::new(QuietRenderer::new()))
        .num_epochs(epochs);
    if let Some(epoch) = resume {
        training = training.checkpoint(epoch);
    }
    training.launch(Learner::new(model, optim, 0.1)).model
}

fn values<const D: usize>(t: Tensor<D>) -> Vec<f32> {
    t.into_data().convert::<f32>().try_to_vec::<f32>().unwrap()
}

fn swa() -> AveragedLearnerConfig {
    AveragedLearnerConfig::new(AveragedModelConfig::new(AveragingKind::Swa).with_start_update(3))
        .with_update_bn_batches(2)
}

#[test]
fn an_average_in_a_learner_is_the_average_of_the_updates_it_selects() {
    let device = Device::flex().autodiff();
    let net = Net::new(&device);
    let dir = tempfile::tempdir().unwrap();
    let wrapped = AveragedLearnerModel::new(net.clone(), swa()).unwrap();
    let trained = launch(dir.path(), wrapped, SgdConfig::new().init(), 2, None);
    // By hand: the same 8 updates, averaged after updates 3..=8.
    let mut model = net.clone();
    let mut optim = SgdConfig::new().init();
    let mut average = AveragedModel::new(swa().averaging, &model).unwrap();
    let mut update = 0;
    for _ in 0..2 {
        for b in batches(&device) {
            let out = TrainStep::step(&model, b);
            model = optim.step(0.1, model, out.grads);
            update += 1;
            average.after_update(update, &model).unwrap();
        }
    }
    assert_eq!(trained.n_averaged(), 6);
    assert_eq!(trained.updates(), 8);
    let ours = trained.averaged_model();
    let hand = average.model();
    assert_eq!(values(ours.fc1.weight.val()), values(hand.fc1.weight.val()));
    // Without buffers the average's statistics are the model's at the last averaging (update 8).
    // (Burn's Learner leaves other running statistics than the loop above: compared with its own.)
    assert_eq!(
        values(ours.bn.running_var.value()),
        values(trained.model.bn.running_var.value())
    );
    assert_eq!(values(trained.model.fc2.weight.val()), values(model.fc2.weight.val()));
    // Validation ran on the average with its statistics recomputed over the latest 2 batches.
    let report = trained.last_update_bn().expect("update_bn before validation");
    assert_eq!(report.batches, 2);
    let evaluated = trained.evaluated_model();
    assert_eq!(values(evaluated.fc1.weight.val()), values(hand.fc1.weight.val()));
    assert_ne!(
        values(evaluated.bn.running_mean.value()),
        values(ours.bn.running_mean.value())
    );
    let last_two = batches(&device)[2..].to_vec();
    let (recomputed, _) = update_bn(hand, last_two, |m: &Net, b: Batch| {
        m.classify(b);
    })
    .unwrap();
    assert_eq!(
        values(evaluated.bn.running_mean.value()),
        values(recomputed.bn.running_mean.value())
    );
    assert_eq!(
        values(evaluated.bn.running_var.value()),
        values(recomputed.bn.running_var.value())
    );
}

#[test]
fn an_averaged_run_resumes_exactly_and_refuses_another_setup() {
    let device = Device::flex().autodiff();
    let net = Net::new(&device);
    let straight = tempfile::tempdir().unwrap();
    let whole = launch(
        straight.path(),
        AveragedLearnerModel::new(net.clone(), swa()).unwrap(),
        SgdConfig::new().init(),
        2,
        None,
    );
    let dir = tempfile::tempdir().unwrap();
    launch(
        dir.path(),
        AveragedLearnerModel::new(net.clone(), swa()).unwrap(),
        SgdConfig::new().init(),
        1,
        None,
    );
    let again = AveragedLearnerModel::new(net.clone(), swa()).unwrap();
    again.check_resume(dir.path(), 1).unwrap();
    let resumed = launch(dir.path(), again, SgdConfig::new().init(), 2, Some(1));
    assert_eq!(resumed.updates(), 8);
    assert_eq!(resumed.n_averaged(), whole.n_averaged());
    assert_eq!(
        values(resumed.averaged_model().fc2.weight.val()),
        values(whole.averaged_model().fc2.weight.val())
    );
    // Another setup, or a checkpoint without an average, is refused by name before Burn loads it.
    let ema = AveragedLearnerConfig::new(AveragedModelConfig::new(AveragingKind::Ema));
    let err = AveragedLearnerModel::new(net.clone(), ema)
        .unwrap()
        .check_resume(dir.path(), 1)
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("another averaging setup") && err.contains("ema(decay=0.999)") && err.contains("model-1.bpk"),
        "{err}"
    );
    let plain = tempfile::tempdir().unwrap();
    launch(plain.path(), net.clone(), SgdConfig::new().init(), 1, None);
    let err = AveragedLearnerModel::new(net, swa())
        .unwrap()
        .check_resume(plain.path(), 1)
        .unwrap_err()
        .to_string();
    assert!(err.contains("holds no average"), "{err}");
}

/// A schedule-free model without BatchNorm (its `x` needs no recomputed statistics).
#[derive(Module, Debug)]
struct Plain {
    fc1: Linear,
    fc2: Linear,
}

impl Plain {
    fn classify(&self, b: Batch) -> ClassificationOutput {
        let logits = self.fc2.forward(self.fc1.forward(b.x).tanh());
        let loss = CrossEntropyLossConfig::new()
            .init(&logits.device())
            .forward(logits.clone(), b.y.clone());
        ClassificationOutput::new(loss, logits, b.y)
    }
}

impl TrainStep for Plain {
    type Input = Batch;
    type Output = ClassificationOutput;
    fn step(&self, b: Batch) -> TrainOutput<ClassificationOutput> {
        let item = self.classify(b);
        TrainOutput::new(self, item.loss.backward(), item)
    }
}

impl InferenceStep for Plain {
    type Input = Batch;
    type Output = ClassificationOutput;
    fn step(&self, b: Batch) -> ClassificationOutput {
        self.classify(b)
    }
}

#[test]
fn schedule_free_in_a_learner_validates_x_and_resumes_exactly() {
    let device = Device::flex().autodiff();
    let net = Plain {
        fc1: LinearConfig::new(2, 6).init(&device),
        fc2: LinearConfig::new(6, 2).init(&device),
    };
    let config = SgdScheduleFreeConfig::new().with_warmup_steps(3);
    let run = |dir: &std::path::Path, epochs, resume| {
        let (optim, weights) = config.init(&net).unwrap();
        launch(
            dir,
            ScheduleFreeLearnerModel::new(net.clone(), weights),
            optim,
            epochs,
            resume,
        )
    };
    let straight = tempfile::tempdir().unwrap();
    let whole = run(straight.path(), 2, None);
    // By hand: y stepped, x from the optimizer's z.
    let (mut optim, weights) = config.init(&net).unwrap();
    let mut model = net.clone();
    for _ in 0..2 {
        for b in batches(&device) {
            let out = TrainStep::step(&model, b);
            let grads: GradientsParams = out.grads;
            model = optim.step(0.1, model, grads);
        }
    }
    assert_eq!(values(whole.model.fc1.weight.val()), values(model.fc1.weight.val()));
    let x = weights.eval(model.clone());
    assert_eq!(
        values(whole.evaluated_model().fc1.weight.val()),
        values(x.fc1.weight.val())
    );
    assert_ne!(values(x.fc1.weight.val()), values(model.fc1.weight.val()));
    let dir = tempfile::tempdir().unwrap();
    run(dir.path(), 1, None);
    let resumed = run(dir.path(), 2, Some(1));
    assert_eq!(
        values(resumed.model.fc2.weight.val()),
        values(whole.model.fc2.weight.val())
    );
    assert_eq!(
        values(resumed.evaluated_model().fc2.weight.val()),
        values(whole.evaluated_model().fc2.weight.val())
    );
    // The checkpoint holds SGDScheduleFree's state: this optimizer resumes it, others refuse it.
    let check = |optimizer: Result<(ModuleOptimizer, burn_lr::averaging::ScheduleFreeWeights), _>,
                 d: &std::path::Path| {
        let (_, weights) = optimizer.unwrap();
        ScheduleFreeLearnerModel::new(net.clone(), weights)
            .check_resume(d, 1)
            .map_err(|e| e.to_string())
    };
    check(config.init(&net), dir.path()).unwrap();
    let err = check(AdamWScheduleFreeConfig::new().init(&net), dir.path()).unwrap_err();
    assert!(
        err.contains("written by SGDScheduleFree") && err.contains("optim-1.bpk"),
        "{err}"
    );
    let plain = tempfile::tempdir().unwrap();
    launch(
        plain.path(),
        net.clone(),
        SgdConfig::new()
            .with_momentum(Some(burn::optim::momentum::MomentumConfig::new()))
            .init(),
        1,
        None,
    );
    let err = check(config.init(&net), plain.path()).unwrap_err();
    assert!(err.contains("another optimizer"), "{err}");
}
