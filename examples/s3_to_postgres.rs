//! Word totals from objects to a table: the lines of every new object under an S3
//! prefix, words counted into running totals, and the totals that changed upserted into
//! PostgreSQL after every batch.
//!
//! ```text
//! cargo run --release --features object-store,postgres --example s3_to_postgres -- \
//!     --input s3://BUCKET/PREFIX/ --dsn 'host=127.0.0.1 user=postgres dbname=postgres' \
//!     --checkpoint /tmp/s3-to-pg
//! aws s3 cp notes.txt s3://BUCKET/PREFIX/notes.txt          # in another terminal
//! psql -c 'SELECT word, total FROM word_totals ORDER BY total DESC LIMIT 10'
//! ```
//!
//! The S3 client reads the standard environment (`AWS_ACCESS_KEY_ID`,
//! `AWS_SECRET_ACCESS_KEY`, `AWS_REGION`, `AWS_ENDPOINT_URL` and `AWS_ALLOW_HTTP=true`
//! for an S3-compatible server; see the README's "Object stores"). As in Spark, the
//! objects already there when the job first starts are not read. With `--checkpoint DIR`
//! (a directory, or an `s3://` prefix) the job resumes where it was after a crash, even
//! `kill -9`: every object is counted exactly once, and a batch written again upserts
//! the same totals, so the table ends as an uninterrupted run leaves it. Flags:
//! `--input`, `--dsn`, `--table` (default `word_totals`: `word text PRIMARY KEY, total
//! bigint`, created if missing), and those of every `#[rill::main]` program
//! (`--batch-interval 1s`, `--master local[2]`, `--checkpoint`; `--help`).

use rill::prelude::*;
use rill::sink::{PostgresSink, Sink};

/// Where the objects are and where the totals go.
#[derive(rill::clap::Args)]
struct Args {
    /// The prefix whose new objects are read: s3://BUCKET/PREFIX/.
    #[arg(long)]
    input: String,
    /// The PostgreSQL database: a libpq key-value string or a postgresql:// URL.
    #[arg(long, default_value = "host=127.0.0.1 user=postgres dbname=postgres")]
    dsn: String,
    /// The table of totals (word text PRIMARY KEY, total bigint), created if missing.
    #[arg(long, default_value = "word_totals")]
    table: String,
}

/// A word's running total, and whether the last batch added to it.
type Total = (u64, bool);

/// The job on `ctx`: the words of the new objects under `input`, their running totals,
/// and the totals each batch changed written to `totals` (a [`PostgresSink`], or any
/// sink of `(word, total)`).
pub fn word_totals(ctx: &StreamingContext, input: String, totals: impl Sink<(String, u64)>) {
    stream! { ctx;
        text_file_stream(input)
            .flat_map(|l| l.split_whitespace())
            .map(|w| (w, 1u64))
            // Summed per word before the state (a map-side combine: the shuffle carries
            // a word once per partition, not once per occurrence).
            .reduce_by_key(|a, b| a + b)
            .update_state_by_key(|new: Vec<u64>, total: Option<Total>| {
                let before = total.map_or(0, |(n, _)| n);
                Some((before + new.iter().sum::<u64>(), !new.is_empty()))
            })
            // Only the totals this batch changed are written.
            .filter(|(_, (_, changed))| *changed)
            .map(|(word, (total, _))| (word, total))
            .write_to(totals);
    }
}

#[rill::main(batch_interval = "1s", master = "local[2]")]
fn main(ctx: StreamingContext, args: Args) -> rill::Result<()> {
    let totals = PostgresSink::new(&args.dsn, &args.table)
        .key_column("word")
        .value_columns(["total"])
        .create_table(true);
    word_totals(&ctx, args.input.clone(), totals);
    ctx.start()?;
    println!(
        "s3_to_postgres: words of the new objects of {} into {}",
        args.input, args.table
    );
    Ok(())
}
