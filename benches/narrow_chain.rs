//! A chain of six narrow operators over u64 records (map, filter, map, flat_map of two,
//! filter, map) then count: fused into one loop, against the unfused plan.
//!
//! `cargo bench --bench narrow_chain`

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use rill::prelude::*;
use std::hint::black_box;
use std::time::{Duration, Instant};

const RECORDS: u64 = 1_000_000;

/// The pipeline, fused or with the given planning option.
macro_rules! chain {
    ($ctx:ident, $batch:ident $(, $option:ident)?) => {
        stream! { $ctx $(, $option)?;
            queue_stream($batch)
                .map(|x| x.wrapping_mul(3))
                .filter(|x| x % 2 == 0)
                .map(|x| x + 7)
                .flat_map(|x| [*x, *x >> 1])
                .filter(|x| x % 3 != 0)
                .map(|x| x ^ 0x5555)
                .count()
                .for_each_batch(|_, n| { black_box(n); });
        }
    };
}

fn run(fused: bool, iters: u64) -> Duration {
    let mut total = Duration::ZERO;
    for _ in 0..iters {
        let ctx = StreamingContext::builder()
            .batch_interval(Duration::from_secs(1))
            .parallelism(2)
            .manual_clock()
            .build()
            .unwrap();
        let batch = vec![(0..RECORDS).collect::<Vec<u64>>()];
        if fused {
            chain!(ctx, batch);
        } else {
            chain!(ctx, batch, unfused);
        }
        ctx.start().unwrap();
        let start = Instant::now();
        ctx.advance(1).unwrap();
        total += start.elapsed();
    }
    total
}

fn narrow_chain(c: &mut Criterion) {
    let mut g = c.benchmark_group("six narrow operators + count, 1M u64");
    g.throughput(Throughput::Elements(RECORDS));
    g.sample_size(20);
    g.bench_function("rill fused", |b| b.iter_custom(|iters| run(true, iters)));
    g.bench_function("rill unfused", |b| b.iter_custom(|iters| run(false, iters)));
    g.finish();
}

criterion_group!(benches, narrow_chain);
criterion_main!(benches);
