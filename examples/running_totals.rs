//! Running totals per word of the files dropped into a directory, written as one output
//! directory per batch, and checkpointed: kill it at any point (even with SIGKILL),
//! start it again with the same flags, and it resumes where it was, recomputing the
//! batches after its last checkpoint exactly.
//!
//! ```text
//! cargo run --release --example running_totals -- --input in --output out/totals --checkpoint ckpt
//! ```

use rill::prelude::*;

mod common;

fn flag(args: &[String], name: &str, default: &str) -> String {
    args.iter()
        .position(|a| a == name)
        .and_then(|i| args.get(i + 1))
        .cloned()
        .unwrap_or_else(|| default.to_string())
}

fn main() {
    common::init_logging();
    if let Err(e) = run() {
        eprintln!("running_totals: {e}");
        std::process::exit(1);
    }
}

fn run() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let input = flag(&args, "--input", "in");
    let output = flag(&args, "--output", "out/totals");
    let checkpoint = flag(&args, "--checkpoint", "checkpoints");
    let interval = rill::parse_duration(&flag(&args, "--batch-interval", "1s"))?;
    let ctx = StreamingContext::get_or_create(&checkpoint, || {
        let ctx = StreamingContext::builder()
            .batch_interval(interval)
            .parallelism(2)
            .checkpoint_interval(interval * 5)
            .build()?;
        stream! { ctx;
            text_file_stream(&input)
                .flat_map(|l| l.split_whitespace())
                .map(|w| (w.to_string(), 1u64))
                .update_state_by_key(|new: Vec<u64>, total: Option<u64>| Some(total.unwrap_or(0) + new.iter().sum::<u64>()))
                .save_as_text_files(&output, "txt");
        };
        Ok(ctx)
    })?;
    ctx.start()?;
    println!("running_totals: watching {input}, writing {output}-<ms>.txt");
    ctx.await_termination()?;
    Ok(())
}
