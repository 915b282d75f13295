//! Per-batch cost of a keyed window: a 60-batch window against a 6-batch one, with the
//! inverse function (cost follows the batches entering and leaving the window) and
//! without it (cost follows the window's length).
//!
//! `cargo bench --bench windows`

use criterion::{BenchmarkId, Criterion, criterion_group, criterion_main};
use rill::prelude::*;
use std::hint::black_box;
use std::time::Instant;

/// Records per batch and distinct keys.
const RECORDS: u64 = 20_000;
const KEYS: u64 = 5_000;

/// A deterministic key for record `i` of batch `b` (a multiplicative hash).
fn key(b: u64, i: u64) -> u64 {
    (b.wrapping_mul(0x9E37_79B9_7F4A_7C15) ^ i.wrapping_mul(0xC2B2_AE3D_27D4_EB4F)).rotate_left(17)
        % KEYS
}

/// Time of `iters` batches after the window filled up (`window` batches, untimed).
fn run(window: u64, inverse: bool, iters: u64) -> std::time::Duration {
    let ctx = StreamingContext::builder()
        .batch_interval(Duration::from_secs(1))
        .parallelism(2)
        .manual_clock()
        .build()
        .unwrap();
    let batches: Vec<Vec<u64>> = (0..window + iters).map(|b| vec![b]).collect();
    let len = Duration::from_secs(window);
    let every = Duration::from_secs(1);
    if inverse {
        stream! { ctx;
            queue_stream(batches)
                .flat_map(|b| (0..RECORDS).map(move |i| (key(*b, i), 1u64)))
                .reduce_by_key_and_window_inv(|a, b| a + b, |a, b| a - b, len, every)
                .for_each_batch(|_, r| { black_box(r.len()); });
        };
    } else {
        stream! { ctx;
            queue_stream(batches)
                .flat_map(|b| (0..RECORDS).map(move |i| (key(*b, i), 1u64)))
                .reduce_by_key_and_window(|a, b| a + b, len, every)
                .for_each_batch(|_, r| { black_box(r.len()); });
        };
    }
    ctx.start().unwrap();
    ctx.advance(window as usize).unwrap();
    let start = Instant::now();
    ctx.advance(iters as usize).unwrap();
    start.elapsed()
}

fn windows(c: &mut Criterion) {
    let mut g = c.benchmark_group("keyed window, per batch");
    g.sample_size(20);
    for inverse in [true, false] {
        let name = if inverse {
            "with inverse"
        } else {
            "without inverse"
        };
        for window in [6u64, 60] {
            g.bench_with_input(
                BenchmarkId::new(name, format!("{window}-batch window")),
                &window,
                |b, &w| b.iter_custom(|iters| run(w, inverse, iters)),
            );
        }
    }
    g.finish();
}

criterion_group!(benches, windows);
criterion_main!(benches);
