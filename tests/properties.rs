//! Property tests over random configs of every schedule.
//! Valid configs: no panic, every LR finite and >= 0, `load_record(to_record())` at a random step
//! continues identically. Invalid configs: an error, never a panic.

use burn::lr_scheduler::{LrScheduler, LrSchedulerRecord};
use burn_lr::burn; // the Burn burn-lr is built on (0.22, or 0.23 with its feature burn-0-23)
use burn_lr::schedule::*;
use proptest::prelude::*;

fn unit() -> impl Strategy<Value = Unit> {
    prop_oneof![Just(Unit::Epoch), Just(Unit::Iteration)]
}

fn leaf() -> impl Strategy<Value = SchedulerConfig> {
    prop_oneof![
        Just(SchedulerConfig::default()),
        (1u64..50, 0.0f64..=1.0, unit())
            .prop_map(|(s, g, u)| SchedulerConfig::Step(StepLrSchedulerConfig::new(s).with_gamma(g).with_unit(u))),
        (proptest::collection::vec(0u64..60, 0..5), 0.0f64..1.0)
            .prop_map(|(m, g)| SchedulerConfig::MultiStep(MultiStepLrSchedulerConfig::new(m).with_gamma(g))),
        (0.0f64..=1.0, unit())
            .prop_map(|(g, u)| SchedulerConfig::Exponential(ExponentialLrSchedulerConfig::new(g).with_unit(u))),
        (0.01f64..=1.0, 0.0f64..=1.0, 1u64..30)
            .prop_map(|(s, e, n)| SchedulerConfig::Linear(LinearLrSchedulerConfig::new(s, e, n))),
        (0.01f64..=1.0, 0u64..30).prop_map(|(f, n)| SchedulerConfig::Constant(ConstantLrSchedulerConfig::new(f, n))),
        (1u64..60, 0.0f64..4.0).prop_map(|(n, p)| SchedulerConfig::Polynomial(PolynomialLrSchedulerConfig::new(n, p))),
        (1u64..40, 0.0f64..0.05, any::<bool>()).prop_map(|(t, e, clamp)| SchedulerConfig::CosineAnnealing(
            CosineAnnealingLrSchedulerConfig::new(t)
                .with_eta_min(e)
                .with_after_t_max(if clamp { AfterTMax::Clamp } else { AfterTMax::Periodic })
        )),
        (1u64..20, 1u64..4, 0.0f64..0.05).prop_map(|(t0, m, e)| SchedulerConfig::CosineAnnealingWarmRestarts(
            CosineAnnealingWarmRestartsSchedulerConfig::new(t0)
                .with_t_mult(m)
                .with_eta_min(e)
        )),
        (0.001f64..5.0, 0.05f64..0.95, any::<bool>(), 1.0f64..100.0, 1.0f64..1e5).prop_map(|(m, p, three, d, fd)| {
            SchedulerConfig::OneCycle(
                OneCycleLrSchedulerConfig::new(m)
                    .with_pct_start(p)
                    .with_three_phase(three)
                    .with_div_factors(d, fd),
            )
        }),
        (
            0.0001f64..0.1,
            0.1f64..3.0,
            1u64..50,
            proptest::option::of(1u64..50),
            0u8..3,
            0.9f64..1.0
        )
            .prop_map(|(b, m, up, down, mode, g)| {
                let mode = [CyclicMode::Triangular, CyclicMode::Triangular2, CyclicMode::ExpRange][mode as usize];
                SchedulerConfig::Cyclic(
                    CyclicLrSchedulerConfig::new(b, m)
                        .with_step_sizes(up, down)
                        .with_mode(mode, g),
                )
            }),
        reference_leaf(),
    ]
}

/// The Hugging Face, Burn and timm schedules.
fn reference_leaf() -> impl Strategy<Value = SchedulerConfig> {
    let shape = || {
        prop_oneof![
            Just(WsdShape::Linear),
            Just(WsdShape::Cosine),
            Just(WsdShape::OneMinusSqrt)
        ]
    };
    prop_oneof![
        (
            0u64..10,
            0u64..20,
            proptest::option::of(0u64..10),
            shape(),
            shape(),
            0.0f64..=1.0
        )
            .prop_map(|(w, d, stable, wt, dt, r)| {
                let mut c = WarmupStableDecayLrSchedulerConfig::new(w, d)
                    .with_types(wt, dt)
                    .with_min_lr_ratio(r);
                c.num_stable_steps = stable;
                SchedulerConfig::WarmupStableDecay(c)
            }),
        (0u64..20, proptest::option::of(1u64..50)).prop_map(|(w, ts)| SchedulerConfig::InverseSqrt(
            InverseSqrtLrSchedulerConfig {
                timescale: ts,
                ..InverseSqrtLrSchedulerConfig::new(w)
            }
        )),
        (0.01f64..10.0, 1u64..100, 1u64..1024).prop_map(|(f, w, m)| SchedulerConfig::Noam(
            NoamLrSchedulerConfig::new(f).with_warmup_steps(w).with_model_size(m)
        )),
        (0u64..10, 0.5f64..4.0).prop_map(|(w, n)| {
            let mut c = CosineWithHardRestartsLrSchedulerConfig::new(w, 0).with_num_cycles(n);
            c.num_training_steps = None;
            SchedulerConfig::CosineWithRestarts(c)
        }),
        (0u64..10, 0.0f64..1e-3, 0.0f64..3.0).prop_map(|(w, end, p)| {
            let mut c = PolynomialDecayLrSchedulerConfig::new(w, 0).with_end(end, p);
            c.num_training_steps = None;
            SchedulerConfig::PolynomialDecay(c)
        }),
        (
            1u64..20,
            0.0f64..0.01,
            1.0f64..3.0,
            0.0f64..=1.0,
            1u64..4,
            0u64..5,
            0.1f64..3.0,
            any::<bool>(),
            proptest::option::of(0u64..10)
        )
            .prop_map(|(t, lr_min, mul, decay, limit, warm, k, uniform, noise)| {
                let mut c = TimmCosineLrSchedulerConfig::new(t)
                    .with_lr_min(lr_min)
                    .with_cycles(mul, decay, limit)
                    .with_warmup(warm, 0.0, k > 1.5)
                    .with_k_decay(k);
                if let Some(start) = noise {
                    let kind = if uniform { NoiseType::Uniform } else { NoiseType::Normal };
                    c = c.with_noise(NoiseRange::From(start), 0.5, 1.0, kind, 3);
                }
                SchedulerConfig::TimmCosine(c)
            }),
    ]
}

fn composite() -> impl Strategy<Value = SchedulerConfig> {
    leaf().prop_recursive(3, 12, 3, |inner| {
        prop_oneof![
            (
                proptest::collection::vec(inner.clone(), 1..4),
                proptest::collection::vec(0u64..20, 3),
                unit()
            )
                .prop_map(|(children, mut ms, unit)| {
                    ms.truncate(children.len() - 1);
                    ms.sort_unstable();
                    SchedulerConfig::Sequential(SequentialLrSchedulerConfig {
                        schedulers: children,
                        milestones: ms,
                        unit: Some(unit),
                    })
                }),
            proptest::collection::vec(inner.clone(), 1..3).prop_map(|children| SchedulerConfig::Chained(
                ChainedSchedulerConfig {
                    schedulers: children,
                    unit: None
                }
            )),
            (inner, 0u64..20, 0.01f64..=1.0, any::<bool>()).prop_map(|(schedule, steps, start_factor, exp)| {
                SchedulerConfig::Warmup(WarmupSchedulerConfig {
                    warmup: WarmupSpec {
                        steps: Some(steps),
                        epochs: None,
                        start_factor,
                        mode: if exp {
                            WarmupMode::Exponential
                        } else {
                            WarmupMode::Linear
                        },
                    },
                    schedule: Box::new(schedule),
                })
            }),
        ]
    })
}

fn plateau() -> impl Strategy<Value = SchedulerConfig> {
    (
        0.0f64..1.0,
        0u64..4,
        0.0f64..0.5,
        any::<bool>(),
        any::<bool>(),
        0u64..3,
        0.0f64..0.01,
    )
        .prop_map(|(factor, patience, threshold, max, abs, cooldown, min_lr)| {
            SchedulerConfig::ReduceOnPlateau(ReduceLrOnPlateauSchedulerConfig {
                mode: if max { PlateauMode::Max } else { PlateauMode::Min },
                factor,
                patience,
                threshold,
                threshold_mode: if abs { ThresholdMode::Abs } else { ThresholdMode::Rel },
                cooldown,
                min_lr,
                ..Default::default()
            })
        })
}

fn drive(s: &mut Scheduler, from: u64, to: u64, spe: u64, metrics: &[f64]) -> Vec<f64> {
    (from..to)
        .map(|k| {
            if let Some(feed) = s.plateau_feed() {
                if k > 0 && k.is_multiple_of(spe) {
                    let e = k / spe;
                    feed.report(e, metrics[(e as usize - 1) % metrics.len()]);
                }
            }
            s.step()
        })
        .collect()
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 300, max_global_rejects: 100_000, ..ProptestConfig::default() })]

    #[test]
    fn valid_configs_are_finite_and_resume_exactly(
        cfg in prop_oneof![4 => composite(), 1 => plateau()],
        base_lr in 0.0f64..3.0,
        spe in 1u64..6,
        epochs in 1u64..12,
        cut_frac in 0.0f64..1.0,
        metrics in proptest::collection::vec(prop_oneof![Just(f64::NAN), -2.0f64..2.0], 1..6),
    ) {
        let run = RunInfo { base_lr, updates_per_epoch: spe, total_updates: spe * epochs };
        let built = cfg.init(&run);
        // Random composites can be invalid (e.g. a chained cosine past t_max): an error is fine,
        // a panic is not. proptest counts these rejections and fails if they crowd out the rest.
        prop_assume!(built.is_ok(), "rejected: {:?}", built.as_ref().err());
        let mut whole = built.unwrap();
        let n = spe * epochs + 5;
        let expected = drive(&mut whole, 0, n, spe, &metrics);
        for (k, lr) in expected.iter().enumerate() {
            prop_assert!(lr.is_finite() && *lr >= 0.0, "{}: update {k}: lr {lr}", cfg.kind());
        }
        if let Some(lr) = whole.lr_at_update(1_000_000_000) {
            prop_assert!(lr.is_finite() && lr >= 0.0);
        }
        let cut = ((n as f64) * cut_frac) as u64;
        let mut first = cfg.init(&run).unwrap();
        let mut got = drive(&mut first, 0, cut, spe, &metrics);
        if let Some(feed) = first.plateau_feed() {
            if cut > 0 && cut.is_multiple_of(spe) {
                let e = cut / spe;
                feed.report(e, metrics[(e as usize - 1) % metrics.len()]);
            }
        }
        let record = LrSchedulerRecord::from_bytes(first.to_record().into_bytes().unwrap()).unwrap();
        let mut resumed = cfg.init(&run).unwrap();
        resumed.load_record(record);
        got.extend(drive(&mut resumed, cut, n, spe, &metrics));
        prop_assert_eq!(got, expected);
    }

    #[test]
    fn invalid_configs_are_errors_not_panics(
        a in prop_oneof![Just(f64::NAN), Just(f64::INFINITY), Just(-1.0), Just(0.0), Just(1.0), Just(2.0), -1e3f64..1e3],
        b in prop_oneof![Just(f64::NAN), Just(f64::NEG_INFINITY), Just(0.0), Just(1.0), -1e3f64..1e3],
        n in prop_oneof![Just(0u64), Just(1), Just(u64::MAX), 0u64..10],
        m in prop_oneof![Just(0u64), Just(1), Just(u64::MAX), 0u64..10],
        base_lr in prop_oneof![Just(f64::NAN), Just(-0.1), Just(0.1), Just(f64::INFINITY)],
    ) {
        let run = RunInfo { base_lr, updates_per_epoch: m.clamp(1, 1000), total_updates: n.clamp(1, 10_000) };
        let configs = vec![
            SchedulerConfig::Step(StepLrSchedulerConfig::new(n).with_gamma(a)),
            SchedulerConfig::MultiStep(MultiStepLrSchedulerConfig::new(vec![n, m]).with_gamma(a)),
            SchedulerConfig::Exponential(ExponentialLrSchedulerConfig::new(a)),
            SchedulerConfig::Linear(LinearLrSchedulerConfig::new(a, b, n)),
            SchedulerConfig::Constant(ConstantLrSchedulerConfig::new(a, n)),
            SchedulerConfig::Polynomial(PolynomialLrSchedulerConfig::new(n, a)),
            SchedulerConfig::CosineAnnealing(CosineAnnealingLrSchedulerConfig::new(n).with_eta_min(a)),
            SchedulerConfig::CosineAnnealingWarmRestarts(CosineAnnealingWarmRestartsSchedulerConfig::new(n).with_t_mult(m).with_eta_min(b)),
            SchedulerConfig::OneCycle(OneCycleLrSchedulerConfig::new(a).with_pct_start(b).with_div_factors(a, b)),
            SchedulerConfig::OneCycle(OneCycleLrSchedulerConfig::new(0.1).with_total_steps(n)),
            SchedulerConfig::Cyclic(CyclicLrSchedulerConfig::new(a, b).with_step_sizes(n, Some(m)).with_mode(CyclicMode::ExpRange, a)),
            SchedulerConfig::ReduceOnPlateau(ReduceLrOnPlateauSchedulerConfig { factor: a, threshold: b, min_lr: a, eps: b, ..Default::default() }),
            SchedulerConfig::Sequential(SequentialLrSchedulerConfig { schedulers: vec![SchedulerConfig::default()], milestones: vec![n], unit: Some(Unit::Epoch) }),
            SchedulerConfig::Chained(ChainedSchedulerConfig { schedulers: vec![], unit: None }),
            SchedulerConfig::WarmupStableDecay(WarmupStableDecayLrSchedulerConfig::new(n, m).with_min_lr_ratio(a)),
            SchedulerConfig::WarmupStableDecay(WarmupStableDecayLrSchedulerConfig::new(n, m).with_num_training_steps(m)),
            SchedulerConfig::InverseSqrt(InverseSqrtLrSchedulerConfig::new(n).with_timescale(m)),
            SchedulerConfig::Noam(NoamLrSchedulerConfig::new(a).with_warmup_steps(n).with_model_size(m)),
            SchedulerConfig::CosineWithRestarts(CosineWithHardRestartsLrSchedulerConfig::new(n, m).with_num_cycles(a)),
            SchedulerConfig::PolynomialDecay(PolynomialDecayLrSchedulerConfig::new(n, m).with_end(a, b)),
            SchedulerConfig::TimmCosine(TimmCosineLrSchedulerConfig::new(n).with_cycles(a, b, m).with_k_decay(a)),
            SchedulerConfig::TimmCosine(TimmCosineLrSchedulerConfig::new(3).with_noise(NoiseRange::Between([n, m]), a, b, NoiseType::Normal, n)),
        ];
        for cfg in configs {
            if let Ok(mut s) = cfg.init(&run) {
                // Accepted: it must then behave.
                for _ in 0..20 {
                    let lr = s.step();
                    prop_assert!(lr.is_finite() && lr >= 0.0, "{cfg:?} accepted but gave lr {lr}");
                }
            }
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, ..ProptestConfig::default() })]

    /// Every invalid parameter, whatever its invalid value, is an error naming that field.
    #[test]
    fn invalid_parameters_are_errors_naming_the_field(
        bad in prop_oneof![Just(f64::NAN), Just(f64::INFINITY), Just(f64::NEG_INFINITY), -1e6f64..-1e-9],
        big in 1.000001f64..1e6,
        base_lr in 0.0f64..3.0,
    ) {
        use SchedulerConfig as C;
        let run = RunInfo { base_lr, updates_per_epoch: 3, total_updates: 30 };
        let cases: Vec<(SchedulerConfig, &str)> = vec![
            (C::Step(StepLrSchedulerConfig::new(0)), "step_size"),
            (C::Step(StepLrSchedulerConfig::new(3).with_gamma(bad)), "gamma"),
            (C::Exponential(ExponentialLrSchedulerConfig::new(big)), "gamma"),
            (C::Linear(LinearLrSchedulerConfig::new(bad, 1.0, 3)), "start_factor"),
            (C::Linear(LinearLrSchedulerConfig::new(0.5, big, 3)), "end_factor"),
            (C::Constant(ConstantLrSchedulerConfig::new(bad, 2)), "factor"),
            (C::Polynomial(PolynomialLrSchedulerConfig::new(0, 1.0)), "total_iters"),
            (C::Polynomial(PolynomialLrSchedulerConfig::new(3, bad)), "power"),
            (C::CosineAnnealing(CosineAnnealingLrSchedulerConfig::new(3).with_eta_min(bad)), "eta_min"),
            (C::CosineAnnealingWarmRestarts(CosineAnnealingWarmRestartsSchedulerConfig::new(0)), "t_0"),
            (C::OneCycle(OneCycleLrSchedulerConfig::new(bad)), "max_lr"),
            (C::OneCycle(OneCycleLrSchedulerConfig::new(0.1).with_pct_start(big)), "pct_start"),
            (C::OneCycle(OneCycleLrSchedulerConfig::new(0.1).with_div_factors(bad, 1e4)), "div_factor"),
            (C::Noam(NoamLrSchedulerConfig::new(bad)), "factor"),
            (C::Noam(NoamLrSchedulerConfig::new(1.0).with_warmup_steps(0)), "warmup_steps"),
            (C::InverseSqrt(InverseSqrtLrSchedulerConfig::new(3).with_timescale(0)), "timescale"),
            (C::WarmupStableDecay(WarmupStableDecayLrSchedulerConfig::new(1, 1).with_min_lr_ratio(big)), "min_lr_ratio"),
            (C::CosineWithRestarts(CosineWithHardRestartsLrSchedulerConfig::new(1, 10).with_num_cycles(bad)), "num_cycles"),
            (C::PolynomialDecay(PolynomialDecayLrSchedulerConfig::new(1, 10).with_end(bad, 1.0)), "lr_end"),
            (C::TimmCosine(TimmCosineLrSchedulerConfig::new(0)), "t_initial"),
            (C::TimmCosine(TimmCosineLrSchedulerConfig::new(3).with_k_decay(bad)), "k_decay"),
            (C::TimmCosine(TimmCosineLrSchedulerConfig::new(3).with_cycles(1.0, big, 1)), "cycle_decay"),
        ];
        for (cfg, field) in cases {
            match cfg.init(&run) {
                Err(ScheduleError::InvalidParam { field: got, .. }) => prop_assert_eq!(got, field, "{:?}", cfg),
                other => prop_assert!(false, "{cfg:?}: expected an error naming `{field}`, got {other:?}"),
            }
        }
    }
}
