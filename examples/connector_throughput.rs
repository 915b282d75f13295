//! Records per second through the connectors, in one run, and where the time goes:
//! S3 objects → rill → PostgreSQL (the pipeline of `examples/s3_to_postgres.rs`) and
//! clicks from a Redis stream → rill → Redis hashes (click counts per item, and the
//! recommender of `examples/recommend.rs` serving hashes).
//!
//! ```text
//! .ci/servers start /tmp/s && . /tmp/s/env
//! cargo run --release --features redis,postgres,object-store --example connector_throughput
//! ```
//!
//! It reads the servers from the variables `.ci/servers` writes (`RILL_TEST_REDIS_URL`,
//! `RILL_TEST_PG_DSN`, `RILL_TEST_S3_ENDPOINT`, `RILL_TEST_S3_BUCKET`; the S3 client's
//! `AWS_*` variables are set from them unless set already). Each pipeline runs on its
//! own context with a manual clock, one after another over the same input, so they do
//! not compete for the two cores: the source alone, the source and rill's operators
//! with a sink that drops what it gets, and the whole pipeline; and each sink alone,
//! written directly with the rows the pipeline wrote. Every line prints records, wall
//! time, records per second and the processing time `batch_infos` reports.

use rill::clap::{self, Parser};
use rill::corpus::Corpus;
use rill::prelude::*;
use rill::sink::{PostgresSink, RedisHashSink, Sink};
use rill::source::{RedisOptions, StartAt, redis_string_stream};
use rill_runtime::store::objects::Prefix;
use std::sync::{Arc, Mutex};
use std::time::Instant;

#[allow(dead_code)]
#[path = "recommend.rs"]
mod recommend;
#[allow(dead_code)]
#[path = "s3_to_postgres.rs"]
mod s3_to_postgres;

/// How much input each half gets.
#[derive(Parser)]
struct Args {
    /// Batches of objects.
    #[arg(long, default_value_t = 5, value_parser = clap::value_parser!(u64).range(1..))]
    object_batches: u64,
    /// Objects put before each batch (64 KiB of corpus lines each).
    #[arg(long, default_value_t = 40)]
    objects_per_batch: usize,
    /// Batches of clicks.
    #[arg(long, default_value_t = 10, value_parser = clap::value_parser!(u64).range(1..))]
    click_batches: u64,
    /// Clicks per batch.
    #[arg(long, default_value_t = 20_000)]
    clicks_per_batch: u64,
    /// Users clicking (uniformly).
    #[arg(long, default_value_t = 20_000)]
    users: u64,
    /// Items clicked (Zipf-distributed, s = 1.1).
    #[arg(long, default_value_t = 10_000)]
    items: usize,
    /// Run only one half: `s3` (S3 -> PostgreSQL) or `redis` (clicks -> Redis).
    #[arg(long, value_parser = ["s3", "redis"])]
    only: Option<String>,
}

/// A sink that keeps every batch's records (to write them again directly) and sends
/// nothing.
#[derive(Clone, Default)]
struct Keep(Arc<Mutex<Vec<(Time, Vec<Vec<(String, u64)>>)>>>);

impl Sink<(String, u64)> for Keep {
    fn write(&mut self, time: Time, records: Vec<(String, u64)>) -> rill::Result<()> {
        self.write_partitions(time, vec![records])
    }
    fn write_partitions(
        &mut self,
        time: Time,
        partitions: Vec<Vec<(String, u64)>>,
    ) -> rill::Result<()> {
        self.0.lock().unwrap().push((time, partitions));
        Ok(())
    }
}

/// A manual-clock context with 1 s batches on two workers.
fn manual() -> StreamingContext {
    StreamingContext::builder()
        .batch_interval(Duration::from_secs(1))
        .parallelism(2)
        .manual_clock()
        .build()
        .expect("a context")
}

/// Wall time and the CPU time of this process (all its threads) spent on something.
#[derive(Clone, Copy, Default)]
struct Spent {
    wall: Duration,
    cpu: Duration,
}

impl std::ops::AddAssign for Spent {
    fn add_assign(&mut self, other: Spent) {
        self.wall += other.wall;
        self.cpu += other.cpu;
    }
}

/// The CPU time this process used so far (user and system, all threads), from
/// `/proc/self/stat`; zero where there is none.
fn cpu_now() -> Duration {
    let Ok(stat) = std::fs::read_to_string("/proc/self/stat") else {
        return Duration::ZERO;
    };
    // The fields after the command name (which may hold spaces) in parentheses.
    let fields: Vec<&str> = stat
        .rsplit_once(')')
        .map_or("", |(_, rest)| rest)
        .split_whitespace()
        .collect();
    let ticks = |i: usize| {
        fields
            .get(i)
            .and_then(|f| f.parse::<u64>().ok())
            .unwrap_or(0)
    };
    // utime and stime are fields 14 and 15 of the line, 12 and 13 after the name; the
    // kernel counts them in USER_HZ, 100 per second on Linux.
    Duration::from_millis((ticks(11) + ticks(12)) * 10)
}

/// Runs `f`, measuring it.
fn measure<R>(f: impl FnOnce() -> R) -> (R, Spent) {
    let (t, cpu) = (Instant::now(), cpu_now());
    let r = f();
    let spent = Spent {
        wall: t.elapsed(),
        cpu: cpu_now().saturating_sub(cpu),
    };
    (r, spent)
}

/// One measured line: what, records, wall and CPU time, and the processing time
/// `batch_infos` reports (`None` for what runs outside a context).
fn report(what: &str, records: u64, unit: &str, spent: Spent, processing: Option<Duration>) {
    let wall = spent.wall.as_secs_f64();
    let processing = processing.map_or(String::new(), |p| {
        format!(", processing {:.2} s", p.as_secs_f64())
    });
    println!(
        "  {what:<48} {records:>9} {unit} in {wall:>6.2} s = {:>9.0} {unit}/s (CPU {:.2} s{processing})",
        records as f64 / wall,
        spent.cpu.as_secs_f64(),
    );
}

/// The total processing time and records of a context's batches.
fn processed(ctx: &StreamingContext) -> (Duration, u64) {
    let infos = ctx.batch_infos();
    (
        infos.iter().map(|b| b.processing_time).sum(),
        infos.iter().map(|b| b.records as u64).sum(),
    )
}

/// Sets the S3 client's variables from `.ci/servers`' unless they are set.
#[allow(unsafe_code)]
fn s3_env() {
    let Ok(endpoint) = std::env::var("RILL_TEST_S3_ENDPOINT") else {
        return;
    };
    if std::env::var_os("AWS_ENDPOINT_URL").is_some() {
        return;
    }
    for (k, v) in [
        ("AWS_ENDPOINT_URL", endpoint.as_str()),
        ("AWS_ACCESS_KEY_ID", "test"),
        ("AWS_SECRET_ACCESS_KEY", "test"),
        ("AWS_REGION", "us-east-1"),
        ("AWS_ALLOW_HTTP", "true"),
    ] {
        // SAFETY: first thing in main, before any other thread exists.
        unsafe { std::env::set_var(k, v) };
    }
}

fn env(var: &str) -> String {
    std::env::var(var).unwrap_or_else(|_| {
        eprintln!("{var} is not set: start the servers (.ci/servers start DIR; . DIR/env)");
        std::process::exit(2)
    })
}

/// A name of this run's own: moto and Redis keep what earlier runs left.
fn unique(what: &str) -> String {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_millis();
    format!("rill-bench-{what}-{}-{nanos}", std::process::id())
}

fn s3_to_postgres(args: &Args) -> rill::Result<()> {
    let (bucket, dsn) = (env("RILL_TEST_S3_BUCKET"), env("RILL_TEST_PG_DSN"));
    let base = unique("s3pg");
    let url = format!("s3://{bucket}/{base}/in/");
    let input = Prefix::open(&url, &bucket, &format!("{base}/in"))?;
    let table = base.replace('-', "_");
    println!("S3 objects -> rill -> PostgreSQL (word totals, upserted when changed)");

    // The source alone, the pipeline without PostgreSQL, the whole pipeline: all
    // started before the objects are put (objects there at the start are not new).
    let read = manual();
    let lines = stream! { read; text_file_stream(url.clone()).count().collect() };
    let keep = Keep::default();
    let compute = manual();
    s3_to_postgres::word_totals(&compute, url.clone(), keep.clone());
    let whole = manual();
    let sink = PostgresSink::new(&dsn, &table)
        .key_column("word")
        .value_columns(["total"])
        .create_table(true);
    s3_to_postgres::word_totals(&whole, url.clone(), sink);
    for ctx in [&read, &compute, &whole] {
        ctx.start()?;
    }

    let mut corpus = Corpus::new(100_000, 1.1, 42);
    let (mut put, mut put_bytes, mut words) = (Spent::default(), 0usize, 0u64);
    let mut spent = [Spent::default(); 3];
    for b in 0..args.object_batches {
        let objects: Vec<(String, Vec<u8>)> = (0..args.objects_per_batch)
            .map(|o| {
                let mut text = String::new();
                while text.len() < 64 * 1024 {
                    corpus.push_line(&mut text);
                    text.push('\n');
                }
                words += text.split_whitespace().count() as u64;
                (format!("b{b:03}-{o:04}.txt"), text.into_bytes())
            })
            .collect();
        put_bytes += objects.iter().map(|(_, d)| d.len()).sum::<usize>();
        let (r, took) = measure(|| input.put_all(objects));
        r?;
        put += took;
        for (ctx, spent) in [&read, &compute, &whole].into_iter().zip(&mut spent) {
            let (r, took) = measure(|| ctx.advance(1));
            r?;
            *spent += took;
        }
    }
    let line_count: u64 = lines.take().concat().iter().sum();
    let objects = args.object_batches * args.objects_per_batch as u64;
    println!(
        "  {objects} objects, {:.1} MB, {line_count} lines, {words} words, {} batches",
        put_bytes as f64 / 1e6,
        args.object_batches
    );
    report("client PUTs (8 at a time)", objects, "objects", put, None);
    let (p, _) = processed(&read);
    report(
        "text_file_stream(...).count()",
        line_count,
        "lines",
        spent[0],
        Some(p),
    );
    let (p, _) = processed(&compute);
    report(
        "word totals, rows dropped",
        line_count,
        "lines",
        spent[1],
        Some(p),
    );
    let (p, _) = processed(&whole);
    report(
        "word totals -> PostgresSink",
        line_count,
        "lines",
        spent[2],
        Some(p),
    );
    report("  the same, in words", words, "words", spent[2], None);
    for ctx in [read, compute, whole] {
        ctx.stop()?;
    }

    // PostgreSQL alone: the rows the pipeline wrote, batch by batch, into a new table.
    let batches = std::mem::take(&mut *keep.0.lock().unwrap());
    let rows: u64 = batches
        .iter()
        .map(|(_, p)| p.iter().map(Vec::len).sum::<usize>() as u64)
        .sum();
    let mut direct = PostgresSink::new(&dsn, format!("{table}_direct"))
        .key_column("word")
        .value_columns(["total"])
        .create_table(true);
    let (r, took) = measure(|| -> rill::Result<()> {
        for (time, partitions) in batches {
            direct.write_partitions(time, partitions)?;
            Sink::<(String, u64)>::commit(&mut direct, time)?;
        }
        Ok(())
    });
    r?;
    report(
        "PostgresSink alone, the same rows",
        rows,
        "rows",
        took,
        None,
    );
    // moto keeps objects while it runs: these go.
    for o in input.list("")? {
        input.delete(&o.key)?;
    }
    let mut pg = postgres::Client::connect(&dsn, postgres::NoTls)
        .map_err(|e| rill::Error::io("connecting", std::io::Error::other(e)))?;
    pg.batch_execute(&format!("DROP TABLE {table}; DROP TABLE {table}_direct"))
        .map_err(|e| rill::Error::io("dropping the tables", std::io::Error::other(e)))?;
    Ok(())
}

fn clicks_to_redis(args: &Args) -> rill::Result<()> {
    let url = env("RILL_TEST_REDIS_URL");
    let stream = unique("clicks");
    let mut c = redis::Client::open(url.as_str())
        .and_then(|c| c.get_connection())
        .map_err(|e| rill::Error::io("connecting to Redis", std::io::Error::other(e)))?;
    let n = args.click_batches * args.clicks_per_batch;
    println!("clicks from a Redis stream -> rill -> Redis hashes");

    // The clicks, appended by the client, pipelined 10,000 at a time.
    let mut items = Corpus::new(args.items, 1.1, 7);
    let mut seed = 0x9e37_79b9_7f4a_7c15u64;
    let mut clicks = Vec::with_capacity(n as usize);
    for _ in 0..n {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        clicks.push(format!("u{},i{}", seed % args.users, items.next_rank()));
    }
    let (r, took) = measure(|| -> rill::Result<()> {
        for chunk in clicks.chunks(10_000) {
            let mut pipe = redis::pipe();
            for click in chunk {
                pipe.cmd("XADD")
                    .arg(&stream)
                    .arg("*")
                    .arg("value")
                    .arg(click)
                    .ignore();
            }
            pipe.exec(&mut c)
                .map_err(|e| rill::Error::io("XADD", std::io::Error::other(e)))?;
        }
        Ok(())
    });
    r?;
    report("client XADDs (pipelined)", n, "clicks", took, None);

    // The client reading them back, 10,000 entries per XRANGE (what the source sends).
    let (r, took) = measure(|| -> rill::Result<u64> {
        let mut from = "-".to_string();
        let mut read = 0u64;
        loop {
            let reply: Vec<(String, Vec<(String, String)>)> = redis::cmd("XRANGE")
                .arg(&stream)
                .arg(&from)
                .arg("+")
                .arg("COUNT")
                .arg(10_000)
                .query(&mut c)
                .map_err(|e| rill::Error::io("XRANGE", std::io::Error::other(e)))?;
            read += reply.len() as u64;
            match reply.last() {
                Some((id, _)) if reply.len() == 10_000 => from = format!("({id}"),
                _ => break,
            }
        }
        Ok(read)
    });
    let read = r?;
    report(
        "client XRANGEs (10,000 entries each)",
        read,
        "clicks",
        took,
        None,
    );

    let options = |group: &str, per_batch: u64| {
        RedisOptions::default()
            .group(format!("{stream}-{group}"))
            .start_at(StartAt::Earliest)
            .max_rate_per_partition(per_batch)
    };
    let input = |group: &str| {
        redis_string_stream(
            &url,
            [stream.clone()],
            options(group, args.clicks_per_batch),
        )
    };
    let run = |what: &str, ctx: &StreamingContext, batches: u64| -> rill::Result<()> {
        ctx.start()?;
        let (r, took) = measure(|| ctx.advance(batches as usize));
        r?;
        let (p, records) = processed(ctx);
        assert_eq!(records, n, "{what}: every click read");
        report(what, n, "clicks", took, Some(p));
        Ok(())
    };

    // The source alone: all clicks in one batch, then in batches of --clicks-per-batch.
    let one = manual();
    let source = redis_string_stream(&url, [stream.clone()], options("one", n));
    let _count = stream! { one; source(source).count().collect() };
    run("redis_string_stream(...).count(), one batch", &one, 1)?;
    one.stop()?;
    let read = manual();
    let source = input("read");
    let _count = stream! { read; source(source).count().collect() };
    let what = format!("the same, {} batches", args.click_batches);
    run(&what, &read, args.click_batches)?;
    read.stop()?;

    let keep = Keep::default();
    let compute = manual();
    per_item(&compute, input("compute"), keep.clone());
    run(
        "clicks per item, rows dropped",
        &compute,
        args.click_batches,
    )?;
    compute.stop()?;
    let hash = format!("{stream}-per-item");
    let whole = manual();
    per_item(&whole, input("hash"), RedisHashSink::new(&url, &hash)?);
    run(
        "clicks per item -> RedisHashSink (HSET)",
        &whole,
        args.click_batches,
    )?;
    whole.stop()?;

    let batches = std::mem::take(&mut *keep.0.lock().unwrap());
    let fields: u64 = batches
        .iter()
        .map(|(_, p)| p.iter().map(Vec::len).sum::<usize>() as u64)
        .sum();
    let mut direct = RedisHashSink::new(&url, format!("{hash}-direct"))?;
    let (r, took) = measure(|| -> rill::Result<()> {
        for (time, partitions) in batches {
            direct.write_partitions(time, partitions)?;
            Sink::<(String, u64)>::commit(&mut direct, time)?;
        }
        Ok(())
    });
    r?;
    report(
        "RedisHashSink alone, the same fields",
        fields,
        "fields",
        took,
        None,
    );

    // The recommender: co-occurrences within 60 s, each changed item's top 10 replaced
    // in its hash.
    let prefix = format!("{stream}-related:");
    let rec = manual();
    let served = recommend::Served::new(&url, &prefix, true)?;
    recommend::recommender(
        &rec,
        input("recommend"),
        Duration::from_secs(60),
        10,
        served,
    );
    run(
        "recommender -> RedisHashSink (top 10 per item)",
        &rec,
        args.click_batches,
    )?;
    rec.stop()?;

    let mut keys: Vec<String> = redis::cmd("KEYS")
        .arg(format!("{stream}*"))
        .query(&mut c)
        .map_err(|e| rill::Error::io("KEYS", std::io::Error::other(e)))?;
    keys.sort();
    for chunk in keys.chunks(1000) {
        let _: () = redis::cmd("DEL")
            .arg(chunk)
            .query(&mut c)
            .map_err(|e| rill::Error::io("DEL", std::io::Error::other(e)))?;
    }
    Ok(())
}

/// Clicks per item from `input`, the counts a batch changed written to `out` (one hash
/// with [`RedisHashSink`]: `HGETALL`).
fn per_item(
    ctx: &StreamingContext,
    input: impl rill::source::Source<rill::source::Message<String>>,
    out: impl Sink<(String, u64)>,
) {
    stream! { ctx;
        source(input)
            .flat_map(|m| recommend::parse_click(&m.value))
            .map(|(_, item)| (item, 1u64))
            .update_state_by_key(|new: Vec<u64>, total: Option<(u64, bool)>| {
                let before = total.map_or(0, |(n, _)| n);
                Some((before + new.iter().sum::<u64>(), !new.is_empty()))
            })
            .filter(|(_, (_, changed))| *changed)
            .map(|(item, (n, _))| (item, n))
            .write_to(out);
    }
}

fn main() -> rill::Result<()> {
    s3_env();
    let args = Args::parse();
    if let Ok(load) = std::fs::read_to_string("/proc/loadavg") {
        println!("load average at the start: {}", load.trim());
    }
    if args.only.as_deref() != Some("redis") {
        s3_to_postgres(&args)?;
    }
    if args.only.as_deref() != Some("s3") {
        clicks_to_redis(&args)?;
    }
    Ok(())
}
