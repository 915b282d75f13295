//! Nexmark queries in events per second: with the generator as the source ("generated"),
//! and over events generated beforehand ("in memory"), 200,000 events in 4 batches on a
//! manual clock with parallelism 2. `examples/nexmark_table.rs` prints the larger table
//! of BENCHMARKS.md, peak memory included.

use criterion::{BatchSize, Criterion, Throughput, criterion_group, criterion_main};
use rill::source::queue_stream;
use rill_nexmark::harness::manual_context;
use rill_nexmark::queries::{QUERIES, count_rows};
use rill_nexmark::{Config, Event, nexmark};
use std::sync::Arc;
use std::sync::atomic::AtomicU64;

/// The same allocator as the table's (mimalloc, unless built without the default
/// feature `mimalloc`).
#[cfg(feature = "mimalloc")]
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

const EVENTS: u64 = 200_000;
const PER_BATCH: u64 = 50_000;
const CORES: usize = 2;

fn config() -> Config {
    Config::new(EVENTS, PER_BATCH).partitions(CORES)
}

/// Defines `query` over `events` (the generator if `None`) and runs every batch.
fn run(query: &str, events: Option<Vec<Vec<Event>>>) -> rill::Result<()> {
    let ctx = manual_context(CORES)?;
    let rows = Arc::new(AtomicU64::new(0));
    match events {
        Some(batches) => count_rows(query, &ctx, queue_stream(batches), rows)?,
        None => count_rows(query, &ctx, nexmark(config())?, rows)?,
    }
    ctx.start()?;
    ctx.advance(config().batches() as usize)?;
    ctx.stop()
}

fn queries(c: &mut Criterion) {
    let in_memory: Vec<Vec<Event>> = config().all_batches().collect();
    let mut g = c.benchmark_group("nexmark");
    g.throughput(Throughput::Elements(EVENTS));
    g.sample_size(10);
    for q in QUERIES {
        g.bench_function(format!("{q}/generated"), |b| {
            b.iter(|| run(q, None).expect("runs"))
        });
        g.bench_function(format!("{q}/in_memory"), |b| {
            b.iter_batched(
                || in_memory.clone(),
                |events| run(q, Some(events)).expect("runs"),
                BatchSize::PerIteration,
            )
        });
    }
    g.finish();
}

criterion_group!(benches, queries);
criterion_main!(benches);
