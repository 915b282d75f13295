//! Broker → rill → broker throughput: the word count of `broker_wordcount` over a backlog
//! of corpus lines in Redis Streams or NATS JetStream, counts written back to the broker,
//! timed from the job's start until the counts of every line are written, with where the
//! time went.
//!
//! ```text
//! cargo run --release --features redis,nats --example broker_throughput -- --broker redis
//! cargo run --release --features redis,nats --example broker_throughput -- --broker nats --lines 500000
//! ```
//!
//! It writes `--lines` lines of the Zipf corpus (10 words each, as the `throughput`
//! example sends over its socket) to `--partitions` fresh inputs through the broker's
//! sink, timed (the broker write rate); then runs the job (`flat_map` into words,
//! `reduce_by_key`, the counts written to the broker) with every batch taking
//! `--max-rate-per-partition` × interval lines from each input (0: the whole backlog in
//! one batch), so batches run back to back at the job's own pace. It prints lines and
//! words per second, the CPU time this process used meanwhile, each batch's processing
//! time, and splits the batches' processing time into the sink's writes (timed by a
//! wrapper), rill's own work (the same batches run again from memory through the same
//! pipeline, with the sink's counting but not its writes) and the rest, mostly the broker
//! reads; then it reads the backlog once more, from a fresh consumer group, in batches as
//! large, only counting the lines, and prints the time those reads take alone. (The cut
//! of each batch, on the clock's thread, and the commit of its offsets to the broker
//! after it are outside its processing time, but they load the same broker meanwhile.)
//! It deletes what it wrote (the Redis keys, the JetStream stream) at the end.
// Built without either feature, the program only says which one it needs.
#![cfg_attr(
    not(any(feature = "redis", feature = "nats")),
    allow(dead_code, unused)
)]

use rill::corpus::Corpus;
use rill::metrics::percentile;
use rill::prelude::*;
use rill::sink::Sink;
use rill::source::{Message, Source, StartAt};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Instant;

#[cfg(feature = "nats")]
use rill::sink::JetStreamSink;
#[cfg(feature = "redis")]
use rill::sink::RedisStreamSink;
#[cfg(feature = "nats")]
use rill::source::{JetStreamOptions, ensure_jetstream_stream, jetstream_strings};
#[cfg(feature = "redis")]
use rill::source::{RedisOptions, redis_string_stream};

/// The broker, the backlog and the batches.
#[derive(rill::clap::Args)]
struct Args {
    /// redis or nats (each needs the cargo feature of that name).
    #[arg(long, default_value = "redis")]
    broker: String,
    /// The server [default: redis://127.0.0.1:6379, or nats://127.0.0.1:4222].
    #[arg(long)]
    url: Option<String>,
    /// Lines in the backlog (10 words each).
    #[arg(long, default_value_t = 1_000_000)]
    lines: usize,
    /// Inputs the backlog is spread over (one partition each).
    #[arg(long, default_value_t = 2)]
    partitions: usize,
    /// Lines each batch takes from each input per second of batch interval (0: all).
    #[arg(long, default_value_t = 100_000)]
    max_rate_per_partition: u64,
}

/// The sink of the broker, written to by the feed and the job.
enum Out {
    /// Appended to a Redis stream.
    #[cfg(feature = "redis")]
    Redis(RedisStreamSink),
    /// Published to a JetStream subject.
    #[cfg(feature = "nats")]
    Nats(JetStreamSink),
}

/// Both sinks take `(key, value)` records: the job's `(word, count)`, and the feed's
/// `(line number, line)`.
macro_rules! out_sink {
    ($($v:ty),*) => {$(
        impl Sink<(String, $v)> for Out {
            fn write(&mut self, time: Time, records: Vec<(String, $v)>) -> rill::Result<()> {
                match *self {
                    #[cfg(feature = "redis")]
                    Out::Redis(ref mut s) => s.write(time, records),
                    #[cfg(feature = "nats")]
                    Out::Nats(ref mut s) => s.write(time, records),
                }
            }

            fn commit(&mut self, time: Time) -> rill::Result<()> {
                match *self {
                    #[cfg(feature = "redis")]
                    Out::Redis(ref mut s) => Sink::<(String, $v)>::commit(s, time),
                    #[cfg(feature = "nats")]
                    Out::Nats(ref mut s) => Sink::<(String, $v)>::commit(s, time),
                }
            }
        }
    )*};
}
out_sink!(u64, String);

/// What the job's sink did: words counted, records written, time spent writing, and
/// the words of every batch that had any.
#[derive(Default)]
struct Written {
    words: AtomicU64,
    records: AtomicU64,
    nanos: AtomicU64,
    batches: std::sync::Mutex<Vec<(Time, u64)>>,
}

/// A sink that counts the words of every batch and times the broker's writes (`write`
/// and `commit`: the Redis sink appends at the commit, the JetStream sink publishes at
/// the write). Without a sink inside, it only counts.
struct Timed {
    out: Option<Out>,
    written: Arc<Written>,
}

impl Sink<(String, u64)> for Timed {
    fn write(&mut self, time: Time, records: Vec<(String, u64)>) -> rill::Result<()> {
        let words: u64 = records.iter().map(|(_, n)| n).sum();
        let n = records.len() as u64;
        let started = Instant::now();
        if let Some(out) = &mut self.out {
            out.write(time, records)?;
        }
        self.written
            .nanos
            .fetch_add(started.elapsed().as_nanos() as u64, Ordering::Relaxed);
        self.written.records.fetch_add(n, Ordering::Relaxed);
        self.written.words.fetch_add(words, Ordering::Relaxed);
        if words > 0 {
            let mut batches = self
                .written
                .batches
                .lock()
                .unwrap_or_else(|e| e.into_inner());
            batches.push((time, words));
        }
        Ok(())
    }

    fn commit(&mut self, time: Time) -> rill::Result<()> {
        let started = Instant::now();
        if let Some(out) = &mut self.out {
            Sink::<(String, u64)>::commit(out, time)?;
        }
        self.written
            .nanos
            .fetch_add(started.elapsed().as_nanos() as u64, Ordering::Relaxed);
        Ok(())
    }
}

/// The inputs and the output on the broker, and how to remove them.
struct Setup {
    inputs: Vec<String>,
    output: String,
    url: String,
    /// The JetStream stream holding the subjects.
    #[cfg_attr(not(feature = "nats"), allow(dead_code))]
    stream: String,
}

fn setup(args: &Args) -> rill::Result<Setup> {
    let tag = format!("rill-bench-{}", std::process::id());
    let (url, stream) = match args.broker.as_str() {
        #[cfg(feature = "redis")]
        "redis" => (
            args.url.clone().unwrap_or("redis://127.0.0.1:6379".into()),
            String::new(),
        ),
        #[cfg(feature = "nats")]
        "nats" => (
            args.url.clone().unwrap_or("nats://127.0.0.1:4222".into()),
            format!("RILL_BENCH_{}", std::process::id()),
        ),
        other => {
            return Err(rill::Error::Config(format!(
                "--broker {other}: this build has {}",
                if cfg!(any(feature = "redis", feature = "nats")) {
                    "redis (feature redis) and/or nats (feature nats) only"
                } else {
                    "no broker: build it with --features redis,nats"
                }
            )));
        }
    };
    let s = Setup {
        inputs: (0..args.partitions)
            .map(|i| format!("{tag}.in{i}"))
            .collect(),
        output: format!("{tag}.out"),
        url,
        stream,
    };
    #[cfg(feature = "nats")]
    if args.broker == "nats" {
        let mut subjects = s.inputs.clone();
        subjects.push(s.output.clone());
        ensure_jetstream_stream(&s.url, &s.stream, subjects)?;
    }
    Ok(s)
}

impl Setup {
    /// The broker's sink writing to `to`.
    fn sink(&self, broker: &str, to: &str) -> rill::Result<Out> {
        match broker {
            #[cfg(feature = "redis")]
            "redis" => Ok(Out::Redis(RedisStreamSink::new(&self.url, to)?)),
            #[cfg(feature = "nats")]
            "nats" => Ok(Out::Nats(
                JetStreamSink::new(&self.url, to).id_prefix(format!("{to}-bench")),
            )),
            other => unreachable!("broker {other} was checked by setup"),
        }
    }

    /// The job's source: every input from its first record, `rate` a second at most,
    /// committed in the consumer group (or durable consumers) `group`.
    fn source(&self, broker: &str, rate: u64, group: &str) -> Box<dyn Source<Message<String>>> {
        match broker {
            #[cfg(feature = "redis")]
            "redis" => Box::new(redis_string_stream(
                &self.url,
                self.inputs.clone(),
                RedisOptions::default()
                    .group(group)
                    .start_at(StartAt::Earliest)
                    .max_rate_per_partition(rate),
            )),
            #[cfg(feature = "nats")]
            "nats" => Box::new(jetstream_strings(
                &self.url,
                &self.stream,
                self.inputs.clone(),
                JetStreamOptions::default()
                    .durable(group)
                    .start_at(StartAt::Earliest)
                    .max_rate_per_partition(rate),
            )),
            other => unreachable!("broker {other} was checked by setup"),
        }
    }

    /// Removes the inputs and the output (the Redis keys, or the JetStream stream).
    fn remove(&self, broker: &str) {
        #[cfg(feature = "redis")]
        if broker == "redis" {
            if let Ok(mut c) =
                redis::Client::open(self.url.as_str()).and_then(|c| c.get_connection())
            {
                for k in self.inputs.iter().chain([&self.output]) {
                    let _: redis::RedisResult<()> = redis::cmd("UNLINK").arg(k).query(&mut c);
                }
            }
        }
        #[cfg(feature = "nats")]
        if broker == "nats" {
            use rill_runtime::connectors::nats::client::{async_nats, tokio};
            if let Ok(rt) = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
            {
                rt.block_on(async {
                    if let Ok(client) = async_nats::connect(&self.url).await {
                        let js = async_nats::jetstream::new(client);
                        let _ = js.delete_stream(&self.stream).await;
                    }
                });
            }
        }
    }
}

/// Writes `lines` round-robin over the inputs, one thread and sink per input, in writes of
/// 10,000 lines; returns how long it took.
fn feed(args: &Args, setup: &Setup, lines: &[String]) -> rill::Result<Duration> {
    let started = Instant::now();
    let parts = setup.inputs.len();
    std::thread::scope(|scope| {
        let writers: Vec<_> = setup
            .inputs
            .iter()
            .enumerate()
            .map(|(i, input)| {
                scope.spawn(move || -> rill::Result<()> {
                    let mut sink = setup.sink(&args.broker, input)?;
                    let mine: Vec<&String> = lines.iter().skip(i).step_by(parts).collect();
                    for (w, chunk) in mine.chunks(10_000).enumerate() {
                        let records: Vec<(String, String)> = chunk
                            .iter()
                            .enumerate()
                            .map(|(j, l)| ((w * 10_000 + j).to_string(), (*l).clone()))
                            .collect();
                        let time = Time(w as u64 + 1);
                        Sink::<(String, String)>::write(&mut sink, time, records)?;
                        Sink::<(String, String)>::commit(&mut sink, time)?;
                    }
                    Ok(())
                })
            })
            .collect();
        writers
            .into_iter()
            .try_for_each(|w| w.join().expect("a feeding thread panicked"))
    })?;
    Ok(started.elapsed())
}

fn secs(d: Duration) -> f64 {
    d.as_secs_f64()
}

/// CPU time (user and system) this process used so far, from `/proc/self/stat` (Linux;
/// zero elsewhere), in the 1/100 s ticks `/proc` counts in.
fn cpu_time() -> Duration {
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
    // The fields after the command name, which is in parentheses and may hold spaces.
    let fields: Vec<&str> = stat
        .rsplit_once(')')
        .map_or(Vec::new(), |(_, rest)| rest.split_whitespace().collect());
    let ticks = |i: usize| {
        fields
            .get(i)
            .and_then(|f| f.parse::<u64>().ok())
            .unwrap_or(0)
    };
    // utime and stime are the 14th and 15th fields, the 12th and 13th after the name.
    Duration::from_millis((ticks(11) + ticks(12)) * 10)
}

#[rill::main(batch_interval = "1s", master = "local[2]")]
fn main(ctx: StreamingContext, args: Args) -> rill::Result<()> {
    let setup = setup(&args)?;
    let result = run(&ctx, &args, &setup);
    setup.remove(&args.broker);
    result
}

fn run(ctx: &StreamingContext, args: &Args, setup: &Setup) -> rill::Result<()> {
    let lines = Corpus::new(100_000, 1.1, 42).lines(args.lines);
    let words: u64 = lines.iter().map(|l| l.split(' ').count() as u64).sum();
    let fed = feed(args, setup, &lines)?;
    println!(
        "broker_throughput {}: {} lines ({words} words) over {} inputs",
        args.broker,
        lines.len(),
        setup.inputs.len()
    );
    println!(
        "feed: written through the broker's sink in {:.2} s: {:.0} lines/s",
        secs(fed),
        lines.len() as f64 / secs(fed)
    );

    let written = Arc::new(Written::default());
    let sink = Timed {
        out: Some(setup.sink(&args.broker, &setup.output)?),
        written: written.clone(),
    };
    let input = setup.source(&args.broker, args.max_rate_per_partition, "bench");
    stream! { ctx;
        source(input)
            .flat_map(|m| m.value.split(' ').map(str::to_string).collect::<Vec<_>>())
            .map(|w| (w, 1u64))
            .reduce_by_key(|a, b| a + b)
            .write_to(sink);
    }
    let (started, cpu) = (Instant::now(), cpu_time());
    ctx.start()?;
    while written.words.load(Ordering::Relaxed) < words {
        std::thread::sleep(Duration::from_millis(5));
        if started.elapsed() > Duration::from_secs(3600) {
            return Err(rill::Error::Pipeline("not done within an hour".into()));
        }
    }
    let (wall, cpu) = (started.elapsed(), cpu_time().saturating_sub(cpu));
    ctx.stop()?;
    let batches = written
        .batches
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .clone();
    // The batches that had lines; the corpus has the same number of words in every line.
    let per_line = (words / lines.len().max(1) as u64).max(1);
    let sizes: Vec<usize> = batches
        .iter()
        .map(|(_, w)| (w / per_line) as usize)
        .collect();
    let processing: Vec<Duration> = ctx
        .batch_infos()
        .iter()
        .filter(|b| batches.iter().any(|(t, _)| *t == b.time))
        .map(|b| b.processing_time)
        .collect();
    let busy: Duration = processing.iter().sum();
    let writing = Duration::from_nanos(written.nanos.load(Ordering::Relaxed));

    // rill alone: the same batches of messages from memory, the same pipeline, counted
    // but not written.
    let alone = rill_alone(ctx, setup, &lines, &sizes)?;
    // The broker's reads alone: the same backlog, batches and source, only counted.
    let reads = reads_alone(ctx, args, setup, lines.len() as u64)?;

    println!(
        "job: {:.2} s from start to the last count written: {:.0} lines/s, {:.2} M words/s; \
         {} batches of up to {} lines, processing p50 {:.0} ms, p99 {:.0} ms, busy {:.0}% of the time; \
         this process used {:.2} s of CPU ({:.0}% of one core)",
        secs(wall),
        lines.len() as f64 / secs(wall),
        words as f64 / secs(wall) / 1e6,
        sizes.len(),
        sizes.iter().max().unwrap_or(&0),
        secs(percentile(&processing, 0.5)) * 1e3,
        secs(percentile(&processing, 0.99)) * 1e3,
        100.0 * secs(busy) / secs(wall),
        secs(cpu),
        100.0 * secs(cpu) / secs(wall),
    );
    let each: Vec<String> = processing
        .iter()
        .map(|d| format!("{:.0}", secs(*d) * 1e3))
        .collect();
    println!("processing time of each batch, ms: {}", each.join(" "));
    let rest = busy.saturating_sub(writing).saturating_sub(alone);
    let share = |d: Duration| 100.0 * secs(d) / secs(busy);
    println!(
        "where the batches' {:.2} s went: broker writes (the sink, {} records) {:.2} s ({:.0}%), \
         rill's own work (the same batches from memory) {:.2} s ({:.0}%), broker reads and the rest {:.2} s ({:.0}%)",
        secs(busy),
        written.records.load(Ordering::Relaxed),
        secs(writing),
        share(writing),
        secs(alone),
        share(alone),
        secs(rest),
        share(rest),
    );
    let each: Vec<String> = reads
        .iter()
        .map(|d| format!("{:.0}", secs(*d) * 1e3))
        .collect();
    let read_time: Duration = reads.iter().sum();
    println!(
        "the broker's reads alone (the backlog read again in the same batches, only counted): {:.2} s, \
         {:.0} lines/s; each batch, ms: {}",
        secs(read_time),
        lines.len() as f64 / secs(read_time),
        each.join(" ")
    );
    Ok(())
}

/// The processing time of every batch of a job that reads the whole backlog again, from a
/// fresh consumer group, in batches as large as the job's, and only counts the lines.
fn reads_alone(
    ctx: &StreamingContext,
    args: &Args,
    setup: &Setup,
    lines: u64,
) -> rill::Result<Vec<Duration>> {
    let reader = StreamingContext::builder()
        .batch_interval(ctx.batch_interval())
        .parallelism(ctx.parallelism())
        .build()?;
    let read = Arc::new(AtomicU64::new(0));
    let with_lines = Arc::new(std::sync::Mutex::new(Vec::new()));
    let (counted, times) = (read.clone(), with_lines.clone());
    let input = setup.source(&args.broker, args.max_rate_per_partition, "bench-reads");
    stream! { reader;
        source(input).count().for_each_batch(move |time, n| {
            let n = n.iter().sum::<u64>();
            if n > 0 {
                counted.fetch_add(n, Ordering::Relaxed);
                times.lock().unwrap_or_else(|e| e.into_inner()).push(time);
            }
        });
    }
    reader.start()?;
    while read.load(Ordering::Relaxed) < lines {
        std::thread::sleep(Duration::from_millis(5));
    }
    reader.stop()?;
    let times = with_lines.lock().unwrap_or_else(|e| e.into_inner()).clone();
    Ok(reader
        .batch_infos()
        .iter()
        .filter(|b| times.contains(&b.time))
        .map(|b| b.processing_time)
        .collect())
}

/// The processing time of the batches `sizes` (lines each) of `lines`, as messages from
/// memory through the job's pipeline, into a sink that counts without writing.
fn rill_alone(
    ctx: &StreamingContext,
    setup: &Setup,
    lines: &[String],
    sizes: &[usize],
) -> rill::Result<Duration> {
    let parts = setup.inputs.len();
    let mut batches = Vec::new();
    let mut at = 0;
    for &n in sizes {
        let batch: Vec<Message<String>> = lines[at..(at + n).min(lines.len())]
            .iter()
            .enumerate()
            .map(|(j, l)| Message {
                key: Some((at + j).to_string()),
                value: l.clone(),
                partition: setup.inputs[(at + j) % parts].clone(),
                offset: (at + j).to_string(),
                timestamp: None,
            })
            .collect();
        at += n;
        batches.push(batch);
    }
    let alone = StreamingContext::builder()
        .batch_interval(ctx.batch_interval())
        .parallelism(ctx.parallelism())
        .manual_clock()
        .build()?;
    let sink = Timed {
        out: None,
        written: Arc::default(),
    };
    let n = batches.len();
    stream! { alone;
        queue_stream(batches)
            .flat_map(|m| m.value.split(' ').map(str::to_string).collect::<Vec<_>>())
            .map(|w| (w, 1u64))
            .reduce_by_key(|a, b| a + b)
            .write_to(sink);
    }
    alone.start()?;
    alone.advance(n)?;
    let time = alone.batch_infos().iter().map(|b| b.processing_time).sum();
    alone.stop()?;
    Ok(time)
}
