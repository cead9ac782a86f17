//! Stopping at any step and resuming from the record reproduces the uninterrupted sequence
//! exactly; a record of another schedule or other parameters is refused.

use burn::lr_scheduler::{LrScheduler, LrSchedulerRecord};
use burn_lr::burn; // the Burn burn-lr is built on (0.22, or 0.23 with its feature burn-0-23)
use burn_lr::schedule::*;

fn run(cfg: &SchedulerConfig) -> Scheduler {
    cfg.init(&RunInfo {
        base_lr: 0.1,
        updates_per_epoch: 5,
        total_updates: 200,
    })
    .unwrap()
}

fn configs() -> Vec<SchedulerConfig> {
    vec![
        SchedulerConfig::default(),
        SchedulerConfig::Step(StepLrSchedulerConfig::new(3).with_gamma(0.5)),
        SchedulerConfig::Exponential(ExponentialLrSchedulerConfig::new(0.9)),
        SchedulerConfig::CosineAnnealing(CosineAnnealingLrSchedulerConfig::new(10).with_eta_min(1e-3)),
        SchedulerConfig::OneCycle(OneCycleLrSchedulerConfig::new(0.5)),
        SchedulerConfig::OneCycle(OneCycleLrSchedulerConfig::new(0.5).with_three_phase(true)),
        SchedulerConfig::Cyclic(
            CyclicLrSchedulerConfig::new(0.01, 0.1)
                .with_step_sizes(7, Some(4))
                .with_mode(CyclicMode::ExpRange, 0.99),
        ),
        SchedulerConfig::ReduceOnPlateau(ReduceLrOnPlateauSchedulerConfig {
            patience: 1,
            cooldown: 1,
            ..Default::default()
        }),
        toml::from_str("type = \"multi_step\"\nmilestones = [2, 2, 9]").unwrap(),
        toml::from_str("type = \"cosine_warm_restarts\"\nt_0 = 2\nt_mult = 2").unwrap(),
        toml::from_str("type = \"polynomial\"\ntotal_iters = 7\npower = 1.5").unwrap(),
        toml::from_str(NESTED).unwrap(),
        toml::from_str("type = \"cosine_annealing\"\nt_max = 30\n[warmup]\nsteps = 7\nmode = \"exponential\"").unwrap(),
    ]
}

/// A chain and a sequential inside a sequential, with warmup and mixed units (milestones at
/// epochs 5 and 12 = updates 25 and 60; the inner one 13 updates later, at 73).
const NESTED: &str = r#"
type = "sequential"
milestones = [5, 12]
unit = "epoch"
[[schedulers]]
type = "linear"
start_factor = 0.2
total_iters = 9
unit = "iteration"
[[schedulers]]
type = "chained"
[[schedulers.schedulers]]
type = "exponential"
gamma = 0.97
unit = "iteration"
[[schedulers.schedulers]]
type = "step"
step_size = 2
gamma = 0.5
[[schedulers.schedulers]]
type = "constant"
factor = 0.5
total_iters = 3
[[schedulers]]
type = "sequential"
milestones = [13]
unit = "iteration"
[[schedulers.schedulers]]
type = "one_cycle"
max_lr = 0.3
[schedulers.schedulers.warmup]
epochs = 1
start_factor = 0.5
[[schedulers.schedulers]]
type = "cosine_warm_restarts"
t_0 = 2
t_mult = 2
"#;

/// Metric of epoch e (from 1): improves, then plateaus, with a NaN.
fn metric(epoch: u64) -> f64 {
    match epoch {
        1..=3 => 1.0 / epoch as f64,
        7 => f64::NAN,
        _ => 0.3,
    }
}

/// Steps `s` from update `from` to `to`, feeding plateau metrics at epoch boundaries as the
/// Learner does (epoch e's metric is reported after its last update, via bytes on disk in
/// between when `roundtrip`).
fn drive(s: &mut Scheduler, from: u64, to: u64) -> Vec<f64> {
    let spe = 5;
    (from..to)
        .map(|k| {
            if let Some(feed) = s.plateau_feed() {
                if k > 0 && k.is_multiple_of(spe) {
                    feed.report(k / spe, metric(k / spe));
                }
            }
            s.step()
        })
        .collect()
}

#[test]
fn resume_at_every_cut_reproduces_the_run() {
    for cfg in configs() {
        let mut whole = run(&cfg);
        let expected = drive(&mut whole, 0, 200);
        if cfg.kind() == "sequential" {
            let distinct: std::collections::HashSet<u64> = expected.iter().map(|v| v.to_bits()).collect();
            assert!(distinct.len() > 50, "the nested composite should vary: {expected:?}");
        }
        for cut in [
            0u64, 1, 4, 5, 6, 13, 24, 25, 26, 37, 38, 39, 59, 60, 61, 64, 65, 66, 72, 73, 74, 137, 199,
        ] {
            let mut first = run(&cfg);
            let mut got = drive(&mut first, 0, cut);
            if let Some(feed) = first.plateau_feed() {
                // The epoch that just ended has been reported before the checkpoint is taken.
                if cut > 0 && cut.is_multiple_of(5) {
                    feed.report(cut / 5, metric(cut / 5));
                }
            }
            // Through the on-disk format, as Burn's checkpointer does.
            let bytes = first.to_record().into_bytes().unwrap();
            let record = LrSchedulerRecord::from_bytes(bytes).unwrap();
            let mut resumed = run(&cfg);
            resumed.load_record(record);
            got.extend(drive(&mut resumed, cut, 200));
            assert_eq!(got.len(), expected.len());
            for (k, (a, b)) in got.iter().zip(&expected).enumerate() {
                assert!(
                    a == b || (a.is_nan() && b.is_nan()),
                    "{}: cut {cut}, update {k}: {a} != {b}",
                    cfg.kind()
                );
            }
        }
    }
}

#[test]
fn records_of_other_schedules_are_refused() {
    let cfgs = configs();
    for (i, a) in cfgs.iter().enumerate() {
        let mut sa = run(a);
        sa.step();
        let rec = sa.to_record();
        for (j, b) in cfgs.iter().enumerate() {
            let mut sb = run(b);
            let res = sb.try_load_record(&rec);
            if i == j {
                res.unwrap();
            } else {
                let err = res.unwrap_err().to_string();
                assert!(err.contains("record mismatch"), "{err}");
            }
        }
    }
}

#[test]
fn records_with_other_parameters_are_refused() {
    let a = SchedulerConfig::Step(StepLrSchedulerConfig::new(3));
    let b = SchedulerConfig::Step(StepLrSchedulerConfig::new(4));
    let rec = run(&a).to_record();
    let err = run(&b).try_load_record(&rec).unwrap_err().to_string();
    assert!(err.contains("step_size=4"), "{err}");
    // A different epoch length (batch size) is a different run too.
    let other = a
        .init(&RunInfo {
            base_lr: 0.1,
            updates_per_epoch: 6,
            total_updates: 200,
        })
        .unwrap();
    assert!(other.clone().try_load_record(&rec).is_err());
    // An empty record (not written by burn-lr) is refused, not silently ignored.
    let err = run(&a)
        .try_load_record(&LrSchedulerRecord::new())
        .unwrap_err()
        .to_string();
    assert!(err.contains("missing"), "{err}");
}

#[test]
#[should_panic(expected = "record mismatch")]
fn load_record_panics_with_the_reason() {
    let rec = run(&SchedulerConfig::default()).to_record();
    run(&SchedulerConfig::Step(StepLrSchedulerConfig::new(3))).load_record(rec);
}
