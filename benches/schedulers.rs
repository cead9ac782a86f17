//! Cost of one `step()` for every schedule at step 0, 10^6 and 10^9.
//! Run: `cargo bench --bench schedulers` (goal: under 50 ns, flat in the step count).

use burn::lr_scheduler::{LrScheduler, LrSchedulerRecord};
use burn_lr::burn; // the Burn burn-lr is built on (0.22, or 0.23 with its feature burn-0-23)
use burn_lr::schedule::{RunInfo, Scheduler, SchedulerConfig};
use criterion::{black_box, criterion_group, criterion_main, BenchmarkId, Criterion};

const CONFIGS: [(&str, &str); 13] = [
    ("fixed", "type = \"fixed\""),
    ("step", "type = \"step\"\nstep_size = 30"),
    ("multi_step", "type = \"multi_step\"\nmilestones = [30, 60, 90, 120]"),
    ("exponential", "type = \"exponential\"\ngamma = 0.95"),
    ("linear", "type = \"linear\"\nstart_factor = 0.1\ntotal_iters = 10"),
    ("constant", "type = \"constant\"\nfactor = 0.5\ntotal_iters = 10"),
    ("polynomial", "type = \"polynomial\"\ntotal_iters = 100\npower = 2.0"),
    ("cosine_annealing", "type = \"cosine_annealing\"\nt_max = 100"),
    ("cosine_warm_restarts", "type = \"cosine_warm_restarts\"\nt_0 = 10\nt_mult = 2"),
    ("one_cycle", "type = \"one_cycle\"\nmax_lr = 0.1"),
    ("cyclic", "type = \"cyclic\"\nbase_lr = 0.001\nmax_lr = 0.1\nmode = \"exp_range\"\ngamma = 0.99999"),
    ("reduce_on_plateau", "type = \"reduce_on_plateau\""),
    (
        "sequential_warmup_cosine",
        "type = \"sequential\"\nmilestones = [5]\n[[schedulers]]\ntype = \"linear\"\ntotal_iters = 5\n[[schedulers]]\ntype = \"cosine_annealing\"\nt_max = 100",
    ),
];

/// A scheduler positioned at optimizer update `k` (through its record, as a resume would).
fn at_step(text: &str, k: u64) -> Scheduler {
    let cfg: SchedulerConfig = toml::from_str(text).expect("valid bench config");
    let run = RunInfo {
        base_lr: 0.1,
        updates_per_epoch: 391,
        total_updates: 2_000_000_000,
    };
    let mut s = cfg.init(&run).expect("valid bench schedule");
    let record: LrSchedulerRecord = s.to_record().with_scalar("step", k);
    s.load_record(record);
    s
}

fn bench(c: &mut Criterion) {
    let mut group = c.benchmark_group("step");
    for (name, text) in CONFIGS {
        for k in [0u64, 1_000_000, 1_000_000_000] {
            group.bench_with_input(BenchmarkId::new(name, k), &k, |b, &k| {
                let base = at_step(text, k);
                b.iter_batched_ref(
                    || base.clone(),
                    |s| black_box(s.step()),
                    criterion::BatchSize::SmallInput,
                )
            });
        }
    }
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
