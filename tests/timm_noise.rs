//! timm's LR noise: the same distribution and clipping as timm's `_calculate_noise` (a normal
//! redrawn until `|n| < noise_pct`, or a uniform in `[-noise_pct, noise_pct)`), only inside
//! `noise_range_t`, a function of the seed and the step alone: deterministic and exact across
//! resume. (Bit parity with PyTorch's generator is not a goal.)

use burn::lr_scheduler::{LrScheduler, LrSchedulerRecord};
use burn_lr::burn; // the Burn burn-lr is built on (0.22, or 0.23 with its feature burn-0-23)
use burn_lr::schedule::timm_cosine::LrNoise;
use burn_lr::schedule::*;

fn noise(kind: NoiseType, pct: f64, std: f64, seed: u64) -> LrNoise {
    LrNoise::new("timm_cosine", Some(NoiseRange::From(0)), pct, std, kind, seed)
        .unwrap()
        .unwrap()
}

fn moments(samples: &[f64]) -> (f64, f64) {
    let n = samples.len() as f64;
    let mean = samples.iter().sum::<f64>() / n;
    let var = samples.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / n;
    (mean, var.sqrt())
}

/// Standard deviation of a normal(0, std) truncated to (-pct, pct).
fn truncated_normal_sd(pct: f64, std: f64) -> f64 {
    let a = pct / std;
    let phi = (-a * a / 2.0).exp() / (2.0 * std::f64::consts::PI).sqrt();
    // Φ(a) - Φ(-a) by numerical integration of the density (Simpson, fine grid).
    let n = 10_000;
    let h = 2.0 * a / n as f64;
    let f = |x: f64| (-x * x / 2.0).exp() / (2.0 * std::f64::consts::PI).sqrt();
    let mut mass = f(-a) + f(a);
    for i in 1..n {
        let x = -a + i as f64 * h;
        mass += if i % 2 == 1 { 4.0 } else { 2.0 } * f(x);
    }
    mass *= h / 3.0;
    std * (1.0 - 2.0 * a * phi / mass).sqrt()
}

#[test]
fn normal_noise_is_a_clipped_normal() {
    for (pct, std) in [(0.67, 1.0), (0.3, 0.2), (1.0, 2.0)] {
        let n = noise(NoiseType::Normal, pct, std, 42);
        let samples: Vec<f64> = (0..40_000).map(|t| n.at(t)).collect();
        assert!(samples.iter().all(|x| x.abs() < pct), "clipping at {pct}");
        let (mean, sd) = moments(&samples);
        let want = truncated_normal_sd(pct, std);
        assert!(mean.abs() < 0.01 * pct.max(std), "mean {mean}");
        assert!(
            (sd - want).abs() < 0.02 * want,
            "sd {sd}, truncated normal {want} (pct {pct}, std {std})"
        );
    }
}

#[test]
fn uniform_noise_is_uniform_in_the_band() {
    let pct = 0.5;
    let n = noise(NoiseType::Uniform, pct, 1.0, 7);
    let samples: Vec<f64> = (0..40_000).map(|t| n.at(t)).collect();
    assert!(samples.iter().all(|x| (-pct..pct).contains(x)));
    let (mean, sd) = moments(&samples);
    assert!(mean.abs() < 0.01, "mean {mean}");
    assert!((sd - pct / 3f64.sqrt()).abs() < 0.005, "sd {sd}");
    // Every tenth of the band gets about a tenth of the samples.
    for bin in 0..10 {
        let lo = -pct + bin as f64 * pct / 5.0;
        let count = samples.iter().filter(|x| (lo..lo + pct / 5.0).contains(*x)).count();
        assert!((3600..4400).contains(&count), "bin {bin}: {count}");
    }
}

fn timm(range: NoiseRange, seed: u64) -> TimmCosineLrSchedulerConfig {
    TimmCosineLrSchedulerConfig::new(50)
        .with_lr_min(1e-4)
        .with_noise(range, 0.67, 1.0, NoiseType::Normal, seed)
}

#[test]
fn noise_only_inside_the_range_and_multiplicative() {
    let clean = TimmCosineLrSchedulerConfig::new(50)
        .with_lr_min(1e-4)
        .init(0.1)
        .unwrap();
    let noisy = timm(NoiseRange::Between([10, 30]), 42).init(0.1).unwrap();
    let n = noise(NoiseType::Normal, 0.67, 1.0, 42);
    for t in 0..60 {
        let (c, x) = (clean.lr_at_update(t), noisy.lr_at_update(t));
        if (10..30).contains(&t) {
            assert_eq!(x, c + c * n.at(t), "t = {t}");
            assert_ne!(x, c);
        } else {
            assert_eq!(x, c, "t = {t}");
        }
        assert!(x > 0.0);
    }
    // As in timm, the value of t = 0 (set at construction) has no noise.
    let from_start = timm(NoiseRange::From(0), 42).init(0.1).unwrap();
    assert_eq!(from_start.lr_at_update(0), clean.lr_at_update(0));
    assert_ne!(from_start.lr_at_update(1), clean.lr_at_update(1));
}

#[test]
fn deterministic_for_a_seed_and_exact_across_resume() {
    let cfg = timm(NoiseRange::From(0), 5);
    let a: Vec<f64> = {
        let mut s = cfg.init(0.1).unwrap();
        (0..80).map(|_| s.step()).collect()
    };
    let b: Vec<f64> = {
        let mut s = cfg.init(0.1).unwrap();
        (0..80).map(|_| s.step()).collect()
    };
    assert_eq!(a, b);
    let other: Vec<f64> = {
        let mut s = timm(NoiseRange::From(0), 6).init(0.1).unwrap();
        (0..80).map(|_| s.step()).collect()
    };
    assert_ne!(a, other);
    for cut in [0, 1, 37, 79] {
        let mut first = cfg.init(0.1).unwrap();
        let mut got: Vec<f64> = (0..cut).map(|_| first.step()).collect();
        let bytes = first.to_record().into_bytes().unwrap();
        let mut resumed = cfg.init(0.1).unwrap();
        resumed.load_record(LrSchedulerRecord::from_bytes(bytes).unwrap());
        got.extend((cut..80).map(|_| resumed.step()));
        assert_eq!(got, a, "cut at {cut}");
    }
}

#[test]
fn noise_from_toml_with_timm_names() {
    let cfg: SchedulerConfig = toml::from_str(
        "type = \"timm_cosine\"\nt_initial = 20\nnoise_range_t = [5, 15]\nnoise_pct = 0.2\nnoise_std = 0.5\nnoise_type = \"uniform\"\nnoise_seed = 3",
    )
    .unwrap();
    let SchedulerConfig::TimmCosine(c) = &cfg else {
        panic!("{cfg:?}")
    };
    assert_eq!(c.noise_range_t, Some(NoiseRange::Between([5, 15])));
    assert_eq!(c.noise_type, NoiseType::Uniform);
    let from: SchedulerConfig = toml::from_str("type = \"timm_cosine\"\nt_initial = 20\nnoise_range_t = 5").unwrap();
    let SchedulerConfig::TimmCosine(c) = &from else {
        panic!()
    };
    assert_eq!(c.noise_range_t, Some(NoiseRange::From(5)));
    let bad =
        toml::from_str::<SchedulerConfig>("type = \"timm_cosine\"\nt_initial = 20\nnoise_range_t = 5\nnoise_pct = 1.5")
            .map(|c| {
                c.init(&RunInfo {
                    base_lr: 0.1,
                    updates_per_epoch: 1,
                    total_updates: 10,
                })
                .map(|_| ())
            });
    assert!(
        matches!(bad, Ok(Err(ScheduleError::InvalidParam { field: "noise_pct", .. }))),
        "{bad:?}"
    );
}
