//! Per-record latency with short batches: the Zipf corpus sent over a socket at a fixed
//! rate (1 M lines/s by default) to a listening receiver, cut into 10 ms batches,
//! word-counted by the fused plan; each record's latency is the time from when the
//! sender wrote it to when the output of its batch was written.
//!
//! ```text
//! cargo run --release --example latency                          # 1 M lines/s, 10 ms batches, 20 s
//! cargo run --release --example latency -- --rate 500000 --batch-interval 20ms
//! ```
//!
//! The sender writes a chunk every millisecond and logs when; the job's output logs,
//! per batch, the lines it counted (its words over ten) and when it wrote them. Lines
//! arrive in order on one connection, so the two logs give every line's latency, from
//! its write (a few microseconds before the receiver can read it on loopback) to its
//! batch's output: a histogram weighted by lines, with p50, p90, p99 and p99.9. Then
//! where a batch's time goes, p50 and p99 over the batches: the wait for the tick, the
//! tick to the cut handed to the runner (the clock's lateness and the cut), the
//! scheduling delay (handed over to started), each stage, and the rest of the job (the
//! output), from the batch metrics.

#[path = "support/feed.rs"]
mod feed;

use feed::{Feed, load_average, peak_rss_mib};
use rill::clap;
use rill::corpus::WORDS_PER_LINE;
use rill::metrics::percentile;
use rill::prelude::*;
use std::sync::atomic::Ordering;
use std::sync::{Arc, Mutex};
use std::time::{Instant, SystemTime, UNIX_EPOCH};

/// The rate and how long to measure.
#[derive(rill::clap::Args)]
struct Args {
    /// Lines per second to send (10 words each).
    #[arg(long, default_value_t = 1_000_000, value_name = "LINES_PER_SECOND")]
    rate: u64,
    /// Seconds measured after the warm-up.
    #[arg(long, default_value_t = 20, value_parser = clap::value_parser!(u64).range(1..=3600))]
    seconds: u64,
    /// Seconds of warm-up.
    #[arg(long, default_value_t = 3, value_parser = clap::value_parser!(u64).range(..=3600))]
    warmup: u64,
}

/// When a batch's output was written: its batch time, how many lines it counted, the
/// instant it wrote them and the wall-clock milliseconds then.
type OutLog = Arc<Mutex<Vec<(Time, u64, Instant, u64)>>>;

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

fn wall_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as u64)
}

/// `(latency, lines)` for every sender chunk and batch they overlap (lines `[from, to)`
/// of the run only): the lines of the batch whose output went out at `at` that the
/// sender wrote at `sent[c].1`.
fn latencies(
    sent: &[(u64, Instant)],
    outs: &[(u64, Instant)],
    from: u64,
    to: u64,
) -> Vec<(Duration, u64)> {
    let mut out = Vec::new();
    let mut c = 0;
    let mut done = 0u64;
    for &(end, at) in outs {
        // Lines [done, end) went out at `at`.
        while done < end {
            while c + 1 < sent.len() && sent[c + 1].0 <= done {
                c += 1;
            }
            let chunk_end = sent.get(c + 1).map_or(u64::MAX, |s| s.0);
            let upto = end.min(chunk_end);
            let (a, b) = (done.max(from), upto.min(to));
            if a < b {
                out.push((at.saturating_duration_since(sent[c].1), b - a));
            }
            done = upto;
        }
    }
    out
}

/// The latency below which a fraction `q` of the lines stayed.
fn weighted(sorted: &[(Duration, u64)], q: f64) -> Duration {
    let total: u64 = sorted.iter().map(|(_, n)| n).sum();
    let want = (q * total as f64).ceil() as u64;
    let mut seen = 0;
    for &(d, n) in sorted {
        seen += n;
        if seen >= want.max(1) {
            return d;
        }
    }
    sorted.last().map_or(Duration::ZERO, |x| x.0)
}

fn p50_p99(v: &[Duration]) -> String {
    format!(
        "{:>6.2} {:>6.2}",
        ms(percentile(v, 0.5)),
        ms(percentile(v, 0.99))
    )
}

#[rill::main(batch_interval = "10ms", master = "local[2]")]
fn main(ctx: StreamingContext, args: Args) -> rill::Result<()> {
    let outs: OutLog = OutLog::default();
    let log = outs.clone();
    stream! { ctx;
        socket_listen_stream("127.0.0.1:0")
            .flat_map(|l| l.split(' '))
            .map(|w| (w, 1u64))
            .reduce_by_key(|a, b| a + b)
            .for_each_batch(move |time, counts| {
                let words: u64 = counts.iter().map(|(_, n)| n).sum();
                if let Ok(mut log) = log.lock() {
                    log.push((time, words / WORDS_PER_LINE as u64, Instant::now(), wall_ms()));
                }
            });
    };
    ctx.start()?;
    let addr = ctx.local_addrs()[0];
    let interval = ctx.batch_interval();
    let feed = Feed::new(args.rate, true);
    let sender = feed.start(addr, Duration::from_millis(1));
    std::thread::sleep(Duration::from_secs(args.warmup));
    let sent0 = feed.sent.load(Ordering::Relaxed);
    let batches0 = ctx.batch_infos().len();
    let start = Instant::now();
    std::thread::sleep(Duration::from_secs(args.seconds));
    let measured = start.elapsed();
    let sent1 = feed.sent.load(Ordering::Relaxed);
    let batches1 = ctx.batch_infos().len();
    let load = load_average();
    // Let every line sent be counted (a loaded machine may have a backlog), then stop.
    feed.done.store(true, Ordering::Relaxed);
    let _ = sender.join();
    let all = feed.sent.load(Ordering::Relaxed);
    let deadline = Instant::now() + Duration::from_secs(30);
    let counted_all = || -> u64 {
        outs.lock()
            .map(|v| v.iter().map(|o| o.1).sum())
            .unwrap_or(0)
    };
    while counted_all() < all && Instant::now() < deadline {
        std::thread::sleep(interval);
    }
    let infos: Vec<_> = ctx
        .batch_infos()
        .into_iter()
        .take(batches1)
        .skip(batches0)
        .collect();
    ctx.stop()?;

    let sent_log = feed
        .log
        .as_ref()
        .map(|l| l.lock().map(|v| v.clone()).unwrap_or_default())
        .unwrap_or_default();
    let out_log = outs.lock().map(|v| v.clone()).unwrap_or_default();
    let mut cumulative = 0;
    let ends: Vec<(u64, Instant)> = out_log
        .iter()
        .filter(|(_, n, _, _)| *n > 0)
        .map(|&(_, n, at, _)| {
            cumulative += n;
            (cumulative, at)
        })
        .collect();
    // Only lines sent within the measured seconds.
    let mut kept = latencies(&sent_log, &ends, sent0, sent1);
    let counted: u64 = kept.iter().map(|(_, n)| n).sum();
    kept.sort();
    println!(
        "latency: {:.1} s at {} lines/s ({:.2} M words/s), {} ms batches, parallelism {}  (load {load})",
        measured.as_secs_f64(),
        args.rate,
        (sent1 - sent0) as f64 * WORDS_PER_LINE as f64 / measured.as_secs_f64() / 1e6,
        interval.as_millis(),
        ctx.parallelism()
    );
    println!(
        "lines sent {} ({:.0}/s), counted {} of them",
        sent1 - sent0,
        (sent1 - sent0) as f64 / measured.as_secs_f64(),
        counted
    );
    println!(
        "per-line latency, sent -> output written: p50 {:.2} ms, p90 {:.2} ms, p99 {:.2} ms, p99.9 {:.2} ms, max {:.2} ms",
        ms(weighted(&kept, 0.5)),
        ms(weighted(&kept, 0.9)),
        ms(weighted(&kept, 0.99)),
        ms(weighted(&kept, 0.999)),
        ms(kept.last().map_or(Duration::ZERO, |x| x.0)),
    );
    let edges_ms = [
        2.5, 5.0, 7.5, 10.0, 12.5, 15.0, 17.5, 20.0, 25.0, 30.0, 50.0, 100.0,
    ];
    let total = counted.max(1) as f64;
    println!("histogram (lines whose latency is in the range):");
    let mut lo = 0.0;
    for hi in edges_ms.iter().copied().chain([f64::INFINITY]) {
        let n: u64 = kept
            .iter()
            .filter(|(d, _)| ms(*d) >= lo && ms(*d) < hi)
            .map(|(_, n)| n)
            .sum();
        let bar = "#".repeat((n as f64 / total * 50.0).round() as usize);
        println!(
            "  {:>6.1} - {:>6.1} ms  {:>6.2}%  {bar}",
            lo,
            hi,
            n as f64 / total * 100.0
        );
        lo = hi;
    }

    // Where a batch's time goes.
    let by_time: std::collections::HashMap<u64, u64> = out_log
        .iter()
        .map(|&(t, _, _, wall)| (t.millis(), wall))
        .collect();
    let mut tick_to_out = Vec::new();
    let mut clock_cut = Vec::new();
    let mut sched = Vec::new();
    let mut proc = Vec::new();
    let mut stages: std::collections::BTreeMap<usize, Vec<Duration>> = Default::default();
    let mut rest = Vec::new();
    for i in &infos {
        let Some(&wall) = by_time.get(&i.time.millis()) else {
            continue;
        };
        let total = Duration::from_millis(wall.saturating_sub(i.time.millis()));
        tick_to_out.push(total);
        clock_cut.push(total.saturating_sub(i.scheduling_delay + i.processing_time));
        sched.push(i.scheduling_delay);
        proc.push(i.processing_time);
        let mut staged = Duration::ZERO;
        for s in &i.stage_times {
            stages.entry(s.stage).or_default().push(s.time);
            staged += s.time;
        }
        rest.push(i.processing_time.saturating_sub(staged));
    }
    println!(
        "where a batch's time goes ({} batches), ms:      p50    p99",
        infos.len()
    );
    println!(
        "  a line's wait for its tick (about half the interval on average); the rest is per batch"
    );
    println!(
        "  tick -> output written (1 ms resolution) {}",
        p50_p99(&tick_to_out)
    );
    println!(
        "    tick -> cut handed to the runner       {}  (clock lateness, cut; wall-clock ms)",
        p50_p99(&clock_cut)
    );
    println!(
        "    scheduling delay (handed -> started)   {}",
        p50_p99(&sched)
    );
    println!(
        "    processing (jobs, output, bookkeeping) {}",
        p50_p99(&proc)
    );
    for (s, v) in &stages {
        println!(
            "      stage {s}                              {}",
            p50_p99(v)
        );
    }
    println!(
        "      the rest: exchange, output, commit   {}",
        p50_p99(&rest)
    );
    if let Some(rss) = peak_rss_mib() {
        println!("peak resident memory: {rss:.0} MiB");
    }
    Ok(())
}
