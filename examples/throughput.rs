//! End to end throughput: the Zipf corpus sent over a real socket to a listening
//! receiver, cut into batches by the scheduler (100 ms unless `--batch-interval`),
//! word-counted by the fused plan; beside it, in the same run, the same word count from
//! memory twice: back to back on a manual clock (`benches/wordcount.rs`'s "rill fused"),
//! and paced exactly as the socket is (a thread pushing the same lines, already shared
//! `Line`s, into a queue source), searched the same way.
//!
//! ```text
//! cargo run --release --example throughput                  # search the highest sustained rates
//! cargo run --release --example throughput -- --source socket --rate 500000 --seconds 10
//! cargo run --release --example throughput -- --target 50   # p99 under half the interval
//! cargo run --release --example throughput -- --adapt       # the earlier adaptive sender
//! ```
//!
//! Without `--rate` it searches the highest rate the job sustains: a rate is sustained
//! when, over a trial at that fixed rate, the sender kept it, every line sent was
//! counted, the batches' p99 processing time stayed under `--target` percent of the
//! batch interval and their p99 scheduling delay under half of it. It grows the rate by
//! a quarter while trials pass, then bisects between the last rate that passed and the
//! first that failed; the highest passing rate is then measured for `--seconds`. With
//! `--source both` (the default) it does so for the paced queue, then for the socket:
//! their ratio is what the socket and the receiver cost, the same clock, job and
//! criterion on both sides. It prints words per second, per-batch processing time and
//! scheduling delay percentiles, peak resident memory, the ratios, and the load average
//! beside each figure (the machine is shared).
#[path = "support/feed.rs"]
mod feed;

use feed::{Feed, in_memory_words_per_second, load_average, peak_rss_mib};
use rill::clap;
use rill::corpus::WORDS_PER_LINE;
use rill::metrics::percentile;
use rill::prelude::*;
use rill::source::{queue_stream, socket_listen_stream};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Instant;

/// How long to measure, and at what rate (searched when not given).
#[derive(rill::clap::Args)]
struct Args {
    /// Seconds measured at the final rate.
    #[arg(long, default_value_t = 20, value_parser = clap::value_parser!(u64).range(1..=MAX_SECONDS))]
    seconds: u64,
    /// Seconds of warm-up before the search (or the fixed rate's measurement).
    #[arg(long, default_value_t = 3, value_parser = clap::value_parser!(u64).range(..=MAX_SECONDS))]
    warmup: u64,
    /// Lines per second to send (default: the highest rate the job sustains).
    #[arg(long, value_name = "LINES_PER_SECOND")]
    rate: Option<u64>,
    /// The p99 processing time a sustained rate keeps under, in percent of the batch
    /// interval.
    #[arg(long, default_value_t = 80, value_parser = clap::value_parser!(u64).range(1..=100))]
    target: u64,
    /// Seconds of each trial of the search (after a settling second).
    #[arg(long, default_value_t = 4, value_parser = clap::value_parser!(u64).range(1..=600))]
    trial: u64,
    /// Bisection steps after the first failed trial.
    #[arg(long, default_value_t = 5)]
    steps: u32,
    /// The earlier adaptive sender instead of the search: it raises its rate while
    /// batches take under half the interval and backs off over 60%.
    #[arg(long, conflicts_with = "rate")]
    adapt: bool,
    /// Lines per batch of the in-memory word count (0: skip it).
    #[arg(long, default_value_t = 100_000)]
    memory_lines: usize,
    /// Also time the in-memory word count over shared `Line`s (as a socket source gives
    /// them) instead of `String`s.
    #[arg(long)]
    memory_lines_too: bool,
    /// Where the paced lines come from: `socket` (a sender thread writing to the
    /// listening socket source), `queue` (a thread pushing the same lines, already
    /// shared `Line`s, into a queue source: the same job, clock and criterion without
    /// the socket and the receiver), or `both` (the queue first, then the socket; the
    /// ratio of the two is what the receive path costs).
    #[arg(long, value_enum, default_value_t = Paced::Both)]
    source: Paced,
}

/// Where the paced lines come from.
#[derive(Clone, Copy, PartialEq, Eq, rill::clap::ValueEnum)]
enum Paced {
    /// Over the listening socket.
    Socket,
    /// Pushed into a queue source.
    Queue,
    /// The queue, then the socket.
    Both,
}

/// The longest `--seconds` or `--warmup` (some 31 years): they are added to
/// `Instant::now()`, so keep them far from overflowing it.
const MAX_SECONDS: u64 = 1_000_000_000;

/// What one stretch of a run measured.
struct Measured {
    seconds: f64,
    words: u64,
    sent_lines: u64,
    batches: usize,
    processing: Vec<Duration>,
    delay: Vec<Duration>,
}

impl Measured {
    fn words_per_second(&self) -> f64 {
        self.words as f64 / self.seconds
    }

    fn p(&self, q: f64) -> (Duration, Duration) {
        (percentile(&self.processing, q), percentile(&self.delay, q))
    }
}

/// The job and its sender.
struct Bench<'a> {
    ctx: &'a StreamingContext,
    feed: Feed,
    words: Arc<AtomicU64>,
}

impl Bench<'_> {
    /// Measures `seconds` at the rate set now (the adaptive sender changing it if
    /// `adapt`).
    fn measure(&self, seconds: f64, adapt: bool) -> Measured {
        let interval = self.ctx.batch_interval();
        let (words0, sent0, batches0) = (
            self.words.load(Ordering::Relaxed),
            self.feed.sent.load(Ordering::Relaxed),
            self.ctx.batch_infos().len(),
        );
        let start = Instant::now();
        let until = start + Duration::from_secs_f64(seconds);
        let mut seen = batches0;
        while Instant::now() < until {
            std::thread::sleep(interval.min(until.saturating_duration_since(Instant::now())));
            if adapt {
                seen = self.adapt(seen);
            }
        }
        let elapsed = start.elapsed();
        let infos: Vec<_> = self.ctx.batch_infos().into_iter().skip(batches0).collect();
        Measured {
            seconds: elapsed.as_secs_f64(),
            words: self.words.load(Ordering::Relaxed) - words0,
            sent_lines: self.feed.sent.load(Ordering::Relaxed) - sent0,
            batches: infos.len(),
            processing: infos.iter().map(|i| i.processing_time).collect(),
            delay: infos.iter().map(|i| i.scheduling_delay).collect(),
        }
    }

    /// The earlier adaptive sender's step after each new batch.
    fn adapt(&self, seen: usize) -> usize {
        let interval = self.ctx.batch_interval();
        let infos = self.ctx.batch_infos();
        if infos.len() == seen {
            return seen;
        }
        let last = &infos[infos.len() - 1];
        let r = self.feed.rate.load(Ordering::Relaxed) as f64;
        let next =
            if last.scheduling_delay > interval / 4 || last.processing_time > interval * 6 / 10 {
                r * 0.85
            } else if last.processing_time < interval / 2 {
                r * 1.02
            } else {
                r
            };
        self.feed
            .rate
            .store(next.max(10_000.0) as u64, Ordering::Relaxed);
        infos.len()
    }

    /// One trial at `rate` lines per second: whether it was sustained.
    fn trial(&self, rate: u64, seconds: u64, target: Duration) -> (bool, Measured) {
        self.feed.rate.store(rate, Ordering::Relaxed);
        std::thread::sleep(Duration::from_secs(1));
        let m = self.measure(seconds as f64, false);
        let interval = self.ctx.batch_interval();
        let (p99, d99) = m.p(0.99);
        let wanted = rate as f64 * m.seconds;
        let kept_rate = m.sent_lines as f64 >= 0.97 * wanted;
        let counted = (m.words / WORDS_PER_LINE as u64) as f64 >= 0.97 * m.sent_lines as f64;
        let ok = kept_rate && counted && p99 < target && d99 < interval / 2;
        println!(
            "  trial {:>9} lines/s: sent {:>9.0}/s, counted {:>6.2} M words/s, processing p99 {:>6.1} ms, delay p99 {:>6.1} ms: {}  (load {})",
            rate,
            m.sent_lines as f64 / m.seconds,
            m.words_per_second() / 1e6,
            ms(p99),
            ms(d99),
            if ok { "sustained" } else { "not sustained" },
            load_average()
        );
        if !ok {
            self.drain();
        }
        (ok, m)
    }

    /// Stops sending until what a failed trial left buffered (in the receiver and the
    /// sockets) has been processed: two empty batches in a row, or 20 s.
    fn drain(&self) {
        self.feed.rate.store(0, Ordering::Relaxed);
        let interval = self.ctx.batch_interval();
        let until = Instant::now() + Duration::from_secs(20);
        let mut empty = 0;
        let mut seen = self.ctx.batch_infos().len();
        while empty < 2 && Instant::now() < until {
            std::thread::sleep(interval);
            let infos = self.ctx.batch_infos();
            for i in infos.iter().skip(seen) {
                empty = if i.records == 0 { empty + 1 } else { 0 };
            }
            seen = infos.len();
        }
    }

    /// The highest sustained rate: grow by a quarter while trials pass, then bisect.
    fn search(&self, args: &Args, target: Duration) -> u64 {
        let mut good = 0u64;
        let mut bad = None;
        let mut rate = 400_000u64;
        while bad.is_none() {
            if self.trial(rate, args.trial, target).0 {
                good = rate;
                rate += rate / 4;
            } else {
                bad = Some(rate);
            }
        }
        let mut bad = bad.unwrap_or(rate);
        for _ in 0..args.steps {
            let mid = (good.max(bad / 4) + bad) / 2;
            if self.trial(mid, args.trial, target).0 {
                good = mid;
            } else {
                bad = mid;
            }
        }
        good.max(10_000)
    }

    /// Warms up, searches the highest sustained rate (or keeps `--rate`, or adapts),
    /// measures it for `--seconds` and prints what it found for the lines of `name`.
    fn run(&self, args: &Args, target: Duration, name: &str) -> Measured {
        let interval = self.ctx.batch_interval();
        self.measure(args.warmup as f64, args.adapt);
        let (m, how) = if args.adapt || args.rate.is_some() {
            let how = if args.adapt {
                "the adaptive sender".to_string()
            } else {
                format!("{} lines/s", self.feed.rate.load(Ordering::Relaxed))
            };
            (self.measure(args.seconds as f64, args.adapt), how)
        } else {
            println!(
                "{name}: searching the highest rate with processing p99 under {} ms ({}% of {} ms):",
                ms(target),
                args.target,
                ms(interval)
            );
            let rate = self.search(args, target);
            self.feed.rate.store(rate, Ordering::Relaxed);
            std::thread::sleep(Duration::from_secs(1));
            (
                self.measure(args.seconds as f64, false),
                format!("{rate} lines/s, the highest sustained"),
            )
        };
        let (p50, d50) = m.p(0.5);
        let (p99, d99) = m.p(0.99);
        println!(
            "{name}: {:.1} s at {how}, {} ms batches, parallelism {}  (load {})",
            m.seconds,
            interval.as_millis(),
            self.ctx.parallelism(),
            load_average()
        );
        println!(
            "{name}: words: {} in {} batches: {:.2} M words/s ({:.0} lines/s sent)",
            m.words,
            m.batches,
            m.words_per_second() / 1e6,
            m.sent_lines as f64 / m.seconds
        );
        println!(
            "{name}: processing time per batch: p50 {:.1} ms, p99 {:.1} ms ({} the target of {:.0} ms)",
            ms(p50),
            ms(p99),
            if p99 < target { "within" } else { "over" },
            ms(target)
        );
        println!(
            "{name}: scheduling delay: p50 {:.1} ms, p99 {:.1} ms",
            ms(d50),
            ms(d99)
        );
        m
    }
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

#[rill::main(batch_interval = "100ms", master = "local[2]")]
fn main(ctx: StreamingContext, args: Args) -> rill::Result<()> {
    let memory = (args.memory_lines > 0).then(|| {
        let load = load_average();
        let rate = in_memory_words_per_second(args.memory_lines, 20, ctx.parallelism());
        (rate, load)
    });
    if let Some((rate, load)) = &memory {
        println!(
            "in memory (fused word count, {} lines a batch, median of 20 batches): {:.2} M words/s  (load {load})",
            args.memory_lines,
            rate / 1e6
        );
    }
    if args.memory_lines > 0 && args.memory_lines_too {
        // The same over `Line`s sharing one buffer per 1,024 lines, as a socket gives them.
        let corpus = rill::corpus::Corpus::new(100_000, 1.1, 42).lines(args.memory_lines);
        let load = load_average();
        let rate = feed::in_memory(feed::shared_lines(&corpus), 20, ctx.parallelism());
        println!(
            "in memory over shared Lines instead of Strings: {:.2} M words/s  (load {load})",
            rate / 1e6
        );
    }
    let words = Arc::new(AtomicU64::new(0));
    let queue = rill::source::Queue::<rill::source::Line>::new().one_at_a_time(false);
    feed::count_words::<rill::source::Line, _>(
        &ctx,
        socket_listen_stream("127.0.0.1:0"),
        words.clone(),
    );
    feed::count_words(&ctx, queue_stream(queue.clone()), words.clone());
    ctx.start()?;
    let interval = ctx.batch_interval();
    let tick = (interval / 20).clamp(Duration::from_millis(1), Duration::from_millis(5));
    let target = interval * args.target as u32 / 100;
    let mut found = Vec::new();
    for paced in [Paced::Queue, Paced::Socket] {
        if args.source != Paced::Both && args.source != paced {
            continue;
        }
        let feed = Feed::new(args.rate.unwrap_or(400_000), false);
        let sender = match paced {
            Paced::Queue => feed.start_queue(queue.clone(), tick),
            _ => feed.start(ctx.local_addrs()[0], tick),
        };
        let bench = Bench {
            ctx: &ctx,
            feed: feed.clone(),
            words: words.clone(),
        };
        let name = if paced == Paced::Queue {
            "queue"
        } else {
            "socket"
        };
        let m = bench.run(&args, target, name);
        feed.done.store(true, Ordering::Relaxed);
        let _ = sender.join();
        bench.drain();
        found.push((name, m.words_per_second()));
    }
    ctx.stop()?;
    let socket = found.iter().find(|(n, _)| *n == "socket").map(|f| f.1);
    let paced_queue = found.iter().find(|(n, _)| *n == "queue").map(|f| f.1);
    if let (Some(socket), Some(queue)) = (socket, paced_queue) {
        println!(
            "socket / queue, paced and judged the same way: {:.2} / {:.2} M words/s = {:.2}x",
            socket / 1e6,
            queue / 1e6,
            socket / queue.max(1.0)
        );
    }
    if let (Some(socket), Some((rate, _))) = (socket, memory) {
        println!(
            "socket / in memory back to back: {:.2} / {:.2} M words/s = {:.2}x",
            socket / 1e6,
            rate / 1e6,
            socket / rate.max(1.0)
        );
    }
    if let Some(rss) = peak_rss_mib() {
        println!("peak resident memory: {rss:.0} MiB");
    }
    Ok(())
}
