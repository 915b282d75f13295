//! One refit of 10,000 keys' ARIMA(1,1,1) models on 200 points each, through
//! `forecast_arima` at parallelism 2: the models of the previous slide are the start.
//!
//! `cargo bench --bench arima`

use criterion::{Criterion, criterion_group, criterion_main};
use rill::forecast::{ArimaSpec, Order};
use rill::prelude::*;
use std::hint::black_box;
use std::time::Instant;

const KEYS: u32 = 10_000;
const POINTS: usize = 200;

/// 200 points of an ARIMA(1,1,1) per key, as one batch; then one more point per key.
fn data() -> Vec<Vec<(u32, f64)>> {
    let mut s = 0x9E37_79B9_7F4A_7C15u64;
    let mut noise = move || {
        s ^= s << 13;
        s ^= s >> 7;
        s ^= s << 17;
        ((s >> 11) as f64 / (1u64 << 53) as f64 - 0.5) * 3.46
    };
    let mut first = Vec::with_capacity(KEYS as usize * POINTS);
    let mut second = Vec::with_capacity(KEYS as usize);
    for k in 0..KEYS {
        let (mut y, mut d, mut e) = (100.0, 0.0, 0.0);
        for t in 0..=POINTS {
            let eps = noise();
            d = 0.5 * d + eps + 0.3 * e;
            e = eps;
            y += d;
            if t < POINTS {
                first.push((k, y));
            } else {
                second.push((k, y));
            }
        }
    }
    vec![first, second]
}

fn refit(c: &mut Criterion) {
    let input = data();
    let mut g = c.benchmark_group("ARIMA(1,1,1), 10,000 keys x 200 points");
    g.sample_size(10);
    g.bench_function("one refit of all keys", |b| {
        b.iter_custom(|iters| {
            let mut total = std::time::Duration::ZERO;
            for _ in 0..iters {
                let ctx = StreamingContext::builder()
                    .batch_interval(Duration::from_secs(1))
                    .parallelism(2)
                    .manual_clock()
                    .build()
                    .unwrap();
                let spec = ArimaSpec::new(Order::arima(1, 1, 1))
                    .history(POINTS)
                    .horizon(10);
                let batches = input.clone();
                stream! { ctx;
                    queue_stream(batches)
                        .forecast_arima(spec, Duration::from_secs(1))
                        .for_each_batch(|_, f| { black_box(f.len()); });
                };
                ctx.start().unwrap();
                ctx.advance(1).unwrap(); // the first fits, from scratch
                let start = Instant::now();
                ctx.advance(1).unwrap(); // the refit
                total += start.elapsed();
            }
            total
        })
    });
    g.finish();
}

criterion_group!(benches, refit);
criterion_main!(benches);
