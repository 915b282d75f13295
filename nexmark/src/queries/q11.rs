//! Query 11, user sessions: how many bids each bidder made in each session of activity,
//! a session ending after 10 s of event time without a bid.
//!
//! ```sql
//! SELECT B.bidder, count(*) AS bid_count,
//!        SESSION_START(B.date_time, INTERVAL '10' SECOND) AS starttime,
//!        SESSION_END(B.date_time, INTERVAL '10' SECOND) AS endtime
//! FROM bid B
//! GROUP BY B.bidder, SESSION(B.date_time, INTERVAL '10' SECOND);
//! ```
//!
//! `count_by_key_and_session_window` per bidder (append mode, the watermark
//! [`DELAY`] behind): a session is `[first bid, last bid + 10 s)`,
//! and two bids 10 s or more apart are in two sessions.
//!
//! **Emitted per batch**: for every session closed in the batch (the watermark passed its
//! end), a [`Row`]. The test compares all rows of the run, sorted, with the reference's
//! sessions that ended by the end of the run.

use super::closing::{DELAY, closed, last_watermark};
use crate::Event;
use rill::prelude::*;
use rill::source::Source;
use std::collections::HashMap;

/// The gap that ends a session.
pub const GAP: Duration = Duration::from_secs(10);

/// A bidder's session.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Row {
    /// The bidder.
    pub bidder: u64,
    /// Their bids in the session.
    pub bids: u64,
    /// The first bid's time (event time, ms).
    pub start: u64,
    /// The last bid's time plus the gap.
    pub end: u64,
}

/// A bid's bidder and time.
fn bid(e: Event) -> Option<(u64, u64)> {
    match e {
        Event::Bid(b) => Some((b.bidder as u64, b.date_time)),
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
        events
            .filter_map(bid)
            .with_watermark(|(_, t)| *t, DELAY)
            .count_by_key_and_session_window(GAP)
            .map(|(w, bidder, bids)| Row { bidder, bids, start: w.start, end: w.end })
            .for_each_batch(out);
    }
}

/// What the test compares: every row of the run, sorted.
pub type Output = Vec<Row>;

/// The comparable form of what the pipeline emitted.
pub fn result(emitted: Vec<(Time, Vec<Row>)>) -> Output {
    super::sorted_rows(emitted)
}

/// The reference: every bidder's bid times sorted and cut where two are a gap or more
/// apart; the sessions that ended by the end of the run.
pub fn reference(batches: impl Iterator<Item = Vec<Event>>) -> Output {
    let gap = GAP.as_millis() as u64;
    let mut times: HashMap<u64, Vec<u64>> = HashMap::new();
    let mut batch_max = Vec::new();
    for events in batches {
        let mut max = None;
        for e in &events {
            if let Event::Bid(b) = e {
                max = max.max(Some(b.date_time));
                times.entry(b.bidder as u64).or_default().push(b.date_time);
            }
        }
        batch_max.push(max);
    }
    let watermark = last_watermark(&batch_max);
    let mut rows = Vec::new();
    for (bidder, mut ts) in times {
        ts.sort();
        let mut session: Option<Row> = None;
        for t in ts {
            match session.as_mut() {
                Some(s) if t < s.end => {
                    s.bids += 1;
                    s.end = t + gap;
                }
                _ => {
                    rows.extend(session.take());
                    session = Some(Row {
                        bidder,
                        bids: 1,
                        start: t,
                        end: t + gap,
                    });
                }
            }
        }
        rows.extend(session);
    }
    rows.retain(|r| closed(r.end, watermark));
    rows.sort();
    rows
}
