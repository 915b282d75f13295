//! The best bid of every auction so far, kept incrementally: what queries 4, 6 and 9
//! build on.
//!
//! A bid counts for an auction when its time is within the auction's life,
//! `auction.date_time <= bid.date_time <= auction.expires` (the SQL's `BETWEEN`). Of the
//! bids that count, the best has the highest price, then the earliest time, then the
//! lowest bidder id (a total order, so the result does not depend on arrival order).
//! Bids and auctions are keyed by auction id into `map_with_state`; bids that arrive
//! before their auction (the generator picks auction ids a few ahead of the last one)
//! wait in the state until it does.

use crate::Event;
use rill::ops::map_with_state::State;
use std::cmp::Reverse;
use std::collections::HashMap;

/// The columns of an auction the queries use.
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
pub struct AuctionInfo {
    /// Its id.
    pub id: u64,
    /// Who sells.
    pub seller: u64,
    /// Its category.
    pub category: u64,
    /// The opening price, in cents.
    pub initial_bid: u64,
    /// The lowest price it may sell at, in cents.
    pub reserve: u64,
    /// When it opened (event time, ms).
    pub date_time: u64,
    /// When it closes (event time, ms).
    pub expires: u64,
}

/// The columns of a bid the queries use.
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
pub struct BidInfo {
    /// Who bid.
    pub bidder: u64,
    /// The price, in cents.
    pub price: u64,
    /// When (event time, ms).
    pub date_time: u64,
}

impl BidInfo {
    /// The order of bids: the best is the greatest.
    fn rank(&self) -> (u64, Reverse<u64>, Reverse<u64>) {
        (self.price, Reverse(self.date_time), Reverse(self.bidder))
    }

    /// Whether this bid is better than `other`.
    pub fn beats(&self, other: &BidInfo) -> bool {
        self.rank() > other.rank()
    }

    /// Whether this bid counts for `auction`.
    pub fn counts_for(&self, auction: &AuctionInfo) -> bool {
        auction.date_time <= self.date_time && self.date_time <= auction.expires
    }
}

/// An auction or a bid, keyed by auction id.
#[derive(Clone, Copy, Debug)]
pub enum Side {
    /// The auction.
    Auction(AuctionInfo),
    /// A bid on it.
    Bid(BidInfo),
}

/// The auction's columns.
pub fn auction_info(a: &crate::Auction) -> AuctionInfo {
    AuctionInfo {
        id: a.id as u64,
        seller: a.seller as u64,
        category: a.category as u64,
        initial_bid: a.initial_bid as u64,
        reserve: a.reserve as u64,
        date_time: a.date_time,
        expires: a.expires,
    }
}

/// The bid's columns.
pub fn bid_info(b: &crate::Bid) -> BidInfo {
    BidInfo {
        bidder: b.bidder as u64,
        price: b.price as u64,
        date_time: b.date_time,
    }
}

/// The side of an event keyed by auction id, if it is an auction or a bid.
pub fn side(e: Event) -> Option<(u64, Side)> {
    match e {
        Event::Auction(a) => Some((a.id as u64, Side::Auction(auction_info(&a)))),
        Event::Bid(b) => Some((b.auction as u64, Side::Bid(bid_info(&b)))),
        Event::Person(_) => None,
    }
}

/// An auction's state: the auction once seen, its best bid so far, and the bids that
/// came before it.
#[derive(Clone, Debug, Default, rill::serde::Serialize, rill::serde::Deserialize)]
#[serde(crate = "rill::serde")]
pub struct AuctionState {
    auction: Option<AuctionInfo>,
    best: Option<BidInfo>,
    waiting: Vec<BidInfo>,
}

/// A new best bid of an auction.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Change {
    /// The auction.
    pub auction: AuctionInfo,
    /// Its best bid before, if it had one.
    pub old: Option<BidInfo>,
    /// Its best bid now.
    pub new: BidInfo,
}

/// One step for auction `_id`: the change of its best bid that `side` makes, if any.
pub fn step(_id: &u64, side: Option<Side>, state: &mut State<AuctionState>) -> Option<Change> {
    let side = side?;
    let now = state.get().cloned().unwrap_or_default();
    match (side, now.auction) {
        (Side::Auction(auction), _) => {
            let mut best: Option<BidInfo> = None;
            for b in now.waiting.iter().filter(|b| b.counts_for(&auction)) {
                if best.is_none_or(|x| b.beats(&x)) {
                    best = Some(*b);
                }
            }
            state.update(AuctionState {
                auction: Some(auction),
                best,
                waiting: Vec::new(),
            });
            best.map(|new| Change {
                auction,
                old: None,
                new,
            })
        }
        (Side::Bid(bid), Some(auction)) => {
            if !bid.counts_for(&auction) || now.best.is_some_and(|x| !bid.beats(&x)) {
                return None;
            }
            state.update(AuctionState {
                auction: Some(auction),
                best: Some(bid),
                waiting: Vec::new(),
            });
            Some(Change {
                auction,
                old: now.best,
                new: bid,
            })
        }
        (Side::Bid(bid), None) => {
            let mut waiting = now.waiting;
            waiting.push(bid);
            state.update(AuctionState {
                auction: None,
                best: None,
                waiting,
            });
            None
        }
    }
}

/// The reference's best bids: every auction and every bid collected, then for each bid
/// that counts for its auction, the best kept. Auctions without such a bid are absent.
pub fn reference(
    batches: impl Iterator<Item = Vec<Event>>,
) -> HashMap<u64, (AuctionInfo, BidInfo)> {
    let mut auctions: HashMap<u64, AuctionInfo> = HashMap::new();
    let mut bids: Vec<(u64, BidInfo)> = Vec::new();
    for events in batches {
        for e in &events {
            match e {
                Event::Auction(a) => {
                    auctions.insert(a.id as u64, auction_info(a));
                }
                Event::Bid(b) => bids.push((b.auction as u64, bid_info(b))),
                Event::Person(_) => {}
            }
        }
    }
    let mut best: HashMap<u64, (AuctionInfo, BidInfo)> = HashMap::new();
    for (id, bid) in bids {
        let Some(auction) = auctions.get(&id) else {
            continue;
        };
        if !bid.counts_for(auction) {
            continue;
        }
        match best.get(&id) {
            Some((_, b)) if !bid.beats(b) => {}
            _ => {
                best.insert(id, (*auction, bid));
            }
        }
    }
    best
}
