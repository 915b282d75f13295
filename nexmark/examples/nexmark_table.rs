//! Runs every Nexmark query (or those named) over the same generated events twice, with
//! the generator as the source and over events generated beforehand into memory, and
//! prints a table: events per second, per core, and the peak heap of the run.
//!
//! ```sh
//! cargo run --release -p rill-nexmark --example nexmark_table -- --events 5000000
//! ```
//!
//! Flags: `--events N` (default 5,000,000), `--per-batch N` (default 250,000),
//! `--cores N` (the context's parallelism and the generator's partitions, default 2),
//! `--queries q0,q3` (default all).

#[path = "../../tests/support/peak_heap.rs"]
mod peak_heap;

use rill::source::queue_stream;
use rill_nexmark::harness::manual_context;
use rill_nexmark::queries::{QUERIES, count_rows};
use rill_nexmark::{Config, Event, nexmark};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Instant;

/// One run's figures.
struct Run {
    seconds: f64,
    rows: u64,
    peak_heap: usize,
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
    let started = Instant::now();
    ctx.advance(config.batches() as usize)?;
    let seconds = started.elapsed().as_secs_f64();
    let peak_heap = peak_heap::peak_since(base);
    ctx.stop()?;
    Ok(Run {
        seconds,
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
        "Nexmark on rill: {events} events, {per_batch} a batch, {cores} cores (parallelism and generator partitions)"
    );
    let started = Instant::now();
    let in_memory: Vec<Vec<Event>> = config.all_batches().collect();
    let gen_seconds = started.elapsed().as_secs_f64();
    println!(
        "generating them on one thread alone: {:.2} s, {:.2} M events/s",
        gen_seconds,
        events as f64 / gen_seconds / 1e6
    );
    println!();
    println!(
        "| query | rows out | generator included: M events/s | per core | peak heap | generator excluded: M events/s | per core | peak heap |"
    );
    println!("|---|---:|---:|---:|---:|---:|---:|---:|");
    for q in &queries {
        let generated = run(q, &config, cores, None)?;
        let memory = run(q, &config, cores, Some(in_memory.clone()))?;
        if generated.rows != memory.rows {
            return Err(rill::Error::Pipeline(format!(
                "{q}: {} rows from the generator, {} from memory",
                generated.rows, memory.rows
            )));
        }
        let rate = |r: &Run| events as f64 / r.seconds / 1e6;
        let mib = |b: usize| b as f64 / (1024.0 * 1024.0);
        println!(
            "| {q} | {} | {:.2} | {:.2} | {:.0} MiB | {:.2} | {:.2} | {:.0} MiB |",
            generated.rows,
            rate(&generated),
            rate(&generated) / cores as f64,
            mib(generated.peak_heap),
            rate(&memory),
            rate(&memory) / cores as f64,
            mib(memory.peak_heap),
        );
    }
    Ok(())
}
