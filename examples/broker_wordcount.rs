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
//! `--batch-interval 1s`, `--parallelism N` (default 2).

use rill::prelude::*;
use rill::sink::RedisStreamSink;
use rill::source::{RedisOptions, StartAt, redis_string_stream};

mod common;

use common::{duration_flag, flag, usage_error};

const FLAGS: &[&str] = &[
    "--url",
    "--streams",
    "--pattern",
    "--output",
    "--group",
    "--start-at",
    "--checkpoint",
    "--max-rate-per-partition",
    "--batch-interval",
    "--parallelism",
];

fn main() {
    common::init_logging();
    let args: Vec<String> = std::env::args().skip(1).collect();
    for pair in args.chunks(2) {
        if !FLAGS.contains(&pair[0].as_str()) || pair.len() < 2 {
            usage_error(&format!(
                "unknown flag or missing value `{}`; flags: {}",
                pair[0],
                FLAGS.join(" ")
            ));
        }
    }
    if let Err(e) = run(&args) {
        eprintln!("broker_wordcount: {e}");
        std::process::exit(1);
    }
}

/// The job: builds the context and its pipeline (again, when it resumes).
fn build(args: &[String]) -> rill::Result<StreamingContext> {
    let url = flag(args, "--url", "redis://127.0.0.1:6379");
    let streams: Vec<String> = flag(args, "--streams", "lines")
        .split(',')
        .filter(|s| !s.is_empty())
        .map(str::to_string)
        .collect();
    let start_at = match flag(args, "--start-at", "committed").as_str() {
        "earliest" => StartAt::Earliest,
        "latest" => StartAt::Latest,
        "committed" => StartAt::Committed,
        other => usage_error(&format!(
            "--start-at takes earliest, latest or committed, not `{other}`"
        )),
    };
    let number = |name: &str, default: &str| -> u64 {
        flag(args, name, default)
            .parse()
            .unwrap_or_else(|_| usage_error(&format!("{name} takes a number")))
    };
    let mut options = RedisOptions::default()
        .group(flag(args, "--group", "wordcount"))
        .start_at(start_at)
        .max_rate_per_partition(number("--max-rate-per-partition", "0"));
    let pattern = flag(args, "--pattern", "");
    if !pattern.is_empty() {
        options = options.pattern(pattern);
    }
    let mut builder = StreamingContext::builder()
        .batch_interval(duration_flag(args, "--batch-interval", "1s"))
        .parallelism(number("--parallelism", "2") as usize);
    let checkpoint = flag(args, "--checkpoint", "");
    if !checkpoint.is_empty() {
        builder = builder.checkpoint_dir(&checkpoint);
    }
    let ctx = builder.build()?;
    let out = RedisStreamSink::new(&url, flag(args, "--output", "counts"))?;
    let input = redis_string_stream(&url, streams, options);
    stream! { ctx;
        let lines = source(input);
        lines
            .flat_map(|m| m.value.split_whitespace().map(str::to_string).collect::<Vec<_>>())
            .map(|w| (w, 1u64))
            .reduce_by_key(|a, b| a + b)
            .write_to(out);
    }
    Ok(ctx)
}

fn run(args: &[String]) -> rill::Result<()> {
    let checkpoint = flag(args, "--checkpoint", "");
    let ctx = if checkpoint.is_empty() {
        build(args)?
    } else {
        StreamingContext::get_or_create(&checkpoint, || build(args))?
    };
    common::stop_gracefully_on_signals(&ctx);
    ctx.start()?;
    println!(
        "broker_wordcount: counting the words of {} into {}",
        flag(args, "--streams", "lines"),
        flag(args, "--output", "counts")
    );
    ctx.await_termination()
}
