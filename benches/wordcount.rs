//! Word count per batch of 100,000 lines of the Zipf corpus: the fused plan, the unfused
//! plan, and a hand-written reference (two threads counting into hash maps of words
//! borrowed from the input, merged by hash partition); and the fused plan with the
//! streaming UI on and scraped, for its overhead.
//!
//! `cargo bench --bench wordcount`

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use rill::corpus::{Corpus, WORDS_PER_LINE};
use rill::prelude::*;
use std::collections::HashMap;
use std::hash::BuildHasher;
use std::hint::black_box;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

const LINES: usize = 100_000;

type Counts<'a> = HashMap<&'a str, u64, rustc_hash::FxBuildHasher>;

/// Counts the words of `part` into two maps of borrowed words, split by hash.
fn count_half(part: &[String]) -> [Counts<'_>; 2] {
    let hasher = rustc_hash::FxBuildHasher;
    let mut maps: [Counts<'_>; 2] = [Counts::default(), Counts::default()];
    for line in part {
        for w in line.split(' ') {
            let p = (hasher.hash_one(w) >> 63) as usize;
            *maps[p].entry(w).or_insert(0) += 1;
        }
    }
    maps
}

/// Merges two counts of one hash partition; returns its number of distinct words.
fn merge<'a>(mut x: Counts<'a>, y: Counts<'a>) -> usize {
    for (w, n) in y {
        *x.entry(w).or_insert(0) += n;
    }
    x.len()
}

/// The reference: each of two threads counts half of the lines into maps of borrowed
/// words split by hash into two partitions; then each thread merges one partition.
fn hand_written(lines: &[String]) -> usize {
    let (a, b) = lines.split_at(lines.len() / 2);
    let ([a0, a1], [b0, b1]) = std::thread::scope(|s| {
        let ha = s.spawn(|| count_half(a));
        let mb = count_half(b);
        (ha.join().unwrap(), mb)
    });
    std::thread::scope(|s| {
        let h = s.spawn(|| merge(a0, b0));
        let n1 = merge(a1, b1);
        h.join().unwrap() + n1
    })
}

fn context(ui: bool) -> StreamingContext {
    let b = StreamingContext::builder()
        .batch_interval(Duration::from_secs(1))
        .parallelism(2)
        .manual_clock();
    let b = if ui { b.ui("127.0.0.1:0") } else { b };
    b.build().unwrap()
}

/// Scrapes the UI at `addr` as a busy dashboard would, until `stop`: the JSON the page
/// polls and the Prometheus metrics, every 100 ms (ten times the page's rate).
fn scrape(addr: std::net::SocketAddr, stop: &AtomicBool) {
    use std::io::{Read, Write};
    while !stop.load(Ordering::Relaxed) {
        for path in [
            "/api/v1/status",
            "/api/v1/batches",
            "/api/v1/receivers",
            "/metrics",
        ] {
            if let Ok(mut s) = std::net::TcpStream::connect(addr) {
                let _ = write!(s, "GET {path} HTTP/1.1\r\nHost: x\r\n\r\n");
                let _ = s.read_to_end(&mut Vec::new());
            }
        }
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// The word count, fused or with the given planning option.
macro_rules! word_count {
    ($ctx:ident, $batch:ident $(, $option:ident)?) => {
        stream! { $ctx $(, $option)?;
            queue_stream($batch)
                .flat_map(|l| l.split(' '))
                .map(|w| (w, 1u64))
                .reduce_by_key(|a, b| a + b)
                .for_each_batch(|_, counts| { black_box(counts.len()); });
        }
    };
}

/// Time of `iters` batches of `lines` through the fused (or unfused) word count; each
/// is the second batch of a fresh context, so the first one sized its hash tables.
/// With `ui`, the context serves the streaming UI and a thread scrapes it meanwhile.
fn rill_word_count(lines: &[String], fused: bool, ui: bool, iters: u64) -> Duration {
    let mut total = Duration::ZERO;
    for _ in 0..iters {
        let ctx = context(ui);
        let batch = vec![lines.to_vec(), lines.to_vec()];
        if fused {
            word_count!(ctx, batch);
        } else {
            word_count!(ctx, batch, unfused);
        }
        ctx.start().unwrap();
        ctx.advance(1).unwrap();
        let stop = &AtomicBool::new(false);
        std::thread::scope(|s| {
            if let Some(addr) = ctx.ui_addr() {
                s.spawn(move || scrape(addr, stop));
            }
            let start = Instant::now();
            ctx.advance(1).unwrap();
            total += start.elapsed();
            stop.store(true, Ordering::Relaxed);
        });
    }
    total
}

fn word_count(c: &mut Criterion) {
    let lines = Corpus::new(100_000, 1.1, 42).lines(LINES);
    let mut g = c.benchmark_group("word count, 100k lines");
    g.throughput(Throughput::Elements((LINES * WORDS_PER_LINE) as u64));
    g.sample_size(20);
    g.bench_function("hand-written reference", |b| {
        b.iter(|| black_box(hand_written(&lines)))
    });
    g.bench_function("rill fused", |b| {
        b.iter_custom(|iters| rill_word_count(&lines, true, false, iters))
    });
    g.bench_function("rill fused, UI on and scraped", |b| {
        b.iter_custom(|iters| rill_word_count(&lines, true, true, iters))
    });
    g.bench_function("rill unfused", |b| {
        b.iter_custom(|iters| rill_word_count(&lines, false, false, iters))
    });
    g.finish();
}

criterion_group!(benches, word_count);
criterion_main!(benches);
