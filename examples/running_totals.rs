//! Running totals per word of the files dropped into a directory, written as one output
//! directory per batch, and checkpointed: kill it at any point (even with SIGKILL),
//! start it again with the same flags, and it resumes where it was, recomputing the
//! batches after its last checkpoint exactly.
//!
//! ```text
//! cargo run --release --example running_totals -- --input in --output out/totals --checkpoint ckpt
//! cargo run --release --example running_totals -- --listen 127.0.0.1:9999 --output out/totals --checkpoint ckpt
//! ```
//!
//! With `--listen` it reads lines from a socket instead of files, and logs them to a
//! write-ahead log before they enter a batch, so a line the log holds is counted once
//! even if the job is killed.

use rill::prelude::*;

mod common;

fn main() {
    common::init_logging();
    if let Err(e) = run() {
        eprintln!("running_totals: {e}");
        std::process::exit(1);
    }
}

fn run() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let input = common::flag(&args, "--input", "in");
    let output = common::flag(&args, "--output", "out/totals");
    let checkpoint = common::flag(&args, "--checkpoint", "checkpoints");
    let listen = args
        .iter()
        .any(|a| a == "--listen")
        .then(|| common::flag(&args, "--listen", "127.0.0.1:9999"));
    let interval = common::duration_flag(&args, "--batch-interval", "1s");
    // A checkpoint every 5 batches; an interval too long for that is a usage error.
    let every = interval
        .checked_mul(5)
        .unwrap_or_else(|| common::usage_error("--batch-interval: too long"));
    let ctx = StreamingContext::get_or_create(&checkpoint, || {
        let ctx = StreamingContext::builder()
            .batch_interval(interval)
            .parallelism(2)
            .checkpoint_dir(&checkpoint)
            .checkpoint_interval(every)
            .write_ahead_log(listen.is_some())
            .build()?;
        match &listen {
            None => stream! { ctx;
                text_file_stream(&input)
                    .flat_map(|l| l.split_whitespace())
                    .map(|w| (w.to_string(), 1u64))
                    .update_state_by_key(|new: Vec<u64>, total: Option<u64>| Some(total.unwrap_or(0) + new.iter().sum::<u64>()))
                    .save_as_text_files(&output, "txt");
            },
            Some(addr) => stream! { ctx;
                socket_listen_stream(addr)
                    .flat_map(|l| l.split_whitespace())
                    .map(|w| (w.to_string(), 1u64))
                    .update_state_by_key(|new: Vec<u64>, total: Option<u64>| Some(total.unwrap_or(0) + new.iter().sum::<u64>()))
                    .save_as_text_files(&output, "txt");
            },
        }
        Ok(ctx)
    })?;
    common::stop_gracefully_on_signals(&ctx);
    ctx.start()?;
    match &listen {
        Some(addr) => println!("running_totals: listening on {addr}, writing {output}-<ms>.txt"),
        None => println!("running_totals: watching {input}, writing {output}-<ms>.txt"),
    }
    ctx.await_termination()?;
    Ok(())
}
