//! The word count over Redis Streams: lines from one or more streams (entries with a
//! `value` field), words counted per batch, counts appended to an output stream as
//! entries `key` (the word), `value` (its count) and `batch_time`.
//!
//! ```text
//! redis-server --port 6379 &
//! cargo run --release --features redis --example broker_wordcount -- --checkpoint /tmp/wc
//! redis-cli XADD lines '*' value "hello world hello"     # in another terminal
//! redis-cli XRANGE counts - +                            # the counts, batch by batch
//! redis-cli XINFO GROUPS lines                           # how far the job is (lag)
//! ```
//!
//! Flags: `--url redis://HOST:PORT` (default `redis://127.0.0.1:6379`), `--streams a,b`
//! (default `lines`), `--pattern 'lines:*'` (also every stream whose key matches, picked
//! up while running), `--output counts`, `--group wordcount`, `--start-at
//! earliest|latest|committed` (default `committed`), `--checkpoint DIR` (resume from it:
//! every entry is counted exactly once across restarts), `--max-rate-per-partition N`,
//! and those of every `#[rill::main]` program (`--batch-interval 1s`, `--master
//! local[N]`, default `local[2]`; `--help`).

use rill::prelude::*;
use rill::sink::RedisStreamSink;
use rill::source::{RedisOptions, StartAt, redis_string_stream};

/// Where the lines come from and where the counts go.
#[derive(rill::clap::Args)]
struct Args {
    /// The Redis server.
    #[arg(long, default_value = "redis://127.0.0.1:6379")]
    url: String,
    /// The input streams, comma-separated (one partition each).
    #[arg(long, default_value = "lines", value_delimiter = ',')]
    streams: Vec<String>,
    /// Also every stream whose key matches this pattern, picked up while running.
    #[arg(long)]
    pattern: Option<String>,
    /// The stream the counts are appended to.
    #[arg(long, default_value = "counts")]
    output: String,
    /// The consumer group whose position is moved after every batch.
    #[arg(long, default_value = "wordcount")]
    group: String,
    /// Where a stream seen for the first time is read from.
    #[arg(long, default_value = "committed", value_parser = start_at)]
    start_at: StartAt,
    /// At most this many entries per stream and second (0: no cap).
    #[arg(long, default_value_t = 0)]
    max_rate_per_partition: u64,
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

#[rill::main(batch_interval = "1s", master = "local[2]")]
fn main(ctx: StreamingContext, args: Args) -> rill::Result<()> {
    let mut options = RedisOptions::default()
        .group(args.group.clone())
        .start_at(args.start_at)
        .max_rate_per_partition(args.max_rate_per_partition);
    if let Some(pattern) = &args.pattern {
        options = options.pattern(pattern.clone());
    }
    let out = RedisStreamSink::new(&args.url, args.output.clone())?;
    let input = redis_string_stream(&args.url, args.streams.clone(), options);
    stream! { ctx;
        let lines = source(input);
        lines
            .flat_map(|m| m.value.split_whitespace().map(str::to_string).collect::<Vec<_>>())
            .map(|w| (w, 1u64))
            .reduce_by_key(|a, b| a + b)
            .write_to(out);
    }
    ctx.start()?;
    println!(
        "broker_wordcount: counting the words of {} into {}",
        args.streams.join(","),
        args.output
    );
    Ok(())
}
