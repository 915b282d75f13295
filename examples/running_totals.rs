//! Running totals per word, printed and written as one output directory per batch, and
//! checkpointed: kill it at any point (even with SIGKILL), start it again with the same
//! flags, and it resumes where it was, recomputing the batches after its last
//! checkpoint exactly. A batch whose outputs completed before the kill is recomputed for
//! its state only: no output sees it twice; the batch in flight at the kill runs again.
//!
//! ```text
//! cargo run --release --example running_totals -- --input in --output out/totals --checkpoint ckpt
//! cargo run --release --example running_totals -- --listen 127.0.0.1:9999 --output out/totals --checkpoint ckpt
//! cargo run --release --example running_totals -- --queue 60 --output out/totals --checkpoint ckpt
//! ```
//!
//! The input is the lines of files dropped into a directory (`--input`), of a socket
//! (`--listen`: the lines are logged to a write-ahead log before they enter a batch, so a
//! line the log holds is counted once even if the job is killed), or `--queue N` batches
//! of generated words (`queue_words`), one per batch. `--checkpoint-every N` sets the
//! checkpoint interval in batches (default 5); `--checkpoint DIR` (default `checkpoints`)
//! and the other flags of `#[rill::main]` as for every example (`--help`).

use rill::prelude::*;
use rill::source::{Source, queue_stream, socket_listen_stream, text_file_stream};

/// Where the lines come from and where the totals go.
#[derive(rill::clap::Args)]
struct Args {
    /// Read the lines of files moved into DIR.
    #[arg(long, value_name = "DIR", default_value = "in")]
    input: String,
    /// Write each batch's totals to PREFIX-<ms>.txt.
    #[arg(long, value_name = "PREFIX", default_value = "out/totals")]
    output: String,
    /// Listen for lines on ADDR instead (write-ahead logged).
    #[arg(long, value_name = "ADDR")]
    listen: Option<String>,
    /// Use N queued batches of generated words instead.
    #[arg(long, value_name = "N")]
    queue: Option<usize>,
    /// Checkpoint every N batches.
    #[arg(long, value_name = "N", default_value_t = 5)]
    checkpoint_every: u32,
}

/// The words of the `i`-th queued batch.
pub fn queue_words(i: usize) -> String {
    format!("q{} common q{} b{i}", i % 5, i % 3)
}

/// The job's own settings: the checkpoint interval, and the write-ahead log for a socket.
fn configure(b: Builder, args: &Args) -> Builder {
    b.checkpoint_every(args.checkpoint_every)
        .write_ahead_log(args.listen.is_some())
}

#[rill::main(batch_interval = "1s", master = "local[2]", checkpoint = "checkpoints", configure = configure)]
fn main(ctx: StreamingContext, args: Args) -> rill::Result<()> {
    // The source is chosen at run time; the pipeline is written once.
    let lines: Box<dyn Source<String>> = match (&args.listen, args.queue) {
        (Some(addr), _) => Box::new(socket_listen_stream(addr)),
        (None, Some(n)) => Box::new(queue_stream(
            (0..n).map(|i| vec![queue_words(i)]).collect::<Vec<_>>(),
        )),
        (None, None) => Box::new(text_file_stream(&args.input)),
    };
    let output = args.output.clone();
    stream! { ctx;
        let totals = source(lines)
            .flat_map(|l| l.split_whitespace())
            .map(|w| (w.to_string(), 1u64))
            .update_state_by_key(|new: Vec<u64>, total: Option<u64>| Some(total.unwrap_or(0) + new.iter().sum::<u64>()));
        totals.print();
        totals.save_as_text_files(&output, "txt");
    }
    ctx.start()?;
    match (&args.listen, args.queue) {
        (Some(addr), _) => {
            println!("running_totals: listening on {addr}, writing {output}-<ms>.txt")
        }
        (None, Some(n)) => {
            println!("running_totals: {n} queued batches, writing {output}-<ms>.txt")
        }
        (None, None) => println!(
            "running_totals: watching {}, writing {output}-<ms>.txt",
            args.input
        ),
    }
    Ok(())
}
