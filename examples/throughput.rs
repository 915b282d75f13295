//! End to end throughput: the Zipf corpus sent over a real socket to a listening
//! receiver, cut into 100 ms batches by the scheduler, word-counted by the fused plan.
//!
//! ```text
//! cargo run --release --example throughput             # 20 s at the highest sustained rate
//! cargo run --release --example throughput -- --rate 500000 --seconds 10
//! ```
//!
//! Without `--rate` the sender finds the highest rate the job sustains: it raises its
//! rate while batches take under half the batch interval and backs off when one takes
//! over 60% of it or starts late (as Spark's backpressure does). It prints words per second,
//! per-batch processing time and scheduling delay percentiles, and peak resident memory.

use rill::clap;
use rill::corpus::Corpus;
use rill::metrics::percentile;
use rill::prelude::*;
use std::io::Write;
use std::net::TcpStream;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::Instant;

/// How long to measure, and at what rate (found by the sender when not given).
#[derive(rill::clap::Args)]
struct Args {
    /// Seconds measured after the warm-up.
    #[arg(long, default_value_t = 20, value_parser = clap::value_parser!(u64).range(..=MAX_SECONDS))]
    seconds: u64,
    /// Seconds of warm-up.
    #[arg(long, default_value_t = 5, value_parser = clap::value_parser!(u64).range(..=MAX_SECONDS))]
    warmup: u64,
    /// Lines per second to send (default: the highest rate the job sustains).
    #[arg(long, value_name = "LINES_PER_SECOND")]
    rate: Option<u64>,
}

/// The longest `--seconds` or `--warmup` (some 31 years): they are added to
/// `Instant::now()`, so keep them far from overflowing it.
const MAX_SECONDS: u64 = 1_000_000_000;

/// The corpus as one buffer of `\n`-terminated lines, with each line's start offset.
fn corpus(lines: usize) -> (Vec<u8>, Vec<usize>) {
    let mut buf = Vec::new();
    let mut starts = Vec::with_capacity(lines + 1);
    for l in Corpus::new(100_000, 1.1, 42).lines(lines) {
        starts.push(buf.len());
        buf.extend_from_slice(l.as_bytes());
        buf.push(b'\n');
    }
    starts.push(buf.len());
    (buf, starts)
}

/// Sends lines at `rate` lines per second (read every 5 ms) until `done`.
fn send(
    addr: std::net::SocketAddr,
    rate: Arc<AtomicU64>,
    done: Arc<AtomicBool>,
    sent: Arc<AtomicU64>,
) {
    let (buf, starts) = corpus(200_000);
    let lines = starts.len() - 1;
    let mut conn = TcpStream::connect(addr).expect("connect to the receiver");
    let tick = Duration::from_millis(5);
    let mut next = Instant::now();
    let mut pos = 0usize;
    let mut owed = 0f64;
    while !done.load(Ordering::Relaxed) {
        owed += rate.load(Ordering::Relaxed) as f64 * tick.as_secs_f64();
        let mut n = owed as usize;
        owed -= n as f64;
        while n > 0 {
            let k = n.min(lines - pos);
            if conn.write_all(&buf[starts[pos]..starts[pos + k]]).is_err() {
                return;
            }
            sent.fetch_add(k as u64, Ordering::Relaxed);
            pos = (pos + k) % lines;
            n -= k;
        }
        next += tick;
        if let Some(wait) = next.checked_duration_since(Instant::now()) {
            std::thread::sleep(wait);
        } else {
            next = Instant::now();
        }
    }
}

fn peak_rss_mib() -> Option<f64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kib: f64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib / 1024.0)
}

#[rill::main(batch_interval = "100ms", master = "local[2]")]
fn main(ctx: StreamingContext, args: Args) -> rill::Result<()> {
    let words = Arc::new(AtomicU64::new(0));
    let counted = words.clone();
    stream! { ctx;
        socket_listen_stream("127.0.0.1:0")
            .flat_map(|l| l.split(' '))
            .map(|w| (w, 1u64))
            .reduce_by_key(|a, b| a + b)
            .for_each_batch(move |_, counts| {
                counted.fetch_add(counts.iter().map(|(_, n)| n).sum::<u64>(), Ordering::Relaxed);
            });
    };
    ctx.start()?;
    let addr = ctx.local_addrs()[0];
    let rate = Arc::new(AtomicU64::new(args.rate.unwrap_or(400_000)));
    let done = Arc::new(AtomicBool::new(false));
    let sent = Arc::new(AtomicU64::new(0));
    let sender = {
        let (rate, done, sent) = (rate.clone(), done.clone(), sent.clone());
        std::thread::spawn(move || send(addr, rate, done, sent))
    };
    let interval = ctx.batch_interval();
    let adapt = args.rate.is_none();
    let control = |until: Instant| {
        let mut seen = 0;
        while Instant::now() < until {
            std::thread::sleep(interval);
            let infos = ctx.batch_infos();
            if !adapt || infos.len() == seen {
                continue;
            }
            seen = infos.len();
            let last = &infos[infos.len() - 1];
            let r = rate.load(Ordering::Relaxed) as f64;
            // Keep headroom: a batch should take at most 60% of the interval.
            let next = if last.scheduling_delay > interval / 4
                || last.processing_time > interval * 6 / 10
            {
                r * 0.85
            } else if last.processing_time < interval / 2 {
                r * 1.02
            } else {
                r
            };
            rate.store(next.max(10_000.0) as u64, Ordering::Relaxed);
        }
    };
    control(Instant::now() + Duration::from_secs(args.warmup));
    let (words0, batches0) = (words.load(Ordering::Relaxed), ctx.batch_infos().len());
    let start = Instant::now();
    control(start + Duration::from_secs(args.seconds));
    let elapsed = start.elapsed();
    let counted_words = words.load(Ordering::Relaxed) - words0;
    done.store(true, Ordering::Relaxed);
    let _ = sender.join();
    let infos: Vec<_> = ctx.batch_infos().into_iter().skip(batches0).collect();
    ctx.stop()?;
    let processing: Vec<Duration> = infos.iter().map(|i| i.processing_time).collect();
    let delay: Vec<Duration> = infos.iter().map(|i| i.scheduling_delay).collect();
    let ms = |d: Duration| d.as_secs_f64() * 1000.0;
    println!(
        "throughput: {:.1} s measured after {} s warm-up, {} ms batches, parallelism {}",
        elapsed.as_secs_f64(),
        args.warmup,
        interval.as_millis(),
        ctx.parallelism()
    );
    println!(
        "words: {} in {} batches: {:.2} M words/s ({:.0} lines/s sent)",
        counted_words,
        infos.len(),
        counted_words as f64 / elapsed.as_secs_f64() / 1e6,
        sent.load(Ordering::Relaxed) as f64 / (elapsed.as_secs_f64() + args.warmup as f64)
    );
    println!(
        "processing time per batch: p50 {:.1} ms, p99 {:.1} ms",
        ms(percentile(&processing, 0.5)),
        ms(percentile(&processing, 0.99))
    );
    println!(
        "scheduling delay: p50 {:.1} ms, p99 {:.1} ms",
        ms(percentile(&delay, 0.5)),
        ms(percentile(&delay, 0.99))
    );
    if let Some(rss) = peak_rss_mib() {
        println!("peak resident memory: {rss:.0} MiB");
    }
    Ok(())
}
