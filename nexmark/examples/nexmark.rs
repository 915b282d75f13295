//! Runs one Nexmark query on a generated stream in real time and prints what each batch
//! emits (how many rows, and the first few).
//!
//! ```sh
//! cargo run --release -p rill-nexmark --example nexmark -- --query q3 --rate 100000
//! ```
//!
//! Flags: `--query q0|q1|...|q9|q11|q12` (default q0), `--rate N` events per second
//! (default 10,000; also the event-time rate), `--events N` in all (default 10 M),
//! `--batch-interval MS` (default 1000), `--parallelism N` (default 2), `--show N` rows
//! a batch (default 3).

use rill::prelude::*;
use rill_nexmark::queries::{QUERIES, q0, q1, q2, q3, q4, q5, q6, q7, q8, q9, q11, q12};
use rill_nexmark::{Config, nexmark};
use std::fmt::Debug;

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

/// An output printing each batch's size and first `show` rows.
fn printer<T: Debug>(show: usize) -> impl Fn(Time, Vec<T>) + Send + Sync + 'static {
    move |time, rows| {
        println!("{time}: {} rows", rows.len());
        for r in rows.iter().take(show) {
            println!("  {r:?}");
        }
    }
}

fn main() -> rill::Result<()> {
    let args: Vec<String> = std::env::args().collect();
    let query = flag(&args, "--query").unwrap_or_else(|| "q0".into());
    let rate = number(&args, "--rate", 10_000)? as usize;
    let events = number(&args, "--events", 10_000_000)?;
    let interval = Duration::from_millis(number(&args, "--batch-interval", 1000)?);
    let parallelism = number(&args, "--parallelism", 2)? as usize;
    let show = number(&args, "--show", 3)? as usize;
    let config = Config::paced(events, rate, interval).partitions(parallelism);
    let ctx = StreamingContext::builder()
        .batch_interval(interval)
        .parallelism(parallelism)
        .build()?;
    let source = nexmark(config.clone())?;
    match query.as_str() {
        "q0" => q0::pipeline(&ctx, source, printer(show)),
        "q1" => q1::pipeline(&ctx, source, printer(show)),
        "q2" => q2::pipeline(&ctx, source, printer(show)),
        "q3" => q3::pipeline(&ctx, source, printer(show)),
        "q4" => q4::pipeline(&ctx, source, printer(show)),
        "q5" => q5::pipeline(&ctx, source, printer(show)),
        "q6" => q6::pipeline(&ctx, source, printer(show)),
        "q7" => q7::pipeline(&ctx, source, printer(show)),
        "q8" => q8::pipeline(&ctx, source, printer(show)),
        "q9" => q9::pipeline(&ctx, source, printer(show)),
        "q11" => q11::pipeline(&ctx, source, printer(show)),
        "q12" => q12::pipeline(&ctx, source, printer(show)),
        other => {
            return Err(rill::Error::Config(format!(
                "no Nexmark query {other}; there are {}",
                QUERIES.join(", ")
            )));
        }
    }
    println!(
        "Nexmark {query}: {rate} events/s, {} a batch, {events} events",
        config.events_per_batch
    );
    ctx.start()?;
    let seconds = config.batches() * interval.as_millis() as u64 / 1000 + 1;
    std::thread::sleep(Duration::from_secs(seconds));
    ctx.stop()
}
