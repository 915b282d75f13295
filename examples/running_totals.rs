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
//! checkpoint interval in batches (default 5).

use rill::prelude::*;
use rill::source::{Source, queue_stream, socket_listen_stream, text_file_stream};

mod common;

fn main() {
    common::init_logging();
    if let Err(e) = run() {
        eprintln!("running_totals: {e}");
        std::process::exit(1);
    }
}

/// The words of the `i`-th queued batch.
pub fn queue_words(i: usize) -> String {
    format!("q{} common q{} b{i}", i % 5, i % 3)
}

fn run() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let input = common::flag(&args, "--input", "in");
    let output = common::flag(&args, "--output", "out/totals");
    let checkpoint = common::flag(&args, "--checkpoint", "checkpoints");
    let present = |name: &str| args.iter().any(|a| a == name);
    let listen = present("--listen").then(|| common::flag(&args, "--listen", "127.0.0.1:9999"));
    let count = |name: &str, default: &str| -> u32 {
        common::flag(&args, name, default)
            .parse()
            .unwrap_or_else(|e| common::usage_error(&format!("{name}: {e}")))
    };
    let queue = present("--queue").then(|| count("--queue", "60") as usize);
    let every = count("--checkpoint-every", "5");
    let interval = common::duration_flag(&args, "--batch-interval", "1s");
    // An interval too long for the checkpoint interval is a usage error.
    let checkpoint_interval = interval.checked_mul(every).unwrap_or_else(|| {
        common::usage_error("--checkpoint-every: the checkpoint interval is too long")
    });
    let ctx = StreamingContext::get_or_create(&checkpoint, || {
        let ctx = StreamingContext::builder()
            .batch_interval(interval)
            .parallelism(2)
            .checkpoint_dir(&checkpoint)
            .checkpoint_interval(checkpoint_interval)
            .write_ahead_log(listen.is_some())
            .build()?;
        // The source is chosen at run time; the pipeline is written once.
        let lines: Box<dyn Source<String>> = match (&listen, queue) {
            (Some(addr), _) => Box::new(socket_listen_stream(addr)),
            (None, Some(n)) => Box::new(queue_stream(
                (0..n).map(|i| vec![queue_words(i)]).collect::<Vec<_>>(),
            )),
            (None, None) => Box::new(text_file_stream(&input)),
        };
        stream! { ctx;
            let totals = source(lines)
                .flat_map(|l| l.split_whitespace())
                .map(|w| (w.to_string(), 1u64))
                .update_state_by_key(|new: Vec<u64>, total: Option<u64>| Some(total.unwrap_or(0) + new.iter().sum::<u64>()));
            totals.print();
            totals.save_as_text_files(&output, "txt");
        }
        Ok(ctx)
    })?;
    common::stop_gracefully_on_signals(&ctx);
    ctx.start()?;
    match (&listen, queue) {
        (Some(addr), _) => {
            println!("running_totals: listening on {addr}, writing {output}-<ms>.txt")
        }
        (None, Some(n)) => {
            println!("running_totals: {n} queued batches, writing {output}-<ms>.txt")
        }
        (None, None) => println!("running_totals: watching {input}, writing {output}-<ms>.txt"),
    }
    ctx.await_termination()?;
    Ok(())
}
