//! A backlog in Redis is consumed at `max_rate_per_partition` in bounded batches: each
//! batch takes at most rate × interval entries per stream, so the memory a batch holds
//! is bounded by that, not by the backlog. Live heap bytes are tracked by a counting
//! global allocator (one test function, so nothing else allocates meanwhile). Skips
//! without a Redis server (`RILL_TEST_REDIS_URL`).

mod support;

use rill::prelude::*;
use rill::source::{RedisOptions, StartAt};
use support::servers::redis_url;

#[path = "support/peak_heap.rs"]
mod peak_heap;

#[global_allocator]
static GLOBAL: peak_heap::Tracking<std::alloc::System> = peak_heap::Tracking(std::alloc::System);

const STREAMS: usize = 2;
const BACKLOG: usize = 50_000; // entries per stream
const VALUE: usize = 100; // bytes per value
const RATE: u64 = 2_500; // entries per second per stream; batches of 1 s

/// Reads the backlog of `keys` with a fresh group, capped at `rate` (0: unlimited);
/// returns the entries of every batch and the peak live heap above the start, in bytes.
fn consume(url: &str, keys: &[String], group: &str, rate: u64) -> (Vec<u64>, usize) {
    let ctx = StreamingContext::builder()
        .batch_interval(Duration::from_secs(1))
        .parallelism(2)
        .manual_clock()
        .build()
        .unwrap();
    let options = RedisOptions::default()
        .group(group)
        .start_at(StartAt::Earliest)
        .max_rate_per_partition(rate);
    let (u, k) = (url.to_string(), keys.to_vec());
    let counts = stream! { ctx;
        redis_stream(u, k, options).count().collect()
    };
    ctx.start().unwrap();
    let base = peak_heap::start();
    let mut batches = Vec::new();
    while batches.iter().sum::<u64>() < (STREAMS * BACKLOG) as u64 {
        ctx.advance(1).unwrap();
        batches.extend(counts.take().concat());
        assert!(batches.len() < 1000, "the backlog is not drained");
    }
    let peak = peak_heap::peak_since(base);
    ctx.stop().unwrap();
    (batches, peak)
}

#[test]
fn a_backlog_is_consumed_at_the_rate_in_bounded_batches() {
    let Some(url) = redis_url() else { return };
    let mut c = redis::Client::open(url.as_str())
        .unwrap()
        .get_connection()
        .unwrap();
    let keys: Vec<String> = (0..STREAMS)
        .map(|i| format!("rill-test-{}-backlog-{i}", std::process::id()))
        .collect();
    let value = vec![b'v'; VALUE];
    for k in &keys {
        let _: () = redis::cmd("DEL").arg(k).query(&mut c).unwrap();
        for _ in 0..BACKLOG / 1000 {
            let mut pipe = redis::pipe();
            for _ in 0..1000 {
                pipe.cmd("XADD").arg(k).arg("*").arg("value").arg(&value);
            }
            let _: Vec<String> = pipe.query(&mut c).unwrap();
        }
    }

    let started = std::time::Instant::now();
    let (batches, capped_peak) = consume(&url, &keys, "capped", RATE);
    let capped_time = started.elapsed();
    // Every batch takes rate × 1 s from each stream until the backlog is drained.
    let per_batch = STREAMS as u64 * RATE;
    assert_eq!(batches.len(), (STREAMS * BACKLOG) / per_batch as usize);
    assert!(batches.iter().all(|n| *n == per_batch), "{batches:?}");

    let started = std::time::Instant::now();
    let (all_at_once, unlimited_peak) = consume(&url, &keys, "unlimited", 0);
    let unlimited_time = started.elapsed();
    assert_eq!(all_at_once, [(STREAMS * BACKLOG) as u64]);

    eprintln!(
        "backlog {} entries of {VALUE} B: capped at {RATE}/s per stream: {} batches, peak heap {:.1} MiB, {:.2?}; \
         unlimited: 1 batch, peak heap {:.1} MiB, {:.2?}",
        STREAMS * BACKLOG,
        batches.len(),
        capped_peak as f64 / (1 << 20) as f64,
        capped_time,
        unlimited_peak as f64 / (1 << 20) as f64,
        unlimited_time,
    );
    // The bound: a batch holds at most STREAMS × RATE entries (5,000 of about 250 B as
    // messages, 1.2 MiB) plus the replies of one XRANGE of 2,500 entries per
    // stream; 8 MiB leaves room for the runtime's own. The
    // unlimited read holds the whole backlog at once.
    assert!(
        capped_peak < 8 << 20,
        "capped batches peaked at {capped_peak} B"
    );
    assert!(
        unlimited_peak > 4 * capped_peak,
        "the cap bounds memory: {capped_peak} B capped, {unlimited_peak} B unlimited"
    );
    for k in &keys {
        let _: () = redis::cmd("DEL").arg(k).query(&mut c).unwrap();
    }
}
