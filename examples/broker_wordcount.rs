//! The word count over a broker: lines from Redis Streams (cargo feature `redis`) or from
//! subjects of a NATS JetStream stream (feature `nats`), words counted per batch (or, with
//! `--totals`, running totals kept in the job's state), and the counts written back to
//! the same broker. One pipeline: `--broker` picks the source and the sink at run time.
//!
//! Redis: lines are entries with a `value` field; counts are appended to the output
//! stream as entries `key` (the word), `value` (its count) and `batch_time`.
//!
//! ```text
//! redis-server --port 6379 &
//! cargo run --release --features redis --example broker_wordcount -- --checkpoint /tmp/wc
//! redis-cli XADD lines '*' value "hello world hello"     # in another terminal
//! redis-cli XRANGE counts - +                            # the counts, batch by batch
//! redis-cli XINFO GROUPS lines                           # how far the job is (lag)
//! ```
//!
//! NATS: lines are the payloads of messages on the input subjects, counts are published
//! to the output subject (payload the count, headers `key`, `batch_time` and a
//! `Nats-Msg-Id` by which the stream drops a batch published again after a recovery).
//! The JetStream stream `--stream` (default `LINES`) is created if missing, holding the
//! input and output subjects. Without the `nats` command-line tool, `--feed` publishes
//! the lines of standard input (and does the same for Redis):
//!
//! ```text
//! nats-server -js &
//! cargo run --release --features nats --example broker_wordcount -- --broker nats --checkpoint /tmp/wc-nats
//! echo "hello world hello" | cargo run --release --features nats --example broker_wordcount -- --broker nats --feed
//! nats stream view LINES                                 # with the nats CLI, if installed
//! nats consumer info LINES wordcount-lines               # how far the job is
//! ```
//!
//! Flags: `--broker redis|nats` (default `redis`; the other needs its cargo feature),
//! `--url` (default `redis://127.0.0.1:6379` or `nats://127.0.0.1:4222`), `--streams a,b`
//! (stream keys or subjects, default `lines`), `--stream NAME` (NATS: the JetStream stream),
//! `--pattern P` (also every stream key matching `lines:*`, or every subject of the
//! stream matching `lines.>`, picked up while running), `--output counts`, `--group
//! wordcount` (the Redis consumer group, or the prefix of the NATS durable consumers),
//! `--start-at earliest|latest|committed` (default `committed`), `--totals`,
//! `--max-rate-per-partition N`, `--feed`, `--checkpoint DIR` (resume from it: every
//! record is counted exactly once across restarts), and those of every `#[rill::main]`
//! program (`--batch-interval 1s`, `--master local[N]`, default `local[2]`; `--help`).
// Built without either feature, the program only says which one it needs.
#![cfg_attr(
    not(any(feature = "redis", feature = "nats")),
    allow(dead_code, unused)
)]

use rill::prelude::*;
use rill::sink::Sink;
use rill::source::{Message, Source, StartAt};

#[cfg(feature = "nats")]
use rill::sink::JetStreamSink;
#[cfg(feature = "redis")]
use rill::sink::RedisStreamSink;
#[cfg(feature = "nats")]
use rill::source::{JetStreamOptions, ensure_jetstream_stream, jetstream_strings};
#[cfg(feature = "redis")]
use rill::source::{RedisOptions, redis_string_stream};

/// Where the lines come from and where the counts go.
#[derive(rill::clap::Args)]
struct Args {
    /// The broker: redis or nats (each needs the cargo feature of that name).
    #[arg(long, default_value = DEFAULT_BROKER, value_parser = broker)]
    broker: Broker,
    /// The server [default: redis://127.0.0.1:6379, or nats://127.0.0.1:4222].
    #[arg(long)]
    url: Option<String>,
    /// The input streams (Redis keys) or subjects (NATS), comma-separated: one partition each.
    #[arg(long, default_value = "lines", value_delimiter = ',')]
    streams: Vec<String>,
    /// NATS: the JetStream stream holding the input and output subjects (created if missing).
    #[arg(long, default_value = "LINES")]
    stream: String,
    /// Also every stream key (Redis) or subject of the stream (NATS) matching this
    /// pattern, picked up while running.
    #[arg(long)]
    pattern: Option<String>,
    /// The stream (Redis) or subject (NATS) the counts are written to.
    #[arg(long, default_value = "counts")]
    output: String,
    /// The consumer group (Redis) or the prefix of the durable consumers (NATS) whose
    /// position is moved after every batch.
    #[arg(long, default_value = "wordcount")]
    group: String,
    /// Where an input seen for the first time is read from.
    #[arg(long, default_value = "committed", value_parser = start_at)]
    start_at: StartAt,
    /// At most this many records per input and second (0: no cap).
    #[arg(long, default_value_t = 0)]
    max_rate_per_partition: u64,
    /// Write every word's running total (kept in the job's state, checkpointed) at every
    /// batch, instead of each batch's own counts. Keep it the same across restarts.
    #[arg(long)]
    totals: bool,
    /// Write the lines of standard input to the first input stream or subject, and exit
    /// without running the job.
    #[arg(long)]
    feed: bool,
}

/// The brokers this build can talk to.
#[derive(Clone, Copy, Debug)]
enum Broker {
    /// Redis Streams.
    #[cfg(feature = "redis")]
    Redis,
    /// NATS JetStream.
    #[cfg(feature = "nats")]
    Nats,
}

/// `--broker`'s default: Redis, unless this build has only NATS.
const DEFAULT_BROKER: &str = if cfg!(feature = "redis") {
    "redis"
} else {
    "nats"
};

/// A broker of this build, or a usage error naming the feature a known one needs.
fn broker(s: &str) -> Result<Broker, String> {
    match s {
        #[cfg(feature = "redis")]
        "redis" => Ok(Broker::Redis),
        #[cfg(feature = "nats")]
        "nats" => Ok(Broker::Nats),
        // A broker this build leaves out (with both features, none).
        #[allow(unreachable_patterns)]
        "redis" | "nats" if cfg!(not(any(feature = "redis", feature = "nats"))) => Err(
            "this build has no broker: build the example with `--features redis`, \
             `--features nats` or both"
                .into(),
        ),
        #[allow(unreachable_patterns)]
        "redis" | "nats" => Err(format!(
            "this build has no {s} support: build the example with `--features {s}`"
        )),
        other => Err(format!("expected redis or nats, not `{other}`")),
    }
}

fn start_at(s: &str) -> Result<StartAt, String> {
    match s {
        "earliest" => Ok(StartAt::Earliest),
        "latest" => Ok(StartAt::Latest),
        "committed" => Ok(StartAt::Committed),
        other => Err(format!(
            "expected earliest, latest or committed, not `{other}`"
        )),
    }
}

/// Where the counts go: the sink of the broker chosen at run time.
enum Counts {
    /// Appended to a Redis stream.
    #[cfg(feature = "redis")]
    Redis(RedisStreamSink),
    /// Published to a JetStream subject.
    #[cfg(feature = "nats")]
    Nats(JetStreamSink),
}

/// Both sinks take `(key, value)` records: the job's `(word, count)`, and `--feed`'s
/// `(line number, line)`.
macro_rules! counts_sink {
    ($($v:ty),*) => {$(
        impl Sink<(String, $v)> for Counts {
            fn write(&mut self, time: Time, records: Vec<(String, $v)>) -> rill::Result<()> {
                match *self {
                    #[cfg(feature = "redis")]
                    Counts::Redis(ref mut s) => s.write(time, records),
                    #[cfg(feature = "nats")]
                    Counts::Nats(ref mut s) => s.write(time, records),
                }
            }

            fn commit(&mut self, time: Time) -> rill::Result<()> {
                match *self {
                    #[cfg(feature = "redis")]
                    Counts::Redis(ref mut s) => Sink::<(String, $v)>::commit(s, time),
                    #[cfg(feature = "nats")]
                    Counts::Nats(ref mut s) => Sink::<(String, $v)>::commit(s, time),
                }
            }
        }
    )*};
}
counts_sink!(u64, String);

/// The input and the output of the job on the broker `args` name.
fn connect(args: &Args) -> rill::Result<(Box<dyn Source<Message<String>>>, Counts)> {
    let url = args.url.clone().unwrap_or_else(|| default_url(args.broker));
    match args.broker {
        #[cfg(feature = "redis")]
        Broker::Redis => {
            let mut options = RedisOptions::default()
                .group(args.group.clone())
                .start_at(args.start_at)
                .max_rate_per_partition(args.max_rate_per_partition);
            if let Some(pattern) = &args.pattern {
                options = options.pattern(pattern.clone());
            }
            let input = redis_string_stream(&url, args.streams.clone(), options);
            let out = RedisStreamSink::new(&url, args.output.clone())?;
            Ok((Box::new(input), Counts::Redis(out)))
        }
        #[cfg(feature = "nats")]
        Broker::Nats => {
            ensure_stream(&url, args)?;
            let mut options = JetStreamOptions::default()
                .durable(args.group.clone())
                .start_at(args.start_at)
                .max_rate_per_partition(args.max_rate_per_partition);
            if let Some(pattern) = &args.pattern {
                options = options.subjects_matching(pattern.clone());
            }
            let input = jetstream_strings(&url, &args.stream, args.streams.clone(), options);
            let out = JetStreamSink::new(&url, args.output.clone());
            Ok((Box::new(input), Counts::Nats(out)))
        }
    }
}

fn default_url(broker: Broker) -> String {
    match broker {
        #[cfg(feature = "redis")]
        Broker::Redis => "redis://127.0.0.1:6379".into(),
        #[cfg(feature = "nats")]
        Broker::Nats => "nats://127.0.0.1:4222".into(),
    }
}

/// Creates the JetStream stream `--stream` unless it exists, holding the input subjects
/// (those the pattern covers through it) and the output subject.
#[cfg(feature = "nats")]
fn ensure_stream(url: &str, args: &Args) -> rill::Result<()> {
    let mut subjects: Vec<String> = args.pattern.iter().cloned().collect();
    for s in args.streams.iter().chain([&args.output]) {
        let covered = args
            .pattern
            .as_deref()
            .is_some_and(|p| subject_matches(p, s));
        if !covered && !subjects.contains(s) {
            subjects.push(s.clone());
        }
    }
    if ensure_jetstream_stream(url, &args.stream, subjects.clone())? {
        eprintln!(
            "broker_wordcount: created JetStream stream {} holding {}",
            args.stream,
            subjects.join(" ")
        );
    }
    Ok(())
}

/// Whether NATS subject `subject` matches `pattern` (`*` one token, `>` the rest).
#[cfg(feature = "nats")]
fn subject_matches(pattern: &str, subject: &str) -> bool {
    let mut s = subject.split('.');
    for p in pattern.split('.') {
        match (p, s.next()) {
            (">", Some(_)) => return true,
            ("*", Some(_)) => {}
            (p, Some(t)) if p == t => {}
            _ => return false,
        }
    }
    s.next().is_none()
}

/// `--feed`: the lines of standard input, keyed by their number from 1, written to the
/// first input in writes of 10,000 (a Redis append pipeline or a window of JetStream
/// publishes each).
fn feed(args: &Args) -> rill::Result<u64> {
    use std::io::BufRead;
    let Some(first) = args.streams.first() else {
        return Err(rill::Error::Config(
            "--feed needs an input in --streams".into(),
        ));
    };
    let url = args.url.clone().unwrap_or_else(|| default_url(args.broker));
    let mut sink: Counts = match args.broker {
        #[cfg(feature = "redis")]
        Broker::Redis => Counts::Redis(RedisStreamSink::new(&url, first.clone())?),
        #[cfg(feature = "nats")]
        Broker::Nats => {
            ensure_stream(&url, args)?;
            // Message ids of this run's own: no earlier feed's id can make one a duplicate.
            let run = std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .unwrap_or_default()
                .as_nanos();
            Counts::Nats(
                JetStreamSink::new(&url, first.clone())
                    .id_prefix(format!("feed-{}-{run}", std::process::id())),
            )
        }
    };
    let mut lines = std::io::stdin().lock().lines();
    let (mut n, mut write) = (0u64, 0u64);
    loop {
        let mut chunk = Vec::new();
        for line in lines.by_ref().take(10_000) {
            let line = line.map_err(|e| rill::Error::io("reading standard input", e))?;
            n += 1;
            chunk.push((n.to_string(), line));
        }
        if chunk.is_empty() {
            return Ok(n);
        }
        // Each write is a "batch" of its own: the time is the write's number.
        write += 1;
        Sink::<(String, String)>::write(&mut sink, Time(write), chunk)?;
        Sink::<(String, String)>::commit(&mut sink, Time(write))?;
    }
}

#[rill::main(batch_interval = "1s", master = "local[2]")]
fn main(ctx: StreamingContext, args: Args) -> rill::Result<()> {
    if args.feed {
        let n = feed(&args)?;
        println!("broker_wordcount: wrote {n} lines to {}", args.streams[0]);
        // No job to run.
        std::process::exit(0);
    }
    let (input, out) = connect(&args)?;
    if args.totals {
        stream! { ctx;
            let lines = source(input);
            lines
                .flat_map(|m| m.value.split_whitespace().map(str::to_string).collect::<Vec<_>>())
                .map(|w| (w, 1u64))
                .update_state_by_key(|new: Vec<u64>, total: Option<u64>| Some(total.unwrap_or(0) + new.iter().sum::<u64>()))
                .write_to(out);
        }
    } else {
        stream! { ctx;
            let lines = source(input);
            lines
                .flat_map(|m| m.value.split_whitespace().map(str::to_string).collect::<Vec<_>>())
                .map(|w| (w, 1u64))
                .reduce_by_key(|a, b| a + b)
                .write_to(out);
        }
    }
    ctx.start()?;
    println!(
        "broker_wordcount: counting the words of {} into {}{}",
        args.streams.join(","),
        args.output,
        if args.totals { " (running totals)" } else { "" }
    );
    Ok(())
}
