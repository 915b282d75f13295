//! Query 8, monitor new users: the people who registered and opened an auction in the
//! same 10 s tumbling window of event time.
//!
//! ```sql
//! SELECT P.id, P.name, P.starttime
//! FROM (SELECT id, name, window_start AS starttime, window_end AS endtime
//!       FROM TABLE(TUMBLE(TABLE person, DESCRIPTOR(date_time), INTERVAL '10' SECOND))
//!       GROUP BY id, name, window_start, window_end) P
//! JOIN (SELECT seller, window_start AS starttime, window_end AS endtime
//!       FROM TABLE(TUMBLE(TABLE auction, DESCRIPTOR(date_time), INTERVAL '10' SECOND))
//!       GROUP BY seller, window_start, window_end) A
//! ON P.id = A.seller AND P.starttime = A.starttime AND P.endtime = A.endtime;
//! ```
//!
//! Persons and auctions go into one stream keyed by person id (one watermark,
//! [`DELAY`] behind), and `reduce_by_key_and_event_window` folds
//! each person's window into "their name, if they registered in it" and "whether they
//! opened an auction in it" (append mode).
//!
//! **Emitted per batch**: for every window closed in the batch, a [`Row`] per person
//! who did both in it. Each window is emitted once; the test compares all rows of the
//! run, sorted, with the reference's for the windows the run closed.

use super::closing::{DELAY, closed, last_watermark};
use crate::Event;
use rill::prelude::*;
use rill::source::Source;
use std::collections::HashMap;

/// The window's length.
pub const LENGTH: Duration = Duration::from_secs(10);

/// `(person id, name, window start)`.
pub type Row = (u64, String, u64);

/// A person's window so far: the latest event time, their name if they registered, and
/// whether they opened an auction.
type Seen = (u64, Option<String>, bool);

/// A person or an auction, keyed by person id.
fn seen(e: Event) -> Option<(u64, Seen)> {
    match e {
        Event::Person(p) => Some((p.id as u64, (p.date_time, Some(p.name), false))),
        Event::Auction(a) => Some((a.seller as u64, (a.date_time, None, true))),
        Event::Bid(_) => None,
    }
}

/// Both of a person's records in one window.
fn both(a: Seen, b: Seen) -> Seen {
    (a.0.max(b.0), a.1.or(b.1), a.2 || b.2)
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
            .filter_map(seen)
            .with_watermark(|(_, s)| s.0, DELAY)
            .reduce_by_key_and_event_window(both, LENGTH, LENGTH)
            .filter_map(|(w, id, (_, name, auction))| if auction { name.map(|n| (id, n, w.start)) } else { None })
            .for_each_batch(out);
    }
}

/// What the test compares: every row of the run, sorted.
pub type Output = Vec<Row>;

/// The comparable form of what the pipeline emitted.
pub fn result(emitted: Vec<(Time, Vec<Row>)>) -> Output {
    super::sorted_rows(emitted)
}

/// The reference: the persons of each window and the sellers of each window, joined on
/// id and window, for the windows closed by the end of the run.
pub fn reference(batches: impl Iterator<Item = Vec<Event>>) -> Output {
    let len = LENGTH.as_millis() as u64;
    let mut persons: HashMap<(u64, u64), String> = HashMap::new(); // (window, id) -> name
    let mut sellers: HashMap<(u64, u64), ()> = HashMap::new(); // (window, seller)
    let mut batch_max = Vec::new();
    for events in batches {
        let mut max = None;
        for e in events {
            match e {
                Event::Person(p) => {
                    max = max.max(Some(p.date_time));
                    persons.insert((p.date_time / len * len, p.id as u64), p.name);
                }
                Event::Auction(a) => {
                    max = max.max(Some(a.date_time));
                    sellers.insert((a.date_time / len * len, a.seller as u64), ());
                }
                Event::Bid(_) => {}
            }
        }
        batch_max.push(max);
    }
    let watermark = last_watermark(&batch_max);
    let mut rows = Vec::new();
    for ((start, id), name) in persons {
        if closed(start + len, watermark) && sellers.contains_key(&(start, id)) {
            rows.push((id, name, start));
        }
    }
    rows.sort();
    rows
}
