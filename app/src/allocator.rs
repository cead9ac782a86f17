//! The binary's heap: mimalloc (`#[global_allocator]` in `main.rs`), keeping what a run frees.
//!
//! mimalloc returns freed memory to the OS 1 s after it is free (`purge_delay`, 1000 ms in
//! mimalloc v3, which the `mimalloc` crate builds; 10 ms in v2); Burn frees and
//! reallocates the same tensor sizes at every step, so the kernel zeroes the same pages again
//! and again (the profile in docs/measured.md: ~8% of the samples in the kernel zeroing fresh pages).
//! [`keep_freed_memory`] turns the purge off. Measured on 2 cores, the same binary back to back
//! (quick-cpu for 1 epoch of 6,000 images; `burn-lr train --config configs/quick-cpu.toml
//! --data-dir ../shared/data/cifar10 --train-limit 6000 --test-limit 1000 --epochs 1`, with and
//! without `MIMALLOC_PURGE_DELAY=-1`, twice): 67.8 / 66.0 s with the purge, 63.4 / 62.2 s without
//! (-6%), peak RSS 480 against 497-507 MiB, `metrics.csv` losses and `lr.csv` identical.

use std::ffi::{c_int, c_long};

// The mimalloc the `mimalloc` crate links (its `libmimalloc-sys`: mimalloc v3, or v2 with its
// `v2` feature; the option has the same index in both).
extern crate mimalloc;

extern "C" {
    fn mi_option_set(option: c_int, value: c_long);
    #[cfg(test)]
    fn mi_option_get(option: c_int) -> c_long;
}

/// `mi_option_purge_delay` in mimalloc v3's and v2's `mimalloc.h` (the tests check it is).
const MI_OPTION_PURGE_DELAY: c_int = 15;

/// Keeps freed memory in mimalloc's heap instead of returning it to the OS (mimalloc's
/// `MIMALLOC_PURGE_DELAY=-1`), unless the environment sets `MIMALLOC_PURGE_DELAY` itself. Call
/// it first thing in `main`; it only matters where mimalloc is the global allocator.
pub fn keep_freed_memory() {
    if std::env::var_os("MIMALLOC_PURGE_DELAY").is_none() {
        // SAFETY: sets one of mimalloc's integer options; called before other threads start.
        unsafe { mi_option_set(MI_OPTION_PURGE_DELAY, -1) }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_option_is_mimallocs_purge_delay() {
        // The documented default purge delay: 1000 ms in mimalloc v3, 10 ms in v2.
        if std::env::var_os("MIMALLOC_PURGE_DELAY").is_some() {
            return;
        }
        let default = unsafe { mi_option_get(MI_OPTION_PURGE_DELAY) };
        assert!(default == 1000 || default == 10, "{default}");
        keep_freed_memory();
        assert_eq!(unsafe { mi_option_get(MI_OPTION_PURGE_DELAY) }, -1);
    }
}
