//! Per-batch cost of event-time windows: 20,000 `(key, event ms)` records per batch over
//! 5,000 keys, event time advancing 1 s per batch with up to 2 s of disorder, a
//! watermark 3 s behind; keyed tumbling 10 s windows, keyed sliding 60 s windows every
//! 10 s (each record in 6), sessions with a 5 s gap, a global count, and DStream's
//! `reduce_by_key_and_window` over 10 batches beside them.
//!
//! `cargo bench --bench event_time`

use criterion::{BenchmarkId, Criterion, criterion_group, criterion_main};
use rill::prelude::*;
use std::hint::black_box;
use std::time::Instant;

/// Records per batch and distinct keys.
const RECORDS: u64 = 20_000;
const KEYS: u64 = 5_000;

/// A deterministic hash of record `i` of batch `b`.
fn hash(b: u64, i: u64) -> u64 {
    (b.wrapping_mul(0x9E37_79B9_7F4A_7C15) ^ i.wrapping_mul(0xC2B2_AE3D_27D4_EB4F)).rotate_left(17)
}

/// Record `i` of batch `b`: its key and its event time (batch `b` is about second `b`).
fn record(b: u64, i: u64) -> (u64, u64) {
    let h = hash(b, i);
    (h % KEYS, 10_000 + b * 1000 + (h >> 20) % 2000)
}

/// Time of `iters` batches after 30 untimed ones (the windows and sessions filled up).
fn run(which: &str, iters: u64) -> std::time::Duration {
    let ctx = StreamingContext::builder()
        .batch_interval(Duration::from_secs(1))
        .parallelism(2)
        .manual_clock()
        .build()
        .unwrap();
    let batches: Vec<Vec<u64>> = (0..30 + iters).map(|b| vec![b]).collect();
    let s = Duration::from_secs;
    match which {
        "keyed tumbling 10 s" => stream! { ctx;
            queue_stream(batches)
                .flat_map(|b| (0..RECORDS).map(move |i| record(*b, i)))
                .with_watermark(|(_, t)| *t, s(3))
                .count_by_key_and_event_window(s(10), s(10))
                .for_each_batch(|_, r| { black_box(r.len()); });
        },
        "keyed sliding 60 s / 10 s" => stream! { ctx;
            queue_stream(batches)
                .flat_map(|b| (0..RECORDS).map(move |i| record(*b, i)))
                .with_watermark(|(_, t)| *t, s(3))
                .count_by_key_and_event_window(s(60), s(10))
                .for_each_batch(|_, r| { black_box(r.len()); });
        },
        "keyed sessions, 5 s gap" => stream! { ctx;
            queue_stream(batches)
                .flat_map(|b| (0..RECORDS).map(move |i| record(*b, i)))
                .with_watermark(|(_, t)| *t, s(3))
                .count_by_key_and_session_window(s(5))
                .for_each_batch(|_, r| { black_box(r.len()); });
        },
        "global tumbling 10 s" => stream! { ctx;
            queue_stream(batches)
                .flat_map(|b| (0..RECORDS).map(move |i| record(*b, i)))
                .with_watermark(|(_, t)| *t, s(3))
                .count_by_event_window(s(10), s(10))
                .for_each_batch(|_, r| { black_box(r.len()); });
        },
        _ => stream! { ctx;
            queue_stream(batches)
                .flat_map(|b| (0..RECORDS).map(move |i| (record(*b, i).0, 1u64)))
                .reduce_by_key_and_window(|a, b| a + b, s(10), s(1))
                .for_each_batch(|_, r| { black_box(r.len()); });
        },
    }
    ctx.start().unwrap();
    ctx.advance(30).unwrap();
    let start = Instant::now();
    ctx.advance(iters as usize).unwrap();
    start.elapsed()
}

fn event_time(c: &mut Criterion) {
    let mut g = c.benchmark_group("event time, per batch of 20,000 records");
    g.sample_size(20);
    for which in [
        "keyed tumbling 10 s",
        "keyed sliding 60 s / 10 s",
        "keyed sessions, 5 s gap",
        "global tumbling 10 s",
        "reduce_by_key_and_window, 10 batches",
    ] {
        g.bench_with_input(BenchmarkId::from_parameter(which), &which, |b, w| {
            b.iter_custom(|iters| run(w, iters))
        });
    }
    g.finish();
}

criterion_group!(benches, event_time);
criterion_main!(benches);
