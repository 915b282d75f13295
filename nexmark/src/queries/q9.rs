//! Query 9, winning bids: every auction with its best bid.
//!
//! ```sql
//! SELECT id, seller, category, initial_bid, reserve, date_time, expires,
//!        bidder, price, bid_date_time
//! FROM (SELECT A.*, B.bidder, B.price, B.date_time AS bid_date_time,
//!              ROW_NUMBER() OVER (PARTITION BY A.id
//!                                 ORDER BY B.price DESC, B.date_time ASC) AS rownum
//!       FROM auction A, bid B
//!       WHERE A.id = B.auction AND B.date_time BETWEEN A.date_time AND A.expires)
//! WHERE rownum <= 1;
//! ```
//!
//! RisingWave's and Flink's form (the continuous query: the best bid so far, no reserve
//! check), with the auction's numeric columns (its item name, description and padding
//! left out) and ties broken by the lowest bidder id after the time, as
//! [`winning`](super::winning) keeps them.
//!
//! **Emitted per batch**: a [`Row`] for each change of an auction's best bid in the
//! batch (an auction may appear more than once). The test compares each auction's best
//! row over all batches (the final state) with the reference.

use super::winning::{self, AuctionInfo, BidInfo, Change};
use crate::Event;
use rill::ops::map_with_state::StateSpec;
use rill::prelude::*;
use rill::source::Source;
use std::collections::BTreeMap;

/// An auction and its best bid.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Row {
    /// The auction.
    pub auction: AuctionInfo,
    /// Its best bid.
    pub bid: BidInfo,
}

/// The row of a change.
fn row(change: Option<Change>) -> Option<Row> {
    change.map(|c| Row {
        auction: c.auction,
        bid: c.new,
    })
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
            .filter_map(row)
            .for_each_batch(out);
    }
}

/// What the test compares: each auction's best row.
pub type Output = BTreeMap<u64, Row>;

/// The comparable form of what the pipeline emitted: each auction's best row.
pub fn result(emitted: Vec<(Time, Vec<Row>)>) -> Output {
    let mut best: BTreeMap<u64, Row> = BTreeMap::new();
    for (_, rows) in emitted {
        for r in rows {
            match best.get(&r.auction.id) {
                Some(b) if !r.bid.beats(&b.bid) => {}
                _ => {
                    best.insert(r.auction.id, r);
                }
            }
        }
    }
    best
}

/// The reference: the best bid of every auction over all events.
pub fn reference(batches: impl Iterator<Item = Vec<Event>>) -> Output {
    winning::reference(batches)
        .into_iter()
        .map(|(id, (auction, bid))| (id, Row { auction, bid }))
        .collect()
}
