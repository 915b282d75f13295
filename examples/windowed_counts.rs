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
//! Flags: `--listen ADDR`, `--window 30s`, `--slide 10s`, and those of `#[rill::main]`
//! (`--help`); it checkpoints into `checkpoints` unless told `--checkpoint DIR`.

use rill::prelude::*;

/// Where the lines come from and the window.
#[derive(rill::clap::Args)]
struct Args {
    /// Listen for lines on ADDR.
    #[arg(long, value_name = "ADDR", default_value = "127.0.0.1:9999")]
    listen: String,
    /// The window's length.
    #[arg(long, value_name = "DURATION", default_value = "30s", value_parser = rill::parse_duration)]
    window: Duration,
    /// How often the window is counted.
    #[arg(long, value_name = "DURATION", default_value = "10s", value_parser = rill::parse_duration)]
    slide: Duration,
}

#[rill::main(batch_interval = "1s", master = "local[2]", checkpoint = "checkpoints")]
fn main(ctx: StreamingContext, args: Args) -> rill::Result<()> {
    let (window, slide) = (args.window, args.slide);
    stream! { ctx;
        let words = socket_listen_stream(&args.listen)
            .flat_map(|l| l.split_whitespace())
            .map(|w| (w, 1u64));
        let windowed = words.reduce_by_key_and_window_inv(|a, b| a + b, |a, b| a - b, window, slide, |_, n| *n > 0);
        windowed.print_n(20);
        words.running_reduce_by_key(|a, b| a + b).print_n(20);
    };
    ctx.start()?;
    if let Some(addr) = ctx.local_addrs().first() {
        println!("windowed_counts: listening on {addr}; window {window:?} every {slide:?}");
    }
    Ok(())
}
