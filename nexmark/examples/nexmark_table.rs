//! Runs every Nexmark query (or those named) over the same generated events twice, with
//! the generator as the source and over events generated beforehand into memory, and
//! prints a table: events per second of wall time, events per CPU-second (the process's
//! user and system time over the run, all threads: the figure per core, which holds on
//! a machine shared with other work), and the peak heap of the run with the generator.
//!
//! ```sh
//! cargo run --release -p rill-nexmark --example nexmark_table -- --events 5000000
//! ```
//!
//! Flags: `--events N` (default 5,000,000), `--per-batch N` (default 250,000),
//! `--cores N` (the context's parallelism and the generator's partitions, default 2),
//! `--queries q0,q3` (default all), `--generator-only` (time the generators alone: the
//! `nexmark` crate's and rill-nexmark's, which make the same events, on one thread).

#[path = "../../tests/support/peak_heap.rs"]
mod peak_heap;

/// The allocator: mimalloc unless built without the default feature `mimalloc`, counted
/// for the peak heap.
#[cfg(feature = "mimalloc")]
#[global_allocator]
static GLOBAL: peak_heap::Tracking<mimalloc::MiMalloc> = peak_heap::Tracking(mimalloc::MiMalloc);
#[cfg(not(feature = "mimalloc"))]
#[global_allocator]
static GLOBAL: peak_heap::Tracking<std::alloc::System> = peak_heap::Tracking(std::alloc::System);

use nexmark::EventGenerator;
use rill::source::queue_stream;
use rill_nexmark::generator::fast::FastGenerator;
use rill_nexmark::harness::manual_context;
use rill_nexmark::queries::{QUERIES, count_rows};
use rill_nexmark::{Config, Event, nexmark};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Instant;

/// One run's figures.
struct Run {
    seconds: f64,
    cpu_seconds: f64,
    rows: u64,
    peak_heap: usize,
}

/// The CPU time (user and system, all threads) this process has used, in seconds, from
/// `/proc/self/stat` (Linux; clock ticks of 1/100 s). Zero where it cannot be read.
fn cpu_seconds() -> f64 {
    let Ok(stat) = std::fs::read_to_string("/proc/self/stat") else {
        return 0.0;
    };
    // The fields after the command name, which is in parentheses: state is the first,
    // utime the 12th, stime the 13th.
    let after = stat.rsplit_once(')').map(|(_, rest)| rest).unwrap_or("");
    let fields: Vec<&str> = after.split_whitespace().collect();
    let ticks = |i: usize| {
        fields
            .get(i)
            .and_then(|f| f.parse::<f64>().ok())
            .unwrap_or(0.0)
    };
    (ticks(11) + ticks(12)) / 100.0
}

/// The load average of the last minute, from `/proc/loadavg`.
fn load() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .ok()
        .and_then(|l| l.split_whitespace().next().map(str::to_string))
        .unwrap_or_else(|| "?".into())
}

/// Runs `query` over the events of `config` from `events` (the generator if `None`).
fn run(
    query: &str,
    config: &Config,
    cores: usize,
    events: Option<Vec<Vec<Event>>>,
) -> rill::Result<Run> {
    let ctx = manual_context(cores)?;
    let rows = Arc::new(AtomicU64::new(0));
    match events {
        Some(batches) => count_rows(query, &ctx, queue_stream(batches), rows.clone())?,
        None => count_rows(query, &ctx, nexmark(config.clone())?, rows.clone())?,
    }
    ctx.start()?;
    let base = peak_heap::start();
    let (started, cpu) = (Instant::now(), cpu_seconds());
    ctx.advance(config.batches() as usize)?;
    let seconds = started.elapsed().as_secs_f64();
    let cpu_seconds = cpu_seconds() - cpu;
    let peak_heap = peak_heap::peak_since(base);
    ctx.stop()?;
    Ok(Run {
        seconds,
        cpu_seconds,
        rows: rows.load(Ordering::Relaxed),
        peak_heap,
    })
}

/// The value of flag `name`, if given.
fn flag(args: &[String], name: &str) -> Option<String> {
    args.iter()
        .position(|a| a == name)
        .and_then(|i| args.get(i + 1).cloned())
}

/// A number flag, or its default; an unreadable number is an error.
fn number(args: &[String], name: &str, default: u64) -> rill::Result<u64> {
    match flag(args, name) {
        Some(v) => v
            .replace('_', "")
            .parse()
            .map_err(|_| rill::Error::Config(format!("{name}: not a number: {v}"))),
        None => Ok(default),
    }
}

fn main() -> rill::Result<()> {
    let args: Vec<String> = std::env::args().collect();
    let events = number(&args, "--events", 5_000_000)?;
    let per_batch = number(&args, "--per-batch", 250_000)?;
    let cores = number(&args, "--cores", 2)? as usize;
    let queries: Vec<String> = match flag(&args, "--queries") {
        Some(q) => q.split(',').map(str::to_string).collect(),
        None => QUERIES.iter().map(|q| q.to_string()).collect(),
    };
    let config = Config::new(events, per_batch).partitions(cores);
    config.validate()?;
    println!(
        "Nexmark on rill: {events} events, {per_batch} a batch, {cores} cores (parallelism and generator partitions); load average {}",
        load()
    );
    // The generator alone, on this thread: the `nexmark` crate's `EventGenerator` and
    // rill-nexmark's (the same events), each making the events a batch at a time and
    // dropping each batch, in the table's batches and in batches of 10,000 (the heap's
    // work differs: glibc's allocator returns a big batch's memory to the system and
    // faults it in again at the next, more or less depending on how it was allocated).
    let nexmark_config = config.nexmark_config();
    let fast = FastGenerator::new(&nexmark_config);
    for size in [per_batch, 10_000] {
        let batches = events.div_ceil(size);
        let bounds = |b: u64| ((b * size).min(events), ((b + 1) * size).min(events));
        let crates = |b: u64| {
            let (from, to) = bounds(b);
            EventGenerator::new(nexmark_config.clone())
                .with_offset(from)
                .take((to - from) as usize)
                .collect::<Vec<Event>>()
        };
        let ours = |b: u64| {
            let (from, to) = bounds(b);
            fast.events(from, to, 1)
        };
        let generators: [(&str, &dyn Fn(u64) -> Vec<Event>); 2] = [
            ("the nexmark crate's generator", &crates),
            ("rill-nexmark's generator", &ours),
        ];
        for (name, generate) in generators {
            let (started, cpu) = (Instant::now(), cpu_seconds());
            let made: usize = (0..batches).map(|b| generate(b).len()).sum();
            let (wall, cpu) = (started.elapsed().as_secs_f64(), cpu_seconds() - cpu);
            assert_eq!(made as u64, events);
            println!(
                "{name} alone on one thread, batches of {size}: {:.2} M events/s, {:.2} M events per CPU-second",
                events as f64 / wall / 1e6,
                events as f64 / cpu.max(0.01) / 1e6
            );
        }
    }
    if args.iter().any(|a| a == "--generator-only") {
        return Ok(());
    }
    let in_memory: Vec<Vec<Event>> = config.all_batches().collect();
    println!();
    println!(
        "| query | rows out | generator included: M events/s | M events per CPU-s | peak heap | generator excluded: M events/s | M events per CPU-s |"
    );
    println!("|---|---:|---:|---:|---:|---:|---:|");
    for q in &queries {
        let generated = run(q, &config, cores, None)?;
        let memory = run(q, &config, cores, Some(in_memory.clone()))?;
        // The rows of the two runs may differ where a query emits every change (q9: the
        // changes of a best bid depend on the order bids arrive in within a batch, which
        // the generator's interleaved partitions and the queue's halves do not share);
        // the tests check that the final states agree.
        let wall = |r: &Run| events as f64 / r.seconds / 1e6;
        let cpu = |r: &Run| events as f64 / r.cpu_seconds.max(0.01) / 1e6;
        println!(
            "| {q} | {} | {:.2} | {:.2} | {:.0} MiB | {:.2} | {:.2} |",
            if generated.rows == memory.rows {
                generated.rows.to_string()
            } else {
                format!("{} / {}", generated.rows, memory.rows)
            },
            wall(&generated),
            cpu(&generated),
            generated.peak_heap as f64 / (1024.0 * 1024.0),
            wall(&memory),
            cpu(&memory),
        );
    }
    println!("\nload average at the end: {}", load());
    Ok(())
}
