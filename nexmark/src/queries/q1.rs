//! Query 1, currency conversion: every bid with its price in euros.
//!
//! ```sql
//! SELECT auction, bidder, 0.908 * price AS price, date_time FROM bid;
//! ```
//!
//! Prices are whole cents, so the euro price is `price * 908 / 1000` in integers
//! (rounded down), where Flink's SQL keeps a decimal.
//!
//! **Emitted per batch**: one [`Row`] per bid of the batch. The test compares every
//! batch, sorted, with the reference.

use crate::Event;
use rill::prelude::*;
use rill::source::Source;

/// A bid with its price converted.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Row {
    /// The auction bid on.
    pub auction: u64,
    /// Who bid.
    pub bidder: u64,
    /// The price in euro cents.
    pub price: u64,
    /// When (event time, ms since the epoch).
    pub date_time: u64,
}

/// Dollars to euros, in integer cents.
pub fn to_euros(price: u64) -> u64 {
    price * 908 / 1000
}

/// The converted bid of an event, if it is one.
fn convert(e: Event) -> Option<Row> {
    match e {
        Event::Bid(b) => Some(Row {
            auction: b.auction as u64,
            bidder: b.bidder as u64,
            price: to_euros(b.price as u64),
            date_time: b.date_time,
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
        events.filter_map(convert).for_each_batch(out);
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
                rows.push(Row {
                    auction: b.auction as u64,
                    bidder: b.bidder as u64,
                    price: b.price as u64 * 908 / 1000,
                    date_time: b.date_time,
                });
            }
        }
        rows.sort();
        out.push(rows);
    }
    out
}
