//! Query 0, pass-through: every bid, unchanged. It measures what reading the stream and
//! writing the result costs.
//!
//! ```sql
//! SELECT auction, bidder, price, date_time, extra FROM bid;
//! ```
//!
//! **Emitted per batch**: one [`Row`] per bid of the batch (in no particular order).
//! The test compares every batch, sorted, with the reference.

use crate::Event;
use rill::prelude::*;
use rill::source::Source;

/// A bid's columns.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Row {
    /// The auction bid on.
    pub auction: u64,
    /// Who bid.
    pub bidder: u64,
    /// The price, in cents.
    pub price: u64,
    /// When (event time, ms since the epoch).
    pub date_time: u64,
    /// Padding to the reference's average event size.
    pub extra: String,
}

/// The bid of an event, if it is one.
fn bid(e: Event) -> Option<Row> {
    match e {
        Event::Bid(b) => Some(Row {
            auction: b.auction as u64,
            bidder: b.bidder as u64,
            price: b.price as u64,
            date_time: b.date_time,
            extra: b.extra,
        }),
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
        events.filter_map(bid).for_each_batch(out);
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
        for e in events {
            if let Event::Bid(b) = e {
                rows.push(Row {
                    auction: b.auction as u64,
                    bidder: b.bidder as u64,
                    price: b.price as u64,
                    date_time: b.date_time,
                    extra: b.extra,
                });
            }
        }
        rows.sort();
        out.push(rows);
    }
    out
}
