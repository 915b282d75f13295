//! What the streaming UI costs the job: the word count of `benches/wordcount.rs` (100,000
//! lines of the Zipf corpus per batch, fused, parallelism 2) in two contexts side by
//! side, one without `.ui(...)`, one with it while a thread scrapes all of its JSON and
//! `/metrics` every 100 ms (ten times the page's rate), its kept batches growing as the
//! run goes on. Measured in pairs: each round times one batch of each, in alternating
//! order, so the machine's drift (it is shared) hits both alike. Prints the medians and
//! the median of the per-round ratios.
//!
//! `cargo bench --bench ui_overhead [-- ROUNDS [EVERY_MS]]` (default 300 rounds, a scrape
//! every 100 ms; the page polls every 1000 ms; 0 is the control: two contexts without the
//! UI, which shows the bias of the pairing on this machine)

use rill::corpus::Corpus;
use rill::prelude::*;
use rill::source::Queue;
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

/// Scrapes everything the page polls, and the metrics, every `every` until `stop`; how
/// long each round of four requests took.
fn scrape(addr: SocketAddr, every: Duration, stop: &AtomicBool) -> Vec<f64> {
    let mut rounds = Vec::new();
    while !stop.load(Ordering::Relaxed) {
        let start = Instant::now();
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
        rounds.push(start.elapsed().as_secs_f64() * 1e3);
        std::thread::sleep(every);
    }
    rounds
}

/// A word count context over `queue`, with the UI or not.
fn word_count(queue: &Queue<String>, ui: bool) -> StreamingContext {
    let ctx = context(ui);
    let q = queue.clone();
    stream! { ctx;
        queue_stream(q)
            .flat_map(|l| l.split(' '))
            .map(|w| (w, 1u64))
            .reduce_by_key(|a, b| a + b)
            .for_each_batch(|_, counts| { black_box(counts.len()); });
    };
    ctx.start().unwrap();
    ctx
}

/// The time of one batch of `lines` through `ctx`, fed through `queue`.
fn one_batch(ctx: &StreamingContext, queue: &Queue<String>, lines: &[String]) -> Duration {
    queue.push(lines.to_vec());
    let start = Instant::now();
    ctx.advance(1).unwrap();
    start.elapsed()
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

fn main() {
    // Criterion's `--bench` flag comes first; the numbers after it are ours.
    let numbers: Vec<u64> = std::env::args().filter_map(|a| a.parse().ok()).collect();
    let rounds = numbers.first().map_or(300, |n| *n as usize);
    let every = Duration::from_millis(numbers.get(1).copied().unwrap_or(100));
    let lines = Corpus::new(100_000, 1.1, 42).lines(100_000);
    // Two contexts side by side, one with the UI, which a thread scrapes all along.
    let (q_off, q_on) = (Queue::new(), Queue::new());
    // EVERY_MS 0 is the control: neither context has the UI.
    let control = every.is_zero();
    let (off_ctx, on_ctx) = (word_count(&q_off, false), word_count(&q_on, !control));
    let stop = &AtomicBool::new(false);
    let (mut off, mut on, mut ratio) = (Vec::new(), Vec::new(), Vec::new());
    let scrapes = std::thread::scope(|s| {
        let scraper = on_ctx
            .ui_addr()
            .map(|addr| s.spawn(move || scrape(addr, every, stop)));
        // The first batches size the hash tables.
        for _ in 0..3 {
            one_batch(&off_ctx, &q_off, &lines);
            one_batch(&on_ctx, &q_on, &lines);
        }
        for r in 0..rounds {
            let (a, b) = if r % 2 == 0 {
                let a = one_batch(&off_ctx, &q_off, &lines);
                (a, one_batch(&on_ctx, &q_on, &lines))
            } else {
                let b = one_batch(&on_ctx, &q_on, &lines);
                (one_batch(&off_ctx, &q_off, &lines), b)
            };
            off.push(a.as_secs_f64() * 1e3);
            on.push(b.as_secs_f64() * 1e3);
            ratio.push(b.as_secs_f64() / a.as_secs_f64());
        }
        stop.store(true, Ordering::Relaxed);
        scraper.map(|h| h.join().unwrap())
    });
    off_ctx.stop().unwrap();
    on_ctx.stop().unwrap();
    let (off, on, ratio) = (median(off), median(on), median(ratio));
    println!("word count, 100k lines, fused, {rounds} paired rounds:");
    println!("  without the UI:         median {off:.2} ms");
    if control {
        println!("  control, again without: median {on:.2} ms");
    } else {
        println!("  with the UI, scraped every {every:?}: median {on:.2} ms");
    }
    println!(
        "  median ratio with/without: {ratio:.3} ({:+.1}%)",
        (ratio - 1.0) * 100.0
    );
    if let Some(s) = scrapes.filter(|s| !s.is_empty()) {
        let n = s.len();
        println!(
            "  a scrape of the four endpoints ({n} of them, up to {} batches kept): median {:.2} ms",
            rounds + 6,
            median(s)
        );
    }
}
