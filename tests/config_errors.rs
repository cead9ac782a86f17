//! Every invalid parameter is a typed error from the config naming the field, the value and the
//! allowed range; never a panic.

use burn_lr::schedule::*;

fn run() -> RunInfo {
    RunInfo {
        base_lr: 0.1,
        updates_per_epoch: 10,
        total_updates: 1000,
    }
}

fn err(cfg: SchedulerConfig) -> String {
    match cfg.init(&run()) {
        Ok(_) => panic!("expected an error for {cfg:?}"),
        Err(e) => e.to_string(),
    }
}

fn toml_err(text: &str) -> String {
    toml::from_str::<SchedulerConfig>(text).unwrap_err().to_string()
}

#[test]
fn step_and_cosine() {
    assert!(err(SchedulerConfig::Step(StepLrSchedulerConfig::new(0))).contains("`step_size` = 0"));
    assert!(err(SchedulerConfig::Step(
        StepLrSchedulerConfig::new(3).with_gamma(f64::NAN)
    ))
    .contains("`gamma` = NaN"));
    assert!(err(SchedulerConfig::Exponential(ExponentialLrSchedulerConfig::new(
        f64::INFINITY
    )))
    .contains("`gamma` = inf"));
    assert!(
        err(SchedulerConfig::CosineAnnealing(CosineAnnealingLrSchedulerConfig::new(
            0
        )))
        .contains("`t_max` = 0")
    );
    assert!(err(SchedulerConfig::CosineAnnealing(
        CosineAnnealingLrSchedulerConfig::new(5).with_eta_min(-1.0)
    ))
    .contains("`eta_min` = -1"));
    let bad_lr = StepLrSchedulerConfig::new(3).init(f64::NAN).unwrap_err().to_string();
    assert!(bad_lr.contains("`lr` = NaN"), "{bad_lr}");
}

#[test]
fn one_cycle() {
    for pct in [0.0, 1.0, -0.1, 1.5, f64::NAN] {
        let e = err(SchedulerConfig::OneCycle(
            OneCycleLrSchedulerConfig::new(0.1).with_pct_start(pct),
        ));
        assert!(e.contains("pct_start"), "{e}");
    }
    let e = err(SchedulerConfig::OneCycle(OneCycleLrSchedulerConfig::new(-0.1)));
    assert!(e.contains("`max_lr` = -0.1"), "{e}");
    let e = err(SchedulerConfig::OneCycle(
        OneCycleLrSchedulerConfig::new(0.1).with_div_factors(0.0, 1e4),
    ));
    assert!(e.contains("div_factor"), "{e}");
    // A phase of length exactly zero (pct_start x total_steps = 1: PyTorch divides by zero);
    // shorter-than-one-step phases are fine.
    let e = OneCycleLrSchedulerConfig::new(0.1)
        .with_total_steps(10)
        .with_pct_start(0.1)
        .init()
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("phase 1") && e.contains("length exactly 0") && e.contains("total_steps = 10"),
        "{e}"
    );
    OneCycleLrSchedulerConfig::new(0.1).with_total_steps(3).init().unwrap();
    OneCycleLrSchedulerConfig::new(0.1)
        .with_total_steps(10)
        .with_pct_start(0.95)
        .init()
        .unwrap();
    // No length anywhere.
    assert!(OneCycleLrSchedulerConfig::new(0.1)
        .init()
        .unwrap_err()
        .to_string()
        .contains("total_steps"));
    // A declared length that differs from the run's is used as given (with a warning).
    let c = SchedulerConfig::OneCycle(OneCycleLrSchedulerConfig::new(0.1).with_total_steps(500));
    let run = RunInfo {
        base_lr: 0.1,
        updates_per_epoch: 100,
        total_updates: 1000,
    };
    c.init(&run).unwrap();
    let warnings = c.length_warnings(&run);
    assert!(
        warnings.len() == 1 && warnings[0].contains("1000 iterations"),
        "{warnings:?}"
    );
    // Learning rates above 1 are allowed.
    OneCycleLrSchedulerConfig::new(3.0)
        .with_total_steps(100)
        .init()
        .unwrap();
}

#[test]
fn cyclic() {
    let e = err(SchedulerConfig::Cyclic(
        CyclicLrSchedulerConfig::new(0.1, 1.0).with_step_sizes(0, None),
    ));
    assert!(e.contains("`step_size_up` = 0"), "{e}");
    let e = err(SchedulerConfig::Cyclic(
        CyclicLrSchedulerConfig::new(0.1, 1.0).with_step_sizes(5, Some(0)),
    ));
    assert!(e.contains("`step_size_down` = 0"), "{e}");
    let e = err(SchedulerConfig::Cyclic(CyclicLrSchedulerConfig::new(0.0, 1.0)));
    assert!(e.contains("`base_lr` = 0"), "{e}");
    // Parses, but contradicts `mode`: caught by build.
    let cfg: SchedulerConfig = toml::from_str(
        "type = \"cyclic\"\nbase_lr = 0.1\nmax_lr = 1.0\nmode = \"triangular\"\nscale_mode = \"iterations\"",
    )
    .unwrap();
    assert!(err(cfg).contains("scale_mode"));
}

#[test]
fn plateau() {
    for factor in [1.0, 1.5, -0.1, f64::NAN] {
        let e = err(SchedulerConfig::ReduceOnPlateau(ReduceLrOnPlateauSchedulerConfig {
            factor,
            ..Default::default()
        }));
        assert!(e.contains("`factor`"), "{e}");
    }
    let e = err(SchedulerConfig::ReduceOnPlateau(ReduceLrOnPlateauSchedulerConfig {
        monitor: "f1".into(),
        ..Default::default()
    }));
    assert!(e.contains("monitor"), "{e}");
    let e = err(SchedulerConfig::ReduceOnPlateau(ReduceLrOnPlateauSchedulerConfig {
        unit: Unit::Iteration,
        ..Default::default()
    }));
    assert!(e.contains("`unit` = iteration"), "{e}");
    let e = err(SchedulerConfig::ReduceOnPlateau(ReduceLrOnPlateauSchedulerConfig {
        threshold: -1.0,
        ..Default::default()
    }));
    assert!(e.contains("`threshold` = -1"), "{e}");
}

#[test]
fn toml_unknown_keys_and_types() {
    assert!(toml_err("type = \"step\"\nstep_size = 3\nstep_sise = 4").contains("step_sise"));
    assert!(toml_err("type = \"one_cycle\"\nmax_lr = 0.1\nanneal_strategy = \"cosine\"").contains("cosine"));
    assert!(toml_err("type = \"warp\"").contains("warp"));
    let e = toml_err("type = \"step\"\nstep_size = -3");
    assert!(e.contains("step_size") && e.contains("-3"), "{e}");
    let e = toml_err("type = \"one_cycle\"\nmax_lr = \"high\"");
    assert!(e.contains("max_lr"), "{e}");
    assert!(toml_err("step_size = 3").contains("type"));
    let cfg: SchedulerConfig = toml::from_str("type = \"cosine_annealing\"\nt_max = 30\nunit = \"iteration\"").unwrap();
    assert_eq!(cfg.unit(), Unit::Iteration);
}

#[test]
fn huge_step_counts_stay_exact_and_finite() {
    let s = CosineAnnealingLrSchedulerConfig::new(50)
        .with_eta_min(1e-4)
        .init(0.1)
        .unwrap();
    let closed = |t: u64| 1e-4 + (0.1 - 1e-4) * (1.0 + (std::f64::consts::PI * (t % 100) as f64 / 50.0).cos()) / 2.0;
    for t in [1_000_000_000u64, u64::MAX - 1, 1_000_000_007] {
        assert_eq!(s.lr_at_update(t), closed(t));
    }
    let one = OneCycleLrSchedulerConfig::new(0.1)
        .with_total_steps(1000)
        .init()
        .unwrap();
    assert_eq!(one.lr_at_update(u64::MAX), one.lr_at_update(999));
    let step = StepLrSchedulerConfig::new(1).with_gamma(0.5).init(1.0).unwrap();
    assert_eq!(step.lr_at_update(u64::MAX), 0.0);
}

/// A length the run fills in (the config leaves it out) that is too short is said in the run's
/// terms, never as a length the user did not set; a declared length keeps its own message.
#[test]
fn a_run_too_short_for_its_schedule_is_said_in_the_run_s_terms() {
    let short = RunInfo {
        base_lr: 0.1,
        updates_per_epoch: 4,
        total_updates: 4,
    };
    let one_cycle: SchedulerConfig = toml::from_str("type = \"one_cycle\"\nmax_lr = 0.1\npct_start = 0.25").unwrap();
    let e = one_cycle.init(&short).unwrap_err().to_string();
    assert!(
        e.contains("this run is too short") && e.contains("4 step(s)") && e.contains("change pct_start"),
        "{e}"
    );
    assert!(!e.contains("total_steps"), "{e}");
    let declared: SchedulerConfig =
        toml::from_str("type = \"one_cycle\"\nmax_lr = 0.1\npct_start = 0.25\ntotal_steps = 4").unwrap();
    assert!(declared
        .init(&short)
        .unwrap_err()
        .to_string()
        .contains("change pct_start or total_steps"));
    for text in [
        "type = \"cosine_with_restarts\"\nnum_warmup_steps = 10",
        "type = \"polynomial_decay\"\nnum_warmup_steps = 10",
        "type = \"polynomial_decay\"\nnum_warmup_steps = 4",
        "type = \"cosine_with_restarts\"\nnum_warmup_steps = 5",
        "type = \"warmup_stable_decay\"\nnum_warmup_steps = 3\nnum_decay_steps = 3",
    ] {
        let cfg: SchedulerConfig = toml::from_str(text).unwrap();
        let e = cfg.init(&short).unwrap_err().to_string();
        assert!(
            e.contains("this run is too short") && !e.contains("num_training_steps"),
            "{text}: {e}"
        );
    }
}
