//! What the streaming UI costs the job: the word count of `benches/wordcount.rs` (100,000
//! lines of the Zipf corpus per batch, fused, parallelism 2) without `.ui(...)` and with
//! it while a thread scrapes all of its JSON and `/metrics` every 100 ms (ten times the
//! page's rate), measured in pairs: each round times one batch of each, in alternating
//! order, so the machine's drift (it is shared) hits both alike. Prints the medians and
//! the median of the per-round ratios.
//!
//! `cargo bench --bench ui_overhead [-- ROUNDS]` (default 60 rounds)

use rill::corpus::Corpus;
use rill::prelude::*;
use std::hint::black_box;
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Instant;

fn context(ui: bool) -> StreamingContext {
    let b = StreamingContext::builder()
        .batch_interval(Duration::from_secs(1))
        .parallelism(2)
        .manual_clock();
    let b = if ui { b.ui("127.0.0.1:0") } else { b };
    b.build().unwrap()
}

/// Scrapes everything the page polls, and the metrics, every 100 ms until `stop`.
fn scrape(addr: SocketAddr, stop: &AtomicBool) {
    while !stop.load(Ordering::Relaxed) {
        for path in [
            "/api/v1/status",
            "/api/v1/batches",
            "/api/v1/receivers",
            "/metrics",
        ] {
            if let Ok(mut s) = TcpStream::connect(addr) {
                let _ = write!(s, "GET {path} HTTP/1.1\r\nHost: x\r\n\r\n");
                let _ = s.read_to_end(&mut Vec::new());
            }
        }
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// The time of the second batch of a fresh word count context (the first sized its
/// tables), with the UI on and scraped or not.
fn one_batch(lines: &[String], ui: bool) -> Duration {
    let ctx = context(ui);
    let batch = vec![lines.to_vec(), lines.to_vec()];
    stream! { ctx;
        queue_stream(batch)
            .flat_map(|l| l.split(' '))
            .map(|w| (w, 1u64))
            .reduce_by_key(|a, b| a + b)
            .for_each_batch(|_, counts| { black_box(counts.len()); });
    };
    ctx.start().unwrap();
    ctx.advance(1).unwrap();
    let stop = &AtomicBool::new(false);
    let mut took = Duration::ZERO;
    std::thread::scope(|s| {
        if let Some(addr) = ctx.ui_addr() {
            s.spawn(move || scrape(addr, stop));
            // Let the scraper be at work when the batch starts.
            std::thread::sleep(Duration::from_millis(5));
        }
        let start = Instant::now();
        ctx.advance(1).unwrap();
        took = start.elapsed();
        stop.store(true, Ordering::Relaxed);
    });
    ctx.stop().unwrap();
    took
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

fn main() {
    let rounds: usize = std::env::args()
        .skip(1)
        .find_map(|a| a.parse().ok())
        .unwrap_or(60);
    let lines = Corpus::new(100_000, 1.1, 42).lines(100_000);
    // Warm up the allocator and the caches.
    for _ in 0..3 {
        one_batch(&lines, false);
        one_batch(&lines, true);
    }
    let (mut off, mut on, mut ratio) = (Vec::new(), Vec::new(), Vec::new());
    for r in 0..rounds {
        let (a, b) = if r % 2 == 0 {
            let a = one_batch(&lines, false);
            (a, one_batch(&lines, true))
        } else {
            let b = one_batch(&lines, true);
            (one_batch(&lines, false), b)
        };
        off.push(a.as_secs_f64() * 1e3);
        on.push(b.as_secs_f64() * 1e3);
        ratio.push(b.as_secs_f64() / a.as_secs_f64());
    }
    let (off, on, ratio) = (median(off), median(on), median(ratio));
    println!("word count, 100k lines, fused, {rounds} paired rounds:");
    println!("  without the UI:         median {off:.2} ms");
    println!("  with the UI, scraped:   median {on:.2} ms");
    println!(
        "  median ratio with/without: {ratio:.3} ({:+.1}%)",
        (ratio - 1.0) * 100.0
    );
}
