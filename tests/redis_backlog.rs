//! A backlog of 10 million Redis entries (two streams of 5 million) consumed at
//! `max_rate_per_partition` in bounded memory: every batch takes exactly rate × interval
//! entries from each stream, and the heap the job holds at once stays under a bound set
//! by one batch, whatever the backlog. Release builds only (in a debug build it would
//! take many minutes):
//!
//! ```text
//! cargo test --release --features redis --test redis_backlog
//! ```
//!
//! Live heap bytes are tracked by a counting global allocator (one test function, so
//! nothing else allocates meanwhile); the peak resident set (`VmHWM`, reset before the
//! job starts) is printed beside it. Skips without a Redis server (`RILL_TEST_REDIS_URL`);
//! `RILL_BACKLOG_ENTRIES` sets another total (split over the two streams).

mod support;

use rill::prelude::*;
use rill::source::{RedisOptions, StartAt};
use std::time::Instant;
use support::servers::redis_url;

#[path = "support/peak_heap.rs"]
mod peak_heap;

#[global_allocator]
static GLOBAL: peak_heap::Tracking<std::alloc::System> = peak_heap::Tracking(std::alloc::System);

const STREAMS: usize = 2;
/// Entries in all streams together, unless `RILL_BACKLOG_ENTRIES` says.
const ENTRIES: usize = 10_000_000;
/// Bytes of every entry's value: its number, zero-padded.
const VALUE: usize = 16;
/// Entries per second per stream; batches of 1 s.
const RATE: u64 = 100_000;
/// Appends per pipeline round trip while feeding.
const PIPELINE: usize = 10_000;

/// Peak resident set size of this process, in bytes (`VmHWM`).
fn peak_rss() -> Option<usize> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kb: usize = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kb * 1024)
}

/// Resets `VmHWM` to the current resident set (Linux: `clear_refs`, value 5).
fn reset_peak_rss() {
    let _ = std::fs::write("/proc/self/clear_refs", "5");
}

fn mib(bytes: usize) -> f64 {
    bytes as f64 / (1 << 20) as f64
}

/// Appends `n` entries, values `0..n` as zero-padded text, to `key`, pipelined.
fn feed(url: &str, key: &str, n: usize) {
    let mut c = redis::Client::open(url).unwrap().get_connection().unwrap();
    let mut i = 0;
    while i < n {
        let mut pipe = redis::pipe();
        for v in i..(i + PIPELINE).min(n) {
            pipe.cmd("XADD")
                .arg(key)
                .arg("*")
                .arg("value")
                .arg(format!("{v:0VALUE$}"))
                .ignore();
        }
        let () = pipe.query(&mut c).unwrap();
        i += PIPELINE;
    }
}

#[test]
#[cfg_attr(
    debug_assertions,
    ignore = "release builds only: cargo test --release --features redis --test redis_backlog"
)]
fn a_ten_million_entry_backlog_is_consumed_at_the_rate_in_bounded_memory() {
    let Some(url) = redis_url() else { return };
    let total: usize = std::env::var("RILL_BACKLOG_ENTRIES")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(ENTRIES);
    let per_stream = total / STREAMS;
    let mut c = redis::Client::open(url.as_str())
        .unwrap()
        .get_connection()
        .unwrap();
    let keys: Vec<String> = (0..STREAMS)
        .map(|i| format!("rill-test-{}-backlog10m-{i}", std::process::id()))
        .collect();
    for k in &keys {
        let _: () = redis::cmd("DEL").arg(k).query(&mut c).unwrap();
    }
    let started = Instant::now();
    std::thread::scope(|s| {
        for k in &keys {
            let url = &url;
            s.spawn(move || feed(url, k, per_stream));
        }
    });
    let feed_time = started.elapsed();
    let memory: String = redis::cmd("MEMORY")
        .arg("USAGE")
        .arg(&keys[0])
        .query::<Option<u64>>(&mut c)
        .ok()
        .flatten()
        .map_or(String::new(), |b| {
            format!(", {:.0} MiB in Redis per stream", mib(b as usize))
        });

    let ctx = StreamingContext::builder()
        .batch_interval(Duration::from_secs(1))
        .parallelism(2)
        .manual_clock()
        .build()
        .unwrap();
    let options = RedisOptions::default()
        .group("backlog")
        .start_at(StartAt::Earliest)
        .max_rate_per_partition(RATE);
    let (u, k) = (url.clone(), keys.clone());
    // Per batch: the entries, and the sum of their values (every entry once: the sum of
    // 0..n per stream at the end).
    let counts = stream! { ctx;
        let entries = redis_stream(u, k, options);
        entries
            .map(|m| (std::str::from_utf8(&m.value).unwrap().parse::<u64>().unwrap(), 1u64))
            .reduce(|a, b| (a.0 + b.0, a.1 + b.1))
            .collect()
    };
    ctx.start().unwrap();
    reset_peak_rss();
    let rss_base = peak_rss();
    let base = peak_heap::start();
    let started = Instant::now();
    let (mut batches, mut sum, mut read) = (Vec::new(), 0u64, 0u64);
    while read < total as u64 {
        ctx.advance(1).unwrap();
        for (s, n) in counts.take().concat() {
            sum += s;
            read += n;
            batches.push(n);
        }
        assert!(
            batches.len() <= total / (STREAMS * RATE as usize) + 1,
            "the backlog is not drained: {read} of {total} read"
        );
    }
    let consume_time = started.elapsed();
    let peak = peak_heap::peak_since(base);
    let rss = peak_rss().zip(rss_base);
    ctx.stop().unwrap();
    for k in &keys {
        let _: () = redis::cmd("UNLINK").arg(k).query(&mut c).unwrap();
    }

    let n = per_stream as u64;
    assert_eq!(read, (STREAMS * per_stream) as u64);
    assert_eq!(sum, STREAMS as u64 * (n * (n - 1) / 2), "every entry once");
    let per_batch = STREAMS as u64 * RATE;
    assert!(
        batches[..batches.len() - 1].iter().all(|b| *b == per_batch),
        "every batch but the last takes rate × interval from each stream: {batches:?}"
    );
    eprintln!(
        "backlog of {total} entries ({STREAMS} streams, {VALUE}-byte values{memory}): fed in {feed_time:.1?} \
         ({:.0}k entries/s); consumed at {RATE}/s per stream in {} batches of {per_batch} in {consume_time:.1?} \
         ({:.0}k entries/s); peak heap {:.1} MiB above the start; peak RSS {}",
        total as f64 / feed_time.as_secs_f64() / 1e3,
        batches.len(),
        total as f64 / consume_time.as_secs_f64() / 1e3,
        mib(peak),
        rss.map_or("unknown".into(), |(p, b)| format!(
            "{:.1} MiB ({:.1} MiB when the job started)",
            mib(p),
            mib(b)
        )),
    );
    // The bound: one batch, STREAMS × RATE = 200,000 messages of about 200 B each
    // (the message, its value, partition and offset strings) plus one XRANGE reply of
    // 10,000 entries per stream being parsed: about 45 MiB. The whole backlog held at
    // once would be 50 times that.
    const BOUND: usize = 64 << 20;
    assert!(
        peak < BOUND,
        "peak heap {:.1} MiB over the bound {:.0} MiB",
        mib(peak),
        mib(BOUND)
    );
}
