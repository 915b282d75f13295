//! Query 7, highest bid: the bids with the highest price in every 10 s tumbling window
//! of event time.
//!
//! ```sql
//! SELECT B.auction, B.price, B.bidder, B.date_time
//! FROM bid B
//! JOIN (SELECT MAX(price) AS maxprice, window_start, window_end
//!       FROM TABLE(TUMBLE(TABLE bid, DESCRIPTOR(date_time), INTERVAL '10' SECOND))
//!       GROUP BY window_start, window_end) B1
//! ON B.price = B1.maxprice
//! WHERE B.date_time >= B1.window_start AND B.date_time < B1.window_end;
//! ```
//!
//! (Flink's SQL writes the window as `BETWEEN end - 10 s AND end`, both ends included;
//! here a bid belongs to the one window `[start, end)` that holds it, as the window
//! operators place it. The bid's `extra` padding is left out.)
//!
//! One `reduce_by_event_window` (global, append mode, the watermark
//! [`DELAY`] behind) keeps each window's highest price with all
//! the bids at that price.
//!
//! **Emitted per batch**: for every window closed in the batch, a [`Row`] per bid at
//! the window's highest price. Each window is emitted once; the test compares all rows
//! of the run, sorted, with the reference's for the windows the run closed.

use super::closing::{DELAY, closed, last_watermark};
use crate::Event;
use rill::prelude::*;
use rill::source::Source;
use std::collections::HashMap;

/// The window's length.
pub const LENGTH: Duration = Duration::from_secs(10);

/// A bid at its window's highest price.
#[derive(
    Clone,
    Copy,
    Debug,
    PartialEq,
    Eq,
    PartialOrd,
    Ord,
    Hash,
    rill::serde::Serialize,
    rill::serde::Deserialize,
)]
#[serde(crate = "rill::serde")]
pub struct Row {
    /// The window's start (event time, ms, inclusive).
    pub start: u64,
    /// The auction.
    pub auction: u64,
    /// The price.
    pub price: u64,
    /// Who bid.
    pub bidder: u64,
    /// When (event time, ms).
    pub date_time: u64,
}

/// The highest price of some bids and the bids at it; `time` is the latest bid's.
#[derive(Clone, Debug, rill::serde::Serialize, rill::serde::Deserialize)]
#[serde(crate = "rill::serde")]
pub struct Highest {
    time: u64,
    price: u64,
    bids: Vec<Row>,
}

/// A bid as the highest of its own.
fn bid(e: Event) -> Option<Highest> {
    match e {
        Event::Bid(b) => Some(Highest {
            time: b.date_time,
            price: b.price as u64,
            bids: vec![Row {
                start: 0,
                auction: b.auction as u64,
                price: b.price as u64,
                bidder: b.bidder as u64,
                date_time: b.date_time,
            }],
        }),
        _ => None,
    }
}

/// The higher price, with the bids of both on a tie.
fn highest(a: Highest, b: Highest) -> Highest {
    let time = a.time.max(b.time);
    match a.price.cmp(&b.price) {
        std::cmp::Ordering::Greater => Highest { time, ..a },
        std::cmp::Ordering::Less => Highest { time, ..b },
        std::cmp::Ordering::Equal => {
            let mut bids = a.bids;
            bids.extend(b.bids);
            Highest {
                time,
                price: a.price,
                bids,
            }
        }
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
        events
            .filter_map(bid)
            .with_watermark(|h| h.time, DELAY)
            .reduce_by_event_window(highest, LENGTH, LENGTH)
            .flat_map(|(w, h)| h.bids.iter().map(|r| Row { start: w.start, ..*r }))
            .for_each_batch(out);
    }
}

/// What the test compares: every row of the run, sorted.
pub type Output = Vec<Row>;

/// The comparable form of what the pipeline emitted.
pub fn result(emitted: Vec<(Time, Vec<Row>)>) -> Output {
    super::sorted_rows(emitted)
}

/// The reference: every bid's window; per window closed by the end of the run, its
/// highest price and the bids at it.
pub fn reference(batches: impl Iterator<Item = Vec<Event>>) -> Output {
    let len = LENGTH.as_millis() as u64;
    let mut windows: HashMap<u64, Vec<Row>> = HashMap::new();
    let mut batch_max = Vec::new();
    for events in batches {
        let mut max = None;
        for e in &events {
            if let Event::Bid(b) = e {
                max = max.max(Some(b.date_time));
                let start = b.date_time / len * len;
                windows.entry(start).or_default().push(Row {
                    start,
                    auction: b.auction as u64,
                    price: b.price as u64,
                    bidder: b.bidder as u64,
                    date_time: b.date_time,
                });
            }
        }
        batch_max.push(max);
    }
    let watermark = last_watermark(&batch_max);
    let mut rows = Vec::new();
    for (start, bids) in windows {
        if !closed(start + len, watermark) {
            continue;
        }
        let top = bids.iter().map(|r| r.price).max().unwrap_or(0);
        rows.extend(bids.into_iter().filter(|r| r.price == top));
    }
    rows.sort();
    rows
}
