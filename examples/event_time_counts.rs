//! Event-time windows, checkpointed: generated bids `(bidder, event ms)` arrive out of
//! order (and a few far too late); the job counts them per bidder in 5 s tumbling
//! windows of event time (append mode), per bidder per session (1.5 s gap), and over all
//! bidders in 10 s windows sliding by 5 s (update mode), with a watermark 2 s behind the
//! largest event time seen. Each batch's results, and how many records were late, go
//! to one output directory per batch. Kill it at any point (even with SIGKILL) and start
//! it again with the same flags: it resumes with the same watermark and windows.
//!
//! ```text
//! cargo run --release --example event_time_counts -- --queue 60 --output out/counts --checkpoint ckpt
//! ```
//!
//! `--queue N` batches of generated bids, one per batch (`bids`); `--checkpoint-every N`
//! sets the checkpoint interval in batches (default 5); `--checkpoint DIR` (default
//! `checkpoints`) and the other flags of `#[rill::main]` as for every example (`--help`).
//! See `docs/EVENT_TIME.md`.

use rill::prelude::*;

/// Where the bids come from and where the counts go.
#[derive(rill::clap::Args)]
struct Args {
    /// Write each batch's results to PREFIX-<ms>.txt.
    #[arg(long, value_name = "PREFIX", default_value = "out/counts")]
    output: String,
    /// The number of queued batches of generated bids.
    #[arg(long, value_name = "N", default_value_t = 40)]
    queue: usize,
    /// Checkpoint every N batches.
    #[arg(long, value_name = "N", default_value_t = 5)]
    checkpoint_every: u32,
}

/// The bids of the `k`-th queued batch: `(bidder, event time in ms)`, about one second
/// of event time per batch, up to 1.5 s out of order, one straggler 6 to 7 s behind
/// (late for some windows, in time for others), and every seventh batch one bid 9 s
/// behind (late).
pub fn bids(k: u64) -> Vec<(String, u64)> {
    let base = 10_000 + k * 1000;
    let mut out: Vec<(String, u64)> = (0..6u64)
        .map(|j| {
            let h = (k.wrapping_mul(2_654_435_761) ^ j.wrapping_mul(40_503)) % 1000;
            let jitter = (k * 131 + j * 977) % 3000;
            (format!("b{}", h % 12), base + jitter - 1500)
        })
        .collect();
    out.push((format!("b{}", k % 5), base - 6000 - (k * 37) % 1000));
    if k % 7 == 3 {
        out.push(("late".to_string(), base - 9000));
    }
    out
}

/// The job's own settings: the checkpoint interval.
fn configure(b: Builder, args: &Args) -> Builder {
    b.checkpoint_every(args.checkpoint_every)
}

#[rill::main(batch_interval = "1s", master = "local[2]", checkpoint = "checkpoints", configure = configure)]
fn main(ctx: StreamingContext, args: Args) -> rill::Result<()> {
    let queued: Vec<Vec<(String, u64)>> = (0..args.queue as u64).map(bids).collect();
    let output = args.output.clone();
    stream! { ctx;
        let bids = queue_stream(queued).with_watermark(|(_, t)| *t, Duration::from_secs(2));
        let windows = bids.count_by_key_and_event_window(Duration::from_secs(5), Duration::from_secs(5));
        let sessions = bids.count_by_key_and_session_window(Duration::from_millis(1500));
        let all = bids.count_by_event_window(Duration::from_secs(10), Duration::from_secs(5), Emit::update());
        let late = windows.late_records().count();
        union(
            windows.map(|(w, k, n)| format!("window {w} {k} {n}")),
            sessions.map(|(w, k, n)| format!("session {w} {k} {n}")),
            all.map(|(w, n)| format!("all {w} {n}")),
            late.map(|n| format!("late {n}"))
        )
        .save_as_text_files(&output, "txt");
    }
    ctx.start()?;
    println!(
        "event_time_counts: {} queued batches, writing {output}-<ms>.txt",
        args.queue
    );
    Ok(())
}
