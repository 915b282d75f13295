//! Query 4, average price per category: the average of the winning prices of the
//! auctions of each category.
//!
//! ```sql
//! SELECT Q.category, AVG(Q.final)
//! FROM (SELECT MAX(B.price) AS final, A.category
//!       FROM auction A, bid B
//!       WHERE A.id = B.auction AND B.date_time BETWEEN A.date_time AND A.expires
//!       GROUP BY A.id, A.category) Q
//! GROUP BY Q.category;
//! ```
//!
//! As in Flink's and RisingWave's SQL, an auction's final price is its highest bid so far
//! (the continuous query has no notion of a closed auction). The best bid per auction is
//! kept by [`winning`](super::winning); each change of it becomes a change of its
//! category's sum and count, which `running_reduce_by_key` keeps.
//!
//! **Emitted per batch**: for every category with an auction with a counting bid so far,
//! `(category, sum of those auctions' highest prices, their number)`; the average is
//! [`Row::average`]. The test compares the last batch's rows (the final state) with the
//! reference over all events.

use super::winning::{self, Change};
use crate::Event;
use rill::ops::map_with_state::StateSpec;
use rill::prelude::*;
use rill::source::Source;
use std::collections::BTreeMap;

/// A category's winning prices so far.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Row {
    /// The category.
    pub category: u64,
    /// The sum of its auctions' highest prices.
    pub sum: u64,
    /// How many auctions.
    pub auctions: u64,
}

impl Row {
    /// The average price.
    pub fn average(&self) -> f64 {
        self.sum as f64 / self.auctions.max(1) as f64
    }
}

/// What a change of an auction's best bid changes in its category: `(sum, count)`.
fn delta(change: Option<Change>) -> Option<(u64, (u64, u64))> {
    let c = change?;
    let (old, new_auction) = match c.old {
        Some(old) => (old.price, 0),
        None => (0, 1),
    };
    // A better bid has a price at least as high.
    Some((
        c.auction.category,
        (c.new.price.saturating_sub(old), new_auction),
    ))
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
            .filter_map(winning::side)
            .map_with_state(StateSpec::function(winning::step))
            .filter_map(delta)
            .running_reduce_by_key(|a, b| (a.0 + b.0, a.1 + b.1))
            .map(|(category, (sum, auctions))| Row { category, sum, auctions })
            .for_each_batch(out);
    }
}

/// What the test compares: each category's row at the end.
pub type Output = BTreeMap<u64, Row>;

/// The comparable form of what the pipeline emitted: each category's last row.
pub fn result(emitted: Vec<(Time, Vec<Row>)>) -> Output {
    let mut last = BTreeMap::new();
    for (_, rows) in emitted {
        for r in rows {
            last.insert(r.category, r);
        }
    }
    last
}

/// The reference: the best bid of every auction over all events, summed per category.
pub fn reference(batches: impl Iterator<Item = Vec<Event>>) -> Output {
    let mut out: BTreeMap<u64, Row> = BTreeMap::new();
    for (auction, bid) in winning::reference(batches).into_values() {
        let row = out.entry(auction.category).or_insert(Row {
            category: auction.category,
            sum: 0,
            auctions: 0,
        });
        row.sum += bid.price;
        row.auctions += 1;
    }
    out
}
