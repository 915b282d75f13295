//! What the socket benchmarks (`throughput`, `latency`) share: the corpus as bytes, a
//! sender thread writing it at a set rate and logging when each chunk went out, the
//! in-memory word count they are compared with, and the machine's load.

#![allow(dead_code)]

use rill::corpus::{Corpus, WORDS_PER_LINE};
use rill::prelude::*;
use rill::source::queue_stream;
use std::io::Write;
use std::net::{SocketAddr, TcpStream};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Instant;

/// The corpus as one buffer of `\n`-terminated lines, with each line's start offset.
pub fn corpus(lines: usize) -> (Vec<u8>, Vec<usize>) {
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

/// When the sender wrote which lines: `(lines written before, time written)` per
/// chunk, in order.
pub type SendLog = Arc<Mutex<Vec<(u64, Instant)>>>;

/// A sender thread's controls.
#[derive(Clone)]
pub struct Feed {
    /// Lines per second to send.
    pub rate: Arc<AtomicU64>,
    /// Set to stop the sender.
    pub done: Arc<AtomicBool>,
    /// Lines written so far.
    pub sent: Arc<AtomicU64>,
    /// When each chunk was written, if asked for.
    pub log: Option<SendLog>,
}

impl Feed {
    /// Controls for a sender starting at `rate` lines per second.
    pub fn new(rate: u64, log: bool) -> Feed {
        Feed {
            rate: Arc::new(AtomicU64::new(rate)),
            done: Arc::new(AtomicBool::new(false)),
            sent: Arc::new(AtomicU64::new(0)),
            log: log.then(SendLog::default),
        }
    }

    /// Starts a thread sending the corpus to `addr` at the feed's rate, a chunk about
    /// every `tick` (what a late tick owes is sent with it), until `done`.
    pub fn start(&self, addr: SocketAddr, tick: Duration) -> std::thread::JoinHandle<()> {
        let feed = self.clone();
        std::thread::spawn(move || {
            let (buf, starts) = corpus(CORPUS_LINES);
            let Ok(mut conn) = TcpStream::connect(addr) else {
                eprintln!("cannot connect to the receiver at {addr}");
                return;
            };
            let _ = conn.set_nodelay(true);
            feed.pace(starts.len() - 1, tick, |from, to| {
                conn.write_all(&buf[starts[from]..starts[to]]).is_ok()
            });
        })
    }

    /// Starts a thread pushing the corpus into `queue` at the feed's rate, as
    /// [`shared_lines`] (what a socket source hands over, without the socket and the
    /// receiver), a push about every `tick`, until `done`. The queue should take every
    /// entry at each batch (`one_at_a_time(false)`), as a receiver's cut does.
    pub fn start_queue(
        &self,
        queue: rill::source::Queue<rill::source::Line>,
        tick: Duration,
    ) -> std::thread::JoinHandle<()> {
        let feed = self.clone();
        std::thread::spawn(move || {
            let lines = shared_lines(&Corpus::new(100_000, 1.1, 42).lines(CORPUS_LINES));
            feed.pace(lines.len(), tick, |from, to| {
                queue.push(lines[from..to].to_vec());
                true
            });
        })
    }

    /// Hands `emit` the corpus lines `from..to` owed at the feed's rate, about every
    /// `tick`, cycling through `lines` lines, until `done` or `emit` fails.
    fn pace(self, lines: usize, tick: Duration, mut emit: impl FnMut(usize, usize) -> bool) {
        let mut next = Instant::now();
        let mut last = next;
        let mut pos = 0usize;
        let mut owed = 0f64;
        let mut total = 0u64;
        while !self.done.load(Ordering::Relaxed) {
            // What the time since the last chunk is owed, however late this one is.
            let now = Instant::now();
            owed += self.rate.load(Ordering::Relaxed) as f64 * (now - last).as_secs_f64();
            last = now;
            let mut n = owed as usize;
            owed -= n as f64;
            if n > 0 {
                if let Some(log) = &self.log {
                    if let Ok(mut log) = log.lock() {
                        log.push((total, Instant::now()));
                    }
                }
            }
            while n > 0 {
                let k = n.min(lines - pos);
                if !emit(pos, pos + k) {
                    return;
                }
                self.sent.fetch_add(k as u64, Ordering::Relaxed);
                total += k as u64;
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
}

/// Lines of the corpus a sender cycles through.
const CORPUS_LINES: usize = 200_000;

/// `corpus` as [`Line`](rill::source::Line)s sharing one buffer per 1,024 lines, as a
/// socket source hands them over.
pub fn shared_lines(corpus: &[String]) -> Vec<rill::source::Line> {
    corpus
        .chunks(1024)
        .flat_map(|c| {
            let text = Arc::new(c.concat());
            let mut at = 0;
            c.iter()
                .filter_map(|l| {
                    at += l.len();
                    rill::source::Line::of(&text, at - l.len(), at)
                })
                .collect::<Vec<_>>()
        })
        .collect()
}

/// The 1-minute load average of the machine, as `uptime` shows it.
pub fn load_average() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .ok()
        .and_then(|s| s.split_whitespace().next().map(str::to_string))
        .unwrap_or_else(|| "?".into())
}

/// The peak resident memory of this process, in MiB.
pub fn peak_rss_mib() -> Option<f64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kib: f64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib / 1024.0)
}

/// The fused word count of every benchmark here over `lines`, defined on `ctx`: the
/// number of words of each batch is added to `words`.
pub fn count_words<T, S>(ctx: &StreamingContext, lines: S, words: Arc<AtomicU64>)
where
    T: std::ops::Deref<Target = str> + Send + Sync + 'static,
    S: rill::source::Source<T>,
{
    stream! { ctx;
        let lines = source(lines);
        lines
            .flat_map(|l| l.split(' '))
            .map(|w| (w, 1u64))
            .reduce_by_key(|a, b| a + b)
            .for_each_batch(move |_, counts| {
                words.fetch_add(counts.iter().map(|(_, n)| n).sum::<u64>(), Ordering::Relaxed);
            });
    };
}

/// The in-memory fused word count of `benches/wordcount.rs` ("rill fused"): batches of
/// `lines` corpus lines from a queue, on a manual clock with `parallelism` workers;
/// the median time of `batches` batches (after a first that sizes the tables), in
/// words per second.
pub fn in_memory_words_per_second(lines: usize, batches: usize, parallelism: usize) -> f64 {
    let corpus = Corpus::new(100_000, 1.1, 42).lines(lines);
    in_memory(corpus, batches, parallelism)
}

/// [`in_memory_words_per_second`] over records of type `T` (`String`, or the `Line`s a
/// socket source gives, to compare the two).
pub fn in_memory<T>(corpus: Vec<T>, batches: usize, parallelism: usize) -> f64
where
    T: std::ops::Deref<Target = str> + Clone + Send + Sync + 'static,
{
    let lines = corpus.len();
    let ctx = match StreamingContext::builder()
        .batch_interval(Duration::from_secs(1))
        .parallelism(parallelism)
        .manual_clock()
        .build()
    {
        Ok(ctx) => ctx,
        Err(e) => {
            eprintln!("cannot build the in-memory context: {e}");
            return 0.0;
        }
    };
    // One batch queued at a time, outside the timed part, so the run holds two at most.
    let queue = rill::source::Queue::<T>::new();
    let queued = queue.clone();
    let words = Arc::new(AtomicU64::new(0));
    count_words(&ctx, queue_stream(queued), words.clone());
    queue.push(corpus.clone());
    if ctx.start().and_then(|()| ctx.advance(1)).is_err() {
        return 0.0;
    }
    let mut times = Vec::with_capacity(batches);
    for _ in 0..batches {
        queue.push(corpus.clone());
        let start = Instant::now();
        if ctx.advance(1).is_err() {
            return 0.0;
        }
        times.push(start.elapsed());
    }
    let _ = ctx.stop();
    debug_assert_eq!(
        words.load(Ordering::Relaxed),
        ((batches + 1) * lines * WORDS_PER_LINE) as u64
    );
    let median = rill::metrics::percentile(&times, 0.5);
    (lines * WORDS_PER_LINE) as f64 / median.as_secs_f64().max(1e-9)
}
