//! Query 5, hot items: the auctions with the most bids in every 10 s window of event
//! time, sliding every 2 s.
//!
//! ```sql
//! SELECT AuctionBids.auction, AuctionBids.num
//! FROM (SELECT auction, count(*) AS num, window_start AS starttime, window_end AS endtime
//!       FROM TABLE(HOP(TABLE bid, DESCRIPTOR(date_time), INTERVAL '2' SECOND, INTERVAL '10' SECOND))
//!       GROUP BY auction, window_start, window_end) AS AuctionBids
//! JOIN (SELECT max(CountBids.num) AS maxn, CountBids.starttime, CountBids.endtime
//!       FROM (... the same counts ...) AS CountBids
//!       GROUP BY CountBids.starttime, CountBids.endtime) AS MaxBids
//! ON AuctionBids.starttime = MaxBids.starttime AND AuctionBids.endtime = MaxBids.endtime
//!    AND AuctionBids.num >= MaxBids.maxn;
//! ```
//!
//! Bids per auction per window with `count_by_key_and_event_window` (append mode, the
//! watermark [`DELAY`] behind), then per window the auctions with
//! the highest count (all of them on a tie), by `reduce_by_key` on the window: in
//! append mode all of a window's keys close in the same batch.
//!
//! **Emitted per batch**: for every window closed in the batch, a [`Row`] per auction
//! with its highest count. Each window is emitted once; the test compares all rows of
//! the run, sorted, with the reference's for the windows the run closed.

use super::closing::{DELAY, closed, last_watermark};
use crate::Event;
use rill::prelude::*;
use rill::source::Source;
use std::collections::HashMap;

/// The window's length.
pub const LENGTH: Duration = Duration::from_secs(10);
/// How far it slides.
pub const SLIDE: Duration = Duration::from_secs(2);

/// A hot auction of a window.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Row {
    /// The window's start (event time, ms, inclusive).
    pub start: u64,
    /// Its end (exclusive).
    pub end: u64,
    /// The auction.
    pub auction: u64,
    /// Its bids in the window.
    pub bids: u64,
}

/// A bid's auction and time.
fn bid(e: Event) -> Option<(u64, u64)> {
    match e {
        Event::Bid(b) => Some((b.auction as u64, b.date_time)),
        _ => None,
    }
}

/// The higher count, with the auctions of both on a tie.
fn hottest(a: (u64, Vec<u64>), b: (u64, Vec<u64>)) -> (u64, Vec<u64>) {
    match a.0.cmp(&b.0) {
        std::cmp::Ordering::Greater => a,
        std::cmp::Ordering::Less => b,
        std::cmp::Ordering::Equal => {
            let mut auctions = a.1;
            auctions.extend(b.1);
            (a.0, auctions)
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
            .with_watermark(|(_, t)| *t, DELAY)
            .count_by_key_and_event_window(LENGTH, SLIDE)
            .map(|(w, auction, n)| (w, (n, vec![auction])))
            .reduce_by_key(hottest)
            .flat_map(|(w, (n, auctions))| {
                auctions.iter().map(|a| Row { start: w.start, end: w.end, auction: *a, bids: *n })
            })
            .for_each_batch(out);
    }
}

/// What the test compares: every row of the run, sorted.
pub type Output = Vec<Row>;

/// The comparable form of what the pipeline emitted.
pub fn result(emitted: Vec<(Time, Vec<Row>)>) -> Output {
    super::sorted_rows(emitted)
}

/// The reference: every bid counted in each window it falls in; per window closed by
/// the end of the run, the auctions with the highest count.
pub fn reference(batches: impl Iterator<Item = Vec<Event>>) -> Output {
    let (len, slide) = (LENGTH.as_millis() as u64, SLIDE.as_millis() as u64);
    let mut counts: HashMap<(u64, u64), u64> = HashMap::new(); // (window start, auction)
    let mut batch_max = Vec::new();
    for events in batches {
        let mut max = None;
        for e in &events {
            if let Event::Bid(b) = e {
                let t = b.date_time;
                max = max.max(Some(t));
                // Windows start at multiples of the slide: from the latest that holds
                // `t` back to the earliest.
                let mut start = t / slide * slide;
                while start + len > t {
                    *counts.entry((start, b.auction as u64)).or_insert(0) += 1;
                    if start < slide {
                        break;
                    }
                    start -= slide;
                }
            }
        }
        batch_max.push(max);
    }
    let watermark = last_watermark(&batch_max);
    let mut best: HashMap<u64, u64> = HashMap::new(); // window start -> highest count
    for (&(start, _), &n) in &counts {
        let b = best.entry(start).or_insert(0);
        *b = (*b).max(n);
    }
    let mut rows = Vec::new();
    for (&(start, auction), &n) in &counts {
        if closed(start + len, watermark) && best.get(&start) == Some(&n) {
            rows.push(Row {
                start,
                end: start + len,
                auction,
                bids: n,
            });
        }
    }
    rows.sort();
    rows
}
