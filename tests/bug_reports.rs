//! The public PyTorch bug reports behind these cases, each with the right value.

use burn::lr_scheduler::LrScheduler;
use burn_lr::burn; // the Burn burn-lr is built on (0.22, or 0.23 with its feature burn-0-23)
use burn_lr::schedule::*;

fn build(text: &str, base_lr: f64) -> Scheduler {
    let cfg: SchedulerConfig = toml::from_str(text).unwrap();
    cfg.init(&RunInfo {
        base_lr,
        updates_per_epoch: 1,
        total_updates: 1000,
    })
    .unwrap()
}

fn lrs(s: &mut Scheduler, n: usize) -> Vec<f64> {
    (0..n).map(|_| s.step()).collect()
}

#[test]
fn cosine_annealing_far_past_t_max_never_divides_by_zero() {
    let s = CosineAnnealingLrSchedulerConfig::new(10)
        .with_eta_min(0.001)
        .init(0.1)
        .unwrap();
    for t in [10u64, 11, 20, 21, 30, 1_000_000, 1_000_000_000, u64::MAX] {
        let lr = s.lr_at_update(t);
        assert!(lr.is_finite() && (0.001..=0.1).contains(&lr), "t = {t}: {lr}");
    }
    assert_eq!(s.lr_at_update(20), 0.1); // periodic: back at the base LR after 2 * t_max
    let clamp = CosineAnnealingLrSchedulerConfig::new(10)
        .with_eta_min(0.001)
        .with_after_t_max(AfterTMax::Clamp)
        .init(0.1)
        .unwrap();
    assert_eq!(clamp.lr_at_update(20), 0.001);
    assert_eq!(clamp.lr_at_update(u64::MAX), 0.001);
    assert_eq!(clamp.lr_at_update(5), s.lr_at_update(5));
}

#[test]
fn warm_restarts_t0_1_tmult_2() {
    let mut s = build("type = \"cosine_warm_restarts\"\nt_0 = 1\nt_mult = 2", 0.5);
    let got: Vec<f64> = lrs(&mut s, 9).iter().map(|v| (v * 1e4).round() / 1e4).collect();
    assert_eq!(got, vec![0.5, 0.5, 0.25, 0.5, 0.4268, 0.25, 0.0732, 0.5, 0.4810]);
}

#[test]
fn warm_restarts_exact_cycle_boundaries() {
    // t_0 = 10, t_mult = 3: cycles start at 0, 10, 40, 130, 400, 1210, 3640 (exact restarts);
    // PyTorch's float log(...) picks the previous cycle at 1210.
    let s = CosineAnnealingWarmRestartsSchedulerConfig::new(10)
        .with_t_mult(3)
        .init(1.0)
        .unwrap();
    for start in [0u64, 10, 40, 130, 400, 1210, 3640, 10930] {
        assert_eq!(s.lr_at_update(start), 1.0, "epoch {start} must be a restart");
        assert!(s.lr_at_update(start + 1) < 1.0);
        if start > 0 {
            assert!(s.lr_at_update(start - 1) < 0.03, "epoch {} ends a cycle", start - 1);
        }
    }
    assert_eq!(s.schedule().cycle_position(1210, 1), (0.0, 2430.0));
    assert_eq!(s.schedule().cycle_position(1209, 1), (809.0, 810.0));
}

#[test]
fn sequential_milestone_zero_skips_the_first_scheduler() {
    let text = r#"
type = "sequential"
milestones = [0]
[[schedulers]]
type = "linear"
start_factor = 0.1
total_iters = 5
[[schedulers]]
type = "exponential"
gamma = 0.9
"#;
    let mut s = build(text, 1.0);
    let got = lrs(&mut s, 4);
    let want = [1.0, 0.9, 0.81, 0.729];
    for (g, w) in got.iter().zip(want) {
        assert!((g - w).abs() < 1e-15, "{got:?}");
    }
}

#[test]
fn plateau_constant_negative_metric_in_rel_mode_is_pytorchs_behaviour() {
    // PyTorch: best * (1 - threshold) is *above* a negative best, so a constant negative metric
    // "improves" every epoch and the LR is never reduced. `abs` mode reduces as expected.
    let rel = ReduceLrOnPlateauSchedulerConfig {
        patience: 1,
        ..Default::default()
    };
    let mut s = rel.init(0.1).unwrap();
    for _ in 0..10 {
        assert_eq!(s.report(-1.0), 0.1);
    }
    let abs = ReduceLrOnPlateauSchedulerConfig {
        patience: 1,
        threshold_mode: ThresholdMode::Abs,
        ..Default::default()
    };
    let mut s = abs.init(0.1).unwrap();
    let got: Vec<f64> = (0..5).map(|_| s.report(-1.0)).collect();
    assert_eq!(got[..3], [0.1, 0.1, 0.010000000000000002]);
}

#[test]
fn plateau_nan_counts_as_bad_epoch() {
    let mut s = ReduceLrOnPlateauSchedulerConfig {
        patience: 1,
        factor: 0.5,
        ..Default::default()
    }
    .init(1.0)
    .unwrap();
    assert_eq!(s.report(1.0), 1.0);
    assert_eq!(s.report(f64::NAN), 1.0);
    assert_eq!(s.report(f64::NAN), 0.5);
    assert_eq!(s.state().best, 1.0);
}

#[test]
fn degenerate_configs_are_errors() {
    let run = RunInfo {
        base_lr: 0.1,
        updates_per_epoch: 1,
        total_updates: 100,
    };
    for (text, field) in [
        ("type = \"step\"\nstep_size = 0", "step_size"),
        ("type = \"linear\"\nstart_factor = 0.5\ntotal_iters = 0", "total_iters"),
        ("type = \"constant\"\nfactor = 0.0", "factor"),
        ("type = \"constant\"\nfactor = 0.5\ntotal_iters = 0", "total_iters"),
        (
            "type = \"chained\"\n[[schedulers]]\ntype = \"one_cycle\"\nmax_lr = 0.1",
            "schedulers",
        ),
        (
            "type = \"chained\"\n[[schedulers]]\ntype = \"cosine_annealing\"\nt_max = 5\neta_min = 0.01",
            "schedulers",
        ),
        (
            "type = \"cyclic\"\nbase_lr = 0.1\nmax_lr = 1.0\nstep_size_up = 0",
            "step_size_up",
        ),
        ("type = \"cosine_warm_restarts\"\nt_0 = 0", "t_0"),
        ("type = \"polynomial\"\ntotal_iters = 0", "total_iters"),
    ] {
        let cfg: SchedulerConfig = toml::from_str(text).unwrap();
        let err = cfg.init(&run).unwrap_err().to_string();
        assert!(err.contains(&format!("`{field}`")), "{text}: {err}");
    }
    // A zero-length LinearLR with start_factor 1 is a no-op, not an error.
    let cfg: SchedulerConfig = toml::from_str("type = \"linear\"\nstart_factor = 1.0\ntotal_iters = 0").unwrap();
    let mut s = cfg.init(&run).unwrap();
    assert_eq!(s.step(), 0.1);
}

#[test]
fn lr_at_step_1e9_equals_the_closed_form() {
    let k = 1_000_000_000u64;
    let run = RunInfo {
        base_lr: 0.1,
        updates_per_epoch: 1,
        total_updates: 2 * k,
    };
    type ClosedForm = Box<dyn Fn(f64) -> f64>;
    let cases: Vec<(&str, ClosedForm)> = vec![
        (
            "type = \"exponential\"\ngamma = 0.999999999\nunit = \"iteration\"",
            Box::new(|t| 0.1 * 0.999999999f64.powf(t)),
        ),
        (
            "type = \"step\"\nstep_size = 1000\ngamma = 0.99999",
            Box::new(|t| 0.1 * 0.99999f64.powf((t / 1000.0).floor())),
        ),
        (
            "type = \"cosine_annealing\"\nt_max = 300000007",
            Box::new(|t| 0.1 * (1.0 + (std::f64::consts::PI * (t % 600000014.0) / 300000007.0).cos()) / 2.0),
        ),
        (
            "type = \"polynomial\"\ntotal_iters = 3000000000\npower = 1.5",
            Box::new(|t| 0.1 * (1.0 - t / 3e9).powf(1.5)),
        ),
    ];
    for (text, closed) in cases {
        let cfg: SchedulerConfig = toml::from_str(text).unwrap();
        let s = cfg.init(&run).unwrap();
        let got = s.lr_at_update(k).unwrap();
        let want = closed(k as f64);
        assert!(((got - want) / want).abs() < 1e-12, "{text}: {got} vs {want}");
    }
}

#[test]
fn warm_restart_cycles_match_a_plain_walk() {
    for t_0 in 1..5u64 {
        for t_mult in 1..5u64 {
            let s = CosineAnnealingWarmRestartsSchedulerConfig::new(t_0)
                .with_t_mult(t_mult)
                .init(1.0)
                .unwrap();
            for per in [1u64, 3, 391] {
                let (mut start, mut len) = (0u64, t_0);
                for k in 0..3000u64 {
                    while (start + len) * per <= k {
                        start += len;
                        len *= t_mult;
                    }
                    let want = ((k - start * per) as f64 / per as f64, len as f64);
                    assert_eq!(
                        s.schedule().cycle_position(k, per),
                        want,
                        "t_0 {t_0} t_mult {t_mult} per {per} k {k}"
                    );
                }
            }
        }
    }
}

#[test]
fn warmup_in_front_of_any_schedule() {
    let run = RunInfo {
        base_lr: 0.1,
        updates_per_epoch: 2,
        total_updates: 40,
    };
    let lrs = |text: &str| -> Vec<f64> {
        let cfg: SchedulerConfig = toml::from_str(text).unwrap();
        let mut s = cfg.init(&run).unwrap();
        (0..8).map(|_| s.step()).collect()
    };
    // Linear from 0.25 over 4 updates, then StepLR (per epoch = 2 updates) from its own step 0.
    let got = lrs("type = \"step\"\nstep_size = 1\ngamma = 0.5\n[warmup]\nsteps = 4\nstart_factor = 0.25");
    let want = [0.025, 0.04375, 0.0625, 0.08125, 0.1, 0.1, 0.05, 0.05];
    for (g, w) in got.iter().zip(want) {
        assert!((g - w).abs() < 1e-15, "{got:?}");
    }
    // Exponential over 2 epochs (4 updates): start_factor^(1 - k/4).
    let got = lrs("type = \"fixed\"\n[warmup]\nepochs = 2\nstart_factor = 0.01\nmode = \"exponential\"");
    let want = [
        0.001,
        0.1 * 0.01f64.powf(0.75),
        0.01,
        0.1 * 0.01f64.powf(0.25),
        0.1,
        0.1,
        0.1,
        0.1,
    ];
    for (g, w) in got.iter().zip(want) {
        assert!((g - w).abs() < 1e-15, "{got:?}");
    }
    // A zero-length warmup is a no-op.
    assert_eq!(
        lrs("type = \"cosine_annealing\"\nt_max = 3\n[warmup]\nsteps = 0"),
        lrs("type = \"cosine_annealing\"\nt_max = 3")
    );
    // A warmup needs exactly one length and a start factor in (0, 1].
    for bad in [
        "[warmup]\nstart_factor = 0.1",
        "[warmup]\nsteps = 2\nepochs = 1",
        "[warmup]\nsteps = 2\nstart_factor = 0.0",
    ] {
        let cfg: SchedulerConfig = toml::from_str(&format!("type = \"fixed\"\n{bad}")).unwrap();
        assert!(cfg.init(&run).is_err(), "{bad}");
    }
}
