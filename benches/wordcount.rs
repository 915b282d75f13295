//! Word count per batch of 100,000 lines of the Zipf corpus: the fused plan, the unfused
//! plan, and a hand-written reference (two threads counting into hash maps of words
//! borrowed from the input, merged by hash partition).
//!
//! `cargo bench --bench wordcount`

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use rill::corpus::{Corpus, WORDS_PER_LINE};
use rill::prelude::*;
use std::collections::HashMap;
use std::hash::BuildHasher;
use std::hint::black_box;
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

fn context() -> StreamingContext {
    StreamingContext::builder()
        .batch_interval(Duration::from_secs(1))
        .parallelism(2)
        .manual_clock()
        .build()
        .unwrap()
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
fn rill_word_count(lines: &[String], fused: bool, iters: u64) -> Duration {
    let mut total = Duration::ZERO;
    for _ in 0..iters {
        let ctx = context();
        let batch = vec![lines.to_vec(), lines.to_vec()];
        if fused {
            word_count!(ctx, batch);
        } else {
            word_count!(ctx, batch, unfused);
        }
        ctx.start().unwrap();
        ctx.advance(1).unwrap();
        let start = Instant::now();
        ctx.advance(1).unwrap();
        total += start.elapsed();
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
        b.iter_custom(|iters| rill_word_count(&lines, true, iters))
    });
    g.bench_function("rill unfused", |b| {
        b.iter_custom(|iters| rill_word_count(&lines, false, iters))
    });
    g.finish();
}

criterion_group!(benches, word_count);
criterion_main!(benches);
