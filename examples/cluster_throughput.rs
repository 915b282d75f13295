//! Word count throughput on one process or a cluster of processes, on the same corpus:
//! `--batches` batches of `--lines` lines of the Zipf corpus (`rill::corpus`), queued
//! and run back to back on a manual clock; the counts of each batch are handed to
//! `for_each_batch` (on a cluster, gathered to process 0). Process 0 prints lines/s and
//! words/s.
//!
//! ```text
//! cargo run --release --features cluster --example cluster_throughput -- --master 'local[2]'
//! cargo run --release --features cluster --example cluster_throughput -- --master 'local-cluster[1]'
//! cargo run --release --features cluster --example cluster_throughput -- --master 'local-cluster[2]'
//! ```
//!
//! Every process builds the same queue (a replicated source) and keeps the partitions it
//! owns, so the figures are the processing's, not the input's: no receiver feeds them.
//! Every process also prints the CPU time it spent in the measured batches (user and
//! system, from `/proc/self/stat`) to stderr: on a loaded machine the sum over the
//! processes is a steadier measure of the cluster path's cost than the wall time.

use rill::corpus::{Corpus, WORDS_PER_LINE};
use rill::prelude::*;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Instant;

/// The corpus and how much of it to run.
#[derive(rill::clap::Args)]
struct Args {
    /// Lines per batch.
    #[arg(long, default_value_t = 100_000)]
    lines: usize,
    /// Batches to run (after one warm-up batch).
    #[arg(long, default_value_t = 20)]
    batches: usize,
}

fn manual(b: Builder, _: &Args) -> Builder {
    b.manual_clock()
}

#[rill::main(batch_interval = "1s", master = "local[2]", configure = manual)]
fn main(ctx: StreamingContext, args: Args) -> rill::Result<()> {
    let corpus = Corpus::new(100_000, 1.1, 42);
    let queued: Vec<Vec<String>> = (0..=args.batches)
        .map(|_| corpus.lines(args.lines))
        .collect();
    let distinct = Arc::new(AtomicUsize::new(0));
    let seen = distinct.clone();
    stream! { ctx;
        let lines = queue_stream(queued);
        lines
            .flat_map(|l| l.split(' '))
            .map(|w| (w, 1u64))
            .reduce_by_key(|a, b| a + b)
            .for_each_batch(move |_, counts| { seen.fetch_add(counts.len(), Ordering::Relaxed); });
    }
    ctx.start()?;
    ctx.advance(1)?; // warm-up
    let cpu = cpu_seconds();
    let started = Instant::now();
    ctx.advance(args.batches)?;
    let elapsed = started.elapsed().as_secs_f64();
    let cpu = cpu_seconds() - cpu;
    ctx.stop()?;
    let process = cluster_process(&ctx);
    eprintln!("process {process}: {cpu:.2} s of CPU in the measured batches");
    if process == 0 {
        let lines = (args.lines * args.batches) as f64;
        println!(
            "{} batches of {} lines in {elapsed:.3} s: {:.2} M lines/s, {:.1} M words/s ({} distinct words per batch on average)",
            args.batches,
            args.lines,
            lines / elapsed / 1e6,
            lines * WORDS_PER_LINE as f64 / elapsed / 1e6,
            distinct.load(Ordering::Relaxed) / (args.batches + 1),
        );
    }
    Ok(())
}

/// This process's CPU time so far (user and system), in seconds; 0 where `/proc` is not.
fn cpu_seconds() -> f64 {
    let Ok(stat) = std::fs::read_to_string("/proc/self/stat") else {
        return 0.0;
    };
    // The fields after the command name (which may hold spaces) in parentheses.
    let fields: Vec<&str> = stat
        .rsplit_once(')')
        .map_or(Vec::new(), |(_, rest)| rest.split_whitespace().collect());
    let ticks = |i: usize| {
        fields
            .get(i)
            .and_then(|f| f.parse::<f64>().ok())
            .unwrap_or(0.0)
    };
    // utime and stime are fields 14 and 15 of the line, 12 and 13 after the name;
    // the kernel counts them in clock ticks of 1/100 s.
    (ticks(11) + ticks(12)) / 100.0
}

#[cfg(feature = "cluster")]
fn cluster_process(ctx: &StreamingContext) -> usize {
    ctx.cluster_process().map_or(0, |(i, _)| i)
}

#[cfg(not(feature = "cluster"))]
fn cluster_process(_: &StreamingContext) -> usize {
    0
}
