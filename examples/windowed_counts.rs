//! Word counts over a sliding window, and a rolling total per word, from a socket.
//!
//! ```text
//! cargo run --release --example windowed_counts       # listens on 127.0.0.1:9999
//! echo "to be or not to be" | nc localhost 9999
//! ```
//!
//! Every 10 s it prints the counts of the last 30 s (Spark's `reduceByKeyAndWindow`
//! with an inverse function, so each slide only adds the newest batches and subtracts
//! the expired ones), and every second the running total of every word since start.
//! Flags: `--listen ADDR`, `--batch-interval 1s`, `--window 30s`, `--slide 10s`.

use rill::prelude::*;

mod common;

fn main() {
    common::init_logging();
    if let Err(e) = run() {
        eprintln!("windowed_counts: {e}");
        std::process::exit(1);
    }
}

fn run() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let listen = common::flag(&args, "--listen", "127.0.0.1:9999");
    let interval = common::duration_flag(&args, "--batch-interval", "1s");
    let window = common::duration_flag(&args, "--window", "30s");
    let slide = common::duration_flag(&args, "--slide", "10s");
    let ctx = StreamingContext::builder()
        .batch_interval(interval)
        .parallelism(2)
        .checkpoint_dir("checkpoints")
        .build()?;
    stream! { ctx;
        let words = socket_listen_stream(&listen)
            .flat_map(|l| l.split_whitespace())
            .map(|w| (w, 1u64));
        let windowed = words.reduce_by_key_and_window_inv(|a, b| a + b, |a, b| a - b, window, slide, |_, n| *n > 0);
        windowed.print_n(20);
        words.running_reduce_by_key(|a, b| a + b).print_n(20);
    };
    common::stop_gracefully_on_signals(&ctx);
    ctx.start()?;
    if let Some(addr) = ctx.local_addrs().first() {
        println!("windowed_counts: listening on {addr}; window {window:?} every {slide:?}");
    }
    ctx.await_termination()?;
    Ok(())
}
