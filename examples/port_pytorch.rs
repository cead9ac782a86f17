//! The PyTorch scheduler snippets users know, ported to burn-lr. Run:
//! `cargo run --example port_pytorch`.
//!
//! Each schedule below is a Burn `LrScheduler`: pass it to `Learner::new(model, optim, scheduler)`.
//! Outside a `Learner`, one `step()` is one PyTorch `scheduler.step()` and returns the LR the
//! optimizer uses for that update.

use burn::lr_scheduler::{LrScheduler, LrSchedulerRecord};
use burn::optim::LearningRate;
use burn_lr::burn; // the Burn burn-lr is built on (0.22, or 0.23 with its feature burn-0-23)
use burn_lr::schedule::*;

fn show(name: &str, scheduler: &mut impl LrScheduler, n: usize) {
    let lrs: Vec<String> = (0..n).map(|_| format!("{:.5}", scheduler.step())).collect();
    println!("{name:<28} {}", lrs.join(" "));
}

/// A schedule of your own: implement Burn's trait directly (here: inverse square root decay
/// after a linear warmup, the "Noam" schedule of "Attention Is All You Need").
#[derive(Clone)]
struct InverseSqrt {
    base_lr: LearningRate,
    warmup: u64,
    step: u64,
}

impl LrScheduler for InverseSqrt {
    fn step(&mut self) -> LearningRate {
        self.step += 1;
        let s = self.step as f64;
        let w = self.warmup as f64;
        self.base_lr * (s / w).min((w / s).sqrt())
    }

    fn to_record(&self) -> LrSchedulerRecord {
        LrSchedulerRecord::new().with_scalar("step", self.step)
    }

    fn load_record(&mut self, record: LrSchedulerRecord) {
        self.step = record.scalar("step").expect("an InverseSqrt record has a step");
    }
}

fn main() -> Result<(), ScheduleError> {
    // scheduler = StepLR(optimizer, step_size=2, gamma=0.5)
    let mut step = StepLrSchedulerConfig::new(2).with_gamma(0.5).init(0.1)?;
    show("StepLR(2, 0.5)", &mut step, 6);

    // scheduler = OneCycleLR(optimizer, max_lr=0.1, total_steps=8)
    let mut one_cycle = OneCycleLrSchedulerConfig::new(0.1)
        .with_total_steps(8)
        .with_pct_start(0.25)
        .init()?;
    show("OneCycleLR(0.1, 8)", &mut one_cycle, 8);
    println!("{:<28} {:?}", "  its last momentum", one_cycle.momentum());

    // scheduler = ReduceLROnPlateau(optimizer, patience=1); scheduler.step(val_loss)
    let mut plateau = ReduceLrOnPlateauSchedulerConfig {
        patience: 1,
        ..Default::default()
    }
    .init(0.1)?;
    let lrs: Vec<String> = [1.0, 0.9, 0.95, 0.93, 0.92]
        .iter()
        .map(|m| format!("{:.5}", plateau.report(*m)))
        .collect();
    println!("{:<28} {}", "ReduceLROnPlateau(p=1)", lrs.join(" "));

    // Warmup + cosine with LambdaLR: lambda t: t/5 if t < 5 else 0.5*(1+cos(pi*(t-5)/15))
    let mut lambda = LambdaLr::new(0.1, "warmup5-cosine15", |t| {
        if t < 5 {
            (t + 1) as f64 / 5.0
        } else {
            0.5 * (1.0 + (std::f64::consts::PI * (t - 5) as f64 / 15.0).cos())
        }
    })?
    .init();
    show("LambdaLR warmup+cosine", &mut lambda, 8);

    // The same by composition: SequentialLR([LinearLR(0.2, 1.0, 4), CosineAnnealingLR(15)], [4])
    let sequential: SchedulerConfig = toml::from_str(
        r#"
        type = "sequential"
        milestones = [4]
        [[schedulers]]
        type = "linear"
        start_factor = 0.2
        total_iters = 4
        [[schedulers]]
        type = "cosine_annealing"
        t_max = 15
        "#,
    )
    .expect("valid TOML");
    let run = RunInfo {
        base_lr: 0.1,
        updates_per_epoch: 1,
        total_updates: 20,
    };
    show("SequentialLR linear+cosine", &mut sequential.init(&run)?, 8);

    // ... or a warmup table in front of any schedule.
    let warm: SchedulerConfig =
        toml::from_str("type = \"cosine_annealing\"\nt_max = 15\n[warmup]\nsteps = 4\nstart_factor = 0.2")
            .expect("valid TOML");
    show("cosine + [warmup]", &mut warm.init(&run)?, 8);

    let mut own = InverseSqrt {
        base_lr: 0.1,
        warmup: 4,
        step: 0,
    };
    show("your own LrScheduler", &mut own, 8);
    Ok(())
}
