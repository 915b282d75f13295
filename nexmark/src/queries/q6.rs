//! Query 6, average selling price by seller: per seller, the average of the final prices
//! of their ten most recent auctions.
//!
//! ```sql
//! SELECT Q.seller, AVG(Q.final) OVER
//!   (PARTITION BY Q.seller ORDER BY Q.date_time ROWS BETWEEN 9 PRECEDING AND CURRENT ROW)
//! FROM (SELECT MAX(B.price) AS final, A.seller, A.date_time
//!       FROM auction A, bid B
//!       WHERE A.id = B.auction AND B.date_time BETWEEN A.date_time AND A.expires
//!       GROUP BY A.id, A.seller, A.date_time) Q;
//! ```
//!
//! Beam's query 6 averages the winning bids of each seller's last ten closed auctions;
//! Flink's SQL (which it marks unsupported) the last ten rows of the continuous maximum.
//! Here, continuously as in queries 4 and 9: an auction's final price is its highest
//! counting bid so far ([`winning`](super::winning)), and a seller's average is over
//! their ten most recent auctions (by opening time, then id) that have one. A seller's
//! state is those ten; an auction pushed out never comes back (ten newer ones with
//! bids stay), so the state is bounded.
//!
//! **Emitted per batch**: for each seller whose ten changed in the batch, one
//! `(seller, sum of the ten prices, how many, at most 10)`; the average is
//! [`Row::average`]. The test compares each seller's last row (the final state) with
//! the reference.

use super::winning::{self, Change};
use crate::Event;
use rill::ops::map_with_state::{State, StateSpec};
use rill::prelude::*;
use rill::source::Source;
use std::collections::{BTreeMap, HashMap};

/// How many auctions a seller's average is over.
pub const LAST: usize = 10;

/// A seller's average over their last auctions.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Row {
    /// The seller.
    pub seller: u64,
    /// The sum of the final prices.
    pub sum: u64,
    /// How many auctions (at most [`LAST`]).
    pub auctions: u64,
}

impl Row {
    /// The average price.
    pub fn average(&self) -> f64 {
        self.sum as f64 / self.auctions.max(1) as f64
    }
}

/// An auction of a seller: `(opening time, auction id, highest price)`.
type Sold = (u64, u64, u64);

/// The seller and auction of a change of a best bid.
fn sold(change: Option<Change>) -> Option<(u64, Sold)> {
    let c = change?;
    Some((
        c.auction.seller,
        (c.auction.date_time, c.auction.id, c.new.price),
    ))
}

/// Folds a batch's changes into seller `seller`'s last auctions; returns its row.
fn last_auctions(
    seller: &u64,
    changes: Option<Vec<Sold>>,
    state: &mut State<Vec<Sold>>,
) -> Option<Row> {
    let changes = changes?;
    let mut last = state.get().cloned().unwrap_or_default();
    for (time, id, price) in changes {
        match last.iter_mut().find(|s| s.1 == id) {
            Some(s) => s.2 = s.2.max(price),
            None => last.push((time, id, price)),
        }
    }
    // Most recent first; keep ten.
    last.sort_by_key(|s| std::cmp::Reverse((s.0, s.1)));
    last.truncate(LAST);
    let row = Row {
        seller: *seller,
        sum: last.iter().map(|s| s.2).sum(),
        auctions: last.len() as u64,
    };
    state.update(last);
    Some(row)
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
            .filter_map(sold)
            .group_by_key()
            .map_with_state(StateSpec::function(last_auctions))
            .filter_map(|r| r)
            .for_each_batch(out);
    }
}

/// What the test compares: each seller's last row.
pub type Output = BTreeMap<u64, Row>;

/// The comparable form of what the pipeline emitted: each seller's last row.
pub fn result(emitted: Vec<(Time, Vec<Row>)>) -> Output {
    let mut last = BTreeMap::new();
    for (_, rows) in emitted {
        for r in rows {
            last.insert(r.seller, r);
        }
    }
    last
}

/// The reference: the best bid of every auction over all events; per seller, the ten
/// most recent auctions that have one.
pub fn reference(batches: impl Iterator<Item = Vec<Event>>) -> Output {
    let mut by_seller: HashMap<u64, Vec<Sold>> = HashMap::new();
    for (auction, bid) in winning::reference(batches).into_values() {
        by_seller.entry(auction.seller).or_default().push((
            auction.date_time,
            auction.id,
            bid.price,
        ));
    }
    let mut out = BTreeMap::new();
    for (seller, mut sold) in by_seller {
        sold.sort();
        sold.reverse();
        sold.truncate(LAST);
        let sum = sold.iter().map(|s| s.2).sum();
        out.insert(
            seller,
            Row {
                seller,
                sum,
                auctions: sold.len() as u64,
            },
        );
    }
    out
}
