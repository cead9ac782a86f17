//! Configs as PyTorch users write them: OneCycle lengths used as given, PyTorch class names,
//! a composite's `unit` as its children's default, exact end points, no negative LR.

use burn::lr_scheduler::LrScheduler;
use burn_lr::burn; // the Burn burn-lr is built on (0.22, or 0.23 with its feature burn-0-23)
use burn_lr::schedule::*;

mod common;
use common::{cfg, lrs, run};

fn invalid_field(c: &SchedulerConfig, r: &RunInfo) -> &'static str {
    match c.init(r) {
        Err(ScheduleError::InvalidParam { field, .. }) => field,
        other => panic!("{c:?}: expected an invalid parameter, got {other:?}"),
    }
}

#[test]
fn one_cycle_total_steps_is_used_as_given_in_longer_and_shorter_runs() {
    let c = cfg("type = \"one_cycle\"\nmax_lr = 0.01\ntotal_steps = 50");
    let reference = lrs(&c, &run(0.1, 1, 50), 50);
    let longer = lrs(&c, &run(0.1, 1, 53), 53);
    assert_eq!(longer[..50], reference[..]);
    let final_lr = 0.01 / 25.0 / 1e4;
    assert_eq!(reference[49], final_lr);
    assert!(longer[50..].iter().all(|lr| *lr == final_lr), "{:?}", &longer[48..]);
    let shorter = lrs(&c, &run(0.1, 1, 20), 20);
    assert_eq!(shorter[..], reference[..20]);
    // The same through `epochs` x `steps_per_epoch`, and warnings only where lengths differ.
    let by_epochs = cfg("type = \"one_cycle\"\nmax_lr = 0.01\nepochs = 5\nsteps_per_epoch = 10");
    assert_eq!(lrs(&by_epochs, &run(0.1, 7, 53), 50), reference);
    assert_eq!(c.length_warnings(&run(0.1, 1, 50)), Vec::<String>::new());
    let longer_warning = c.length_warnings(&run(0.1, 1, 53));
    assert_eq!(longer_warning.len(), 1);
    assert!(
        longer_warning[0].contains("total_steps = 50") && longer_warning[0].contains("53"),
        "{longer_warning:?}"
    );
    assert_eq!(c.length_warnings(&run(0.1, 1, 20)).len(), 1);
    // Without a length, the run fills it in: never a warning.
    let spans = cfg("type = \"one_cycle\"\nmax_lr = 0.01");
    assert!(spans.length_warnings(&run(0.1, 3, 20)).is_empty());
    assert_eq!(lrs(&spans, &run(0.1, 1, 50), 50), reference);
}

#[test]
fn one_cycle_parameter_errors_come_before_length_errors() {
    for (extra, field) in [
        ("max_lr = -0.1\ntotal_steps = 50", "max_lr"),
        ("max_lr = 0.1\npct_start = 1.5\ntotal_steps = 50", "pct_start"),
        ("max_lr = -0.1\nepochs = 3", "max_lr"),
        ("max_lr = 0.1\npct_start = 1.5\nepochs = 3", "pct_start"),
        ("max_lr = 0.1\ndiv_factor = 0.0\ntotal_steps = 0", "div_factor"),
        ("max_lr = 0.1\nbase_momentum = 0.99\ntotal_steps = 1", "base_momentum"),
    ] {
        let c = cfg(&format!("type = \"one_cycle\"\n{extra}"));
        for total in [1, 20, 53] {
            assert_eq!(
                invalid_field(&c, &run(0.1, 1, total)),
                field,
                "{extra} with a run of {total}"
            );
        }
        if let SchedulerConfig::OneCycle(one) = &c {
            assert!(
                matches!(one.init(), Err(ScheduleError::InvalidParam { field: f, .. }) if f == field),
                "{extra}"
            );
        }
    }
}

#[test]
fn one_cycle_short_phases_allowed_zero_length_phases_refused() {
    for (total, pct, three) in [
        (6, 0.25, false),
        (2, 0.25, false),
        (1, 0.3, false),
        (6, 0.25, true),
        (3, 0.1, true),
    ] {
        let c = OneCycleLrSchedulerConfig::new(0.1)
            .with_total_steps(total)
            .with_pct_start(pct)
            .with_three_phase(three);
        let mut s = c.init().unwrap_or_else(|e| panic!("{total} {pct} {three}: {e}"));
        for _ in 0..total + 3 {
            let lr = s.step();
            assert!(lr.is_finite() && lr >= 0.0);
        }
    }
    // pct_start x total_steps = 1: phase 1 has length 0 (PyTorch: ZeroDivisionError).
    for (total, pct, three) in [(10, 0.1, false), (4, 0.25, false), (10, 0.1, true), (8, 0.125, true)] {
        let c = OneCycleLrSchedulerConfig::new(0.1)
            .with_total_steps(total)
            .with_pct_start(pct)
            .with_three_phase(three);
        let err = c.init().unwrap_err();
        let text = err.to_string();
        assert!(text.contains("pct_start") && text.contains("total_steps"), "{text}");
    }
    assert!(OneCycleLrSchedulerConfig::new(0.1).with_total_steps(0).init().is_err());
    // Smoke-sized training runs do not need a special batch size.
    let c = cfg("type = \"one_cycle\"\nmax_lr = 0.1");
    for total in 1..12 {
        let r = run(0.1, 1, total);
        if let Err(e) = c.init(&r) {
            assert!(
                total == 10 && e.to_string().contains("length exactly 0"),
                "{total}: {e}"
            );
        }
    }
}

#[test]
fn pytorch_class_names_and_short_forms_are_accepted() {
    for (name, kind) in [
        ("step_lr", "step"),
        ("StepLR", "step"),
        ("multi_step_lr", "multi_step"),
        ("exponential_lr", "exponential"),
        ("linear_lr", "linear"),
        ("constant_lr", "constant"),
        ("polynomial_lr", "polynomial"),
        ("cosine_annealing_lr", "cosine_annealing"),
        ("cosine_annealing_warm_restarts", "cosine_annealing_warm_restarts"),
        ("cosine_warm_restarts", "cosine_annealing_warm_restarts"),
        ("CosineAnnealingWarmRestarts", "cosine_annealing_warm_restarts"),
        ("reduce_lr_on_plateau", "reduce_on_plateau"),
        ("one_cycle_lr", "one_cycle"),
        ("OneCycleLR", "one_cycle"),
        ("cyclic_lr", "cyclic"),
        ("sequential_lr", "sequential"),
        ("chained_scheduler", "chained"),
    ] {
        let ty = resolve_type(name).unwrap_or_else(|| panic!("{name}"));
        assert_eq!(ty.name, kind);
    }
    let c = cfg("type = \"cosine_annealing_warm_restarts\"\nt_0 = 10\nt_mult = 2");
    assert_eq!(c.kind(), "cosine_annealing_warm_restarts");
    let c = cfg("type = \"StepLR\"\nstep_size = 3");
    assert_eq!(c.kind(), "step");
    // Every canonical name parses back to itself.
    for ty in SCHEDULE_TYPES {
        assert_eq!(resolve_type(ty.name).unwrap().name, ty.name);
    }
}

#[test]
fn an_unknown_type_suggests_the_closest_name() {
    for (typo, want) in [
        ("cosine_anealing", "cosine_annealing"),
        ("onecycle_lrr", "one_cycle_lr"),
        ("reduce_on_plateu", "reduce_on_plateau"),
        ("cosine_annealing_warm_restart", "cosine_annealing_warm_restarts"),
    ] {
        let err = toml::from_str::<SchedulerConfig>(&format!("type = \"{typo}\""))
            .unwrap_err()
            .to_string();
        assert!(err.contains(&format!("did you mean `{want}`")), "{typo}: {err}");
    }
}

#[test]
fn a_composite_unit_is_the_default_of_its_children() {
    let chained = cfg(
        "type = \"chained\"\nunit = \"epoch\"\n[[schedulers]]\ntype = \"constant\"\nfactor = 0.5\ntotal_iters = 2\n\
         [[schedulers]]\ntype = \"exponential\"\ngamma = 0.5\n",
    );
    // 3 updates per epoch: the LR changes only every 3 updates.
    let got = lrs(&chained, &run(1.0, 3, 12), 12);
    assert_eq!(
        got,
        [0.5, 0.5, 0.5, 0.25, 0.25, 0.25, 0.25, 0.25, 0.25, 0.125, 0.125, 0.125]
    );
    // A child's own unit wins; the milestones of a sequential follow its unit.
    let seq = cfg(
        "type = \"sequential\"\nunit = \"iteration\"\nmilestones = [2]\n[[schedulers]]\ntype = \"constant\"\nfactor = 0.5\n\
         total_iters = 1\n[[schedulers]]\ntype = \"step\"\nstep_size = 1\ngamma = 0.5\nunit = \"epoch\"\n",
    );
    let got = lrs(&seq, &run(1.0, 2, 8), 8);
    assert_eq!(got, [0.5, 1.0, 1.0, 1.0, 0.5, 0.5, 0.25, 0.25]);
    // Without a composite unit each child keeps its own default (OneCycle: iteration).
    let SchedulerConfig::Chained(c) = &chained else {
        panic!()
    };
    assert!(c.schedulers.iter().all(|s| s.unit() == Unit::Epoch));
    let plain = cfg("type = \"sequential\"\nmilestones = [1]\n[[schedulers]]\ntype = \"fixed\"\n[[schedulers]]\ntype = \"one_cycle\"\nmax_lr = 0.1\n");
    let SchedulerConfig::Sequential(s) = &plain else {
        panic!()
    };
    assert_eq!(s.schedulers[1].unit(), Unit::Iteration);
    assert_eq!(plain.unit(), Unit::Epoch);
    // Inherited into a nested composite and through a warmup table; `fixed` takes none.
    let nested = cfg(
        "type = \"chained\"\nunit = \"epoch\"\n[[schedulers]]\ntype = \"fixed\"\n[[schedulers]]\ntype = \"chained\"\n\
         [[schedulers.schedulers]]\ntype = \"exponential\"\ngamma = 0.5\n",
    );
    assert_eq!(lrs(&nested, &run(1.0, 2, 4), 4), [1.0, 1.0, 0.5, 0.5]);
}

fn exact_end(c: &SchedulerConfig, r: &RunInfo, at: u64, want: f64) {
    let got = lrs(c, r, at + 3);
    for (k, lr) in got.iter().enumerate() {
        assert!(*lr >= 0.0 && lr.is_sign_positive(), "{c:?}: update {k}: {lr:e}");
    }
    assert!(
        got[at as usize..].iter().all(|lr| *lr == want),
        "{c:?}: from update {at}: {:?}, want {want:e}",
        &got[at as usize..]
    );
}

#[test]
fn every_schedule_lands_exactly_on_its_end_points() {
    for start in [0.1, 0.3, 1.0 / 3.0, 0.7, 0.9] {
        for total in 1..12 {
            for base in [1.0, 0.1, 0.3, 3.0] {
                for end in [0.0, 0.1, 0.5, 1.0] {
                    let c = cfg(&format!("type = \"linear\"\nstart_factor = {start:?}\nend_factor = {end:?}\ntotal_iters = {total}\nunit = \"iteration\""));
                    exact_end(&c, &run(base, 1, 20), total, base * end);
                }
                let c = cfg(&format!(
                    "type = \"polynomial\"\ntotal_iters = {total}\npower = {start:?}\nunit = \"iteration\""
                ));
                exact_end(&c, &run(base, 1, 20), total, 0.0);
                for eta_min in [0.0, 1e-3, 0.01] {
                    let c = cfg(&format!("type = \"cosine_annealing\"\nt_max = {total}\neta_min = {eta_min:?}\nafter_t_max = \"clamp\"\nunit = \"iteration\""));
                    exact_end(&c, &run(base, 1, 20), total, eta_min);
                    let periodic = cfg(&format!(
                        "type = \"cosine_annealing\"\nt_max = {total}\neta_min = {eta_min:?}\nunit = \"iteration\""
                    ));
                    let got = lrs(&periodic, &run(base, 1, 20), 2 * total + 1);
                    assert_eq!(got[total as usize], eta_min);
                    assert_eq!(got[2 * total as usize], base);
                }
            }
        }
    }
}

#[test]
fn one_cycle_ends_exactly_on_its_final_lr() {
    for anneal in ["cos", "linear"] {
        for three in [false, true] {
            for total in [7, 50, 97, 1000, 3911] {
                for max_lr in [0.1, 0.2, 3.0, 0.013] {
                    let c = cfg(&format!("type = \"one_cycle\"\nmax_lr = {max_lr:?}\ntotal_steps = {total}\nanneal_strategy = \"{anneal}\"\nthree_phase = {three}"));
                    let final_lr = max_lr / 25.0 / 1e4;
                    exact_end(&c, &run(0.1, 1, total), total - 1, final_lr);
                    let mut s = c.init(&run(0.1, 1, total)).unwrap();
                    for _ in 0..total {
                        s.step();
                    }
                    assert_eq!(s.momentum(), Some(0.95));
                }
            }
        }
    }
}

#[test]
fn warmup_ends_on_the_next_schedule_start_and_composites_keep_end_points() {
    let c =
        cfg("type = \"cosine_annealing\"\nt_max = 10\nunit = \"iteration\"\n[warmup]\nsteps = 7\nstart_factor = 0.1");
    let got = lrs(&c, &run(0.3, 1, 20), 20);
    assert_eq!(got[7], 0.3);
    assert!(got[..7].windows(2).all(|w| w[0] < w[1]) && got[6] < 0.3);
    assert_eq!(got[17], 0.0);
    // LinearLR to 0 inside a sequential and a chain: exactly 0, never negative.
    let seq = cfg(
        "type = \"sequential\"\nunit = \"iteration\"\nmilestones = [2]\n[[schedulers]]\ntype = \"fixed\"\n\
         [[schedulers]]\ntype = \"linear\"\nstart_factor = 0.1\nend_factor = 0.0\ntotal_iters = 3\n",
    );
    exact_end(&seq, &run(1.0, 1, 10), 5, 0.0);
    let chain = cfg(
        "type = \"chained\"\nunit = \"iteration\"\n[[schedulers]]\ntype = \"linear\"\nstart_factor = 0.3\nend_factor = 0.0\n\
         total_iters = 3\n[[schedulers]]\ntype = \"exponential\"\ngamma = 0.9\n",
    );
    exact_end(&chain, &run(1.0, 1, 10), 3, 0.0);
    let wsd = cfg("type = \"warmup_stable_decay\"\nnum_warmup_steps = 3\nnum_decay_steps = 7\nmin_lr_ratio = 0.1\ndecay_type = \"1-sqrt\"");
    exact_end(&wsd, &run(0.3, 1, 15), 15, 0.3 * 0.1);
    let poly = cfg("type = \"polynomial_decay\"\nnum_warmup_steps = 2\nlr_end = 1e-4\npower = 2.0");
    exact_end(&poly, &run(0.3, 1, 15), 15, 1e-4);
}

#[test]
fn hf_schedules_take_their_length_from_the_run_when_left_out() {
    let c = cfg("type = \"cosine_with_restarts\"\nnum_warmup_steps = 2\nnum_cycles = 2");
    let got = lrs(&c, &run(1.0, 1, 10), 12);
    assert_eq!(got[2], 1.0);
    assert_eq!(got[6], 1.0);
    assert_eq!(got[10], 0.0);
    let declared = cfg("type = \"cosine_with_restarts\"\nnum_warmup_steps = 2\nnum_training_steps = 10");
    assert!(declared.length_warnings(&run(1.0, 1, 10)).is_empty());
    assert_eq!(declared.length_warnings(&run(1.0, 1, 30)).len(), 1);
}

#[test]
fn a_chain_refuses_a_cosine_past_t_max_where_pytorch_stops_scaling() {
    let chain = |t_max: u64, extra: &str| {
        cfg(&format!(
            "type = \"chained\"\n[[schedulers]]\ntype = \"exponential\"\ngamma = 0.5\n[[schedulers]]\n\
             type = \"cosine_annealing\"\nt_max = {t_max}\n{extra}"
        ))
    };
    // PyTorch: lr 1.0, ExponentialLR(0.5) + CosineAnnealingLR(t_max=2): 1, 0.25, 0 (then 0.5, 0.5, 0.125).
    assert_eq!(lrs(&chain(2, ""), &run(1.0, 1, 3), 3), [1.0, 0.25, 0.0]);
    let err = chain(2, "").init(&run(1.0, 1, 6)).unwrap_err().to_string();
    assert!(err.contains("t_max") && err.contains("6 epochs"), "{err}");
    chain(2, "after_t_max = \"clamp\"").init(&run(1.0, 1, 6)).unwrap();
}

#[test]
fn lambda_and_multiplicative_say_they_take_a_function() {
    for name in ["lambda_lr", "LambdaLR", "multiplicative_lr"] {
        let err = toml::from_str::<SchedulerConfig>(&format!("type = \"{name}\""))
            .unwrap_err()
            .to_string();
        assert!(err.contains("no TOML form"), "{name}: {err}");
    }
}

#[test]
fn every_table_name_is_the_config_kind_and_the_record_kind() {
    let minimal = |name: &str| -> String {
        let body = match name {
            "step" => "step_size = 2",
            "multi_step" => "milestones = [1]",
            "exponential" => "gamma = 0.5",
            "cosine_annealing" => "t_max = 3",
            "cosine_annealing_warm_restarts" => "t_0 = 2",
            "one_cycle" => "max_lr = 0.1",
            "cyclic" => "base_lr = 0.1\nmax_lr = 1.0",
            "sequential" => "milestones = [1]\n[[schedulers]]\ntype = \"fixed\"\n[[schedulers]]\ntype = \"fixed\"",
            "chained" => "[[schedulers]]\ntype = \"fixed\"",
            "warmup" => "[warmup]\nsteps = 1\n[schedule]\ntype = \"fixed\"",
            "swa" => "[swa]\nswa_start = 1\nswa_lr = 0.1\n[schedule]\ntype = \"fixed\"",
            "warmup_stable_decay" => "num_warmup_steps = 1\nnum_decay_steps = 1",
            "inverse_sqrt" => "num_warmup_steps = 2",
            "noam" => "factor = 1.0",
            "timm_cosine" => "t_initial = 3",
            "piecewise_linear" => "knots = [0, 2]\nvalues = [1.0, 0.0]",
            _ => "",
        };
        format!("type = \"{name}\"\n{body}")
    };
    let r = run(0.5, 1, 10);
    for ty in SCHEDULE_TYPES {
        let c = cfg(&minimal(ty.name));
        // A `warmup` type is the warmup of its schedule; every other name is its config's kind.
        assert_eq!(c.kind(), ty.name, "{}", ty.name);
        let built = c.init(&r).unwrap_or_else(|e| panic!("{}: {e}", ty.name));
        // The record is tagged with the same name: a record of this type loads back.
        let mut again = c.init(&r).unwrap();
        again
            .try_load_record(&burn::lr_scheduler::LrScheduler::to_record(&built))
            .unwrap();
        for alias in ty.aliases {
            assert_eq!(resolve_type(alias).unwrap().name, ty.name);
        }
    }
    // The one record format: a scheduler from `XConfig::init()` and one from the TOML form agree.
    let mut direct = StepLrSchedulerConfig::new(2).init(0.5).unwrap();
    for _ in 0..3 {
        direct.step();
    }
    let mut from_toml = cfg("type = \"step\"\nstep_size = 2\nunit = \"iteration\"")
        .init(&r)
        .unwrap();
    from_toml.try_load_record(&direct.to_record()).unwrap();
    assert_eq!(from_toml.step(), direct.step());
}
