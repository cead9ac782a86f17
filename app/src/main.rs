//! `burn-lr`: train a CIFAR-10 ResNet with an exact LR schedule, preview a schedule, redraw a
//! run's plots, run the LR range test, or compare schedules (`burn-lr --help`).

/// mimalloc: quick-cpu trains ~1.4x faster than with glibc's `malloc` (same numbers; the app's
/// docs/measured.md, "Speed"), where tensors are allocated on one thread and dropped on another (Burn's
/// data loader and metric threads), and ~6% faster again keeping freed memory
/// ([`burn_lr_cifar::allocator`]).
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() {
    burn_lr_cifar::allocator::keep_freed_memory();
    burn_lr_cifar::conv::passive_openmp_threads();
    std::process::exit(burn_lr_cifar::cli::main());
}
