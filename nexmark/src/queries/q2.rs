//! Query 2, selection: the bids on every 123rd auction.
//!
//! ```sql
//! SELECT auction, price FROM bid WHERE MOD(auction, 123) = 0;
//! ```
//!
//! **Emitted per batch**: `(auction, price)` for each such bid of the batch. The test
//! compares every batch, sorted, with the reference.

use crate::Event;
use rill::prelude::*;
use rill::source::Source;

/// `(auction, price)`.
pub type Row = (u64, u64);

/// The selected bid of an event, if it is one.
fn select(e: Event) -> Option<Row> {
    match e {
        Event::Bid(b) if b.auction % 123 == 0 => Some((b.auction as u64, b.price as u64)),
        _ => None,
    }
}

/// The pipeline: `events` in, every batch's rows to `out`.
pub fn pipeline<S: Source<Event>>(
    ctx: &StreamingContext,
    events: S,
    out: impl Fn(Time, Vec<Row>) + Send + Sync + 'static,
) {
    stream! { ctx;
        let events = source(events);
        events.filter_map(select).for_each_batch(out);
    }
}

/// What the test compares: every batch's rows, sorted.
pub type Output = Vec<Vec<Row>>;

/// The comparable form of what the pipeline emitted.
pub fn result(emitted: Vec<(Time, Vec<Row>)>) -> Output {
    super::sorted_batches(emitted)
}

/// The reference: the same on every batch's events, by a loop.
pub fn reference(batches: impl Iterator<Item = Vec<Event>>) -> Output {
    let mut out = Vec::new();
    for events in batches {
        let mut rows = Vec::new();
        for e in &events {
            if let Event::Bid(b) = e {
                if b.auction % 123 == 0 {
                    rows.push((b.auction as u64, b.price as u64));
                }
            }
        }
        rows.sort();
        out.push(rows);
    }
    out
}
