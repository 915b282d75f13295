//! Query 12, processing-time windows: how many bids each bidder made in every 10 s
//! tumbling window of processing time.
//!
//! ```sql
//! SELECT B.bidder, count(*) AS bid_count,
//!        TUMBLE_START(B.p_time, INTERVAL '10' SECOND) AS starttime,
//!        TUMBLE_END(B.p_time, INTERVAL '10' SECOND) AS endtime
//! FROM (SELECT *, PROCTIME() AS p_time FROM bid) B
//! GROUP BY B.bidder, TUMBLE(B.p_time, INTERVAL '10' SECOND);
//! ```
//!
//! A record's processing time in rill is its batch's time, so this is Spark's
//! `reduceByKeyAndWindow` over a 10 s window sliding by 10 s.
//!
//! **Emitted per batch**: at every batch time `t` that is a multiple of 10 s, one
//! `(bidder, count)` per bidder with bids in the batches of `(t - 10 s, t]` (the window
//! ends at `t`, the time the output gets); nothing at other batches. The test compares
//! every window with the reference, which counts the bids of each run of 10 batches.

use crate::Event;
use rill::prelude::*;
use rill::source::Source;
use std::collections::HashMap;

/// `(bidder, bids in the window)`.
pub type Row = (u64, u64);

/// The window's length and slide.
pub const WINDOW: Duration = Duration::from_secs(10);

/// A bid's bidder.
fn bidder(e: Event) -> Option<(u64, u64)> {
    match e {
        Event::Bid(b) => Some((b.bidder as u64, 1)),
        _ => None,
    }
}

/// The pipeline: `events` in, every window's rows to `out`.
pub fn pipeline<S: Source<Event>>(
    ctx: &StreamingContext,
    events: S,
    out: impl Fn(Time, Vec<Row>) + Send + Sync + 'static,
) {
    stream! { ctx;
        let events = source(events);
        events
            .filter_map(bidder)
            .reduce_by_key_and_window(|a, b| a + b, WINDOW, WINDOW)
            .for_each_batch(out);
    }
}

/// What the test compares: every window's rows, sorted, in window order.
pub type Output = Vec<Vec<Row>>;

/// The comparable form of what the pipeline emitted (the windows' ends are the batch
/// times, 10 s apart).
pub fn result(emitted: Vec<(Time, Vec<Row>)>) -> Output {
    super::sorted_batches(emitted)
}

/// The reference: bids per bidder in each run of ten batches (a window of ten 1 s
/// batches, starting with the first: the manual clock's zero time is a multiple of
/// 10 s); a last run shorter than ten batches has no window yet.
pub fn reference(batches: impl Iterator<Item = Vec<Event>>) -> Output {
    let mut out = Vec::new();
    let mut counts: HashMap<u64, u64> = HashMap::new();
    for (i, events) in batches.enumerate() {
        for e in &events {
            if let Event::Bid(b) = e {
                *counts.entry(b.bidder as u64).or_insert(0) += 1;
            }
        }
        if (i + 1) % 10 == 0 {
            let mut rows: Vec<Row> = counts.drain().collect();
            rows.sort();
            out.push(rows);
        }
    }
    out
}
