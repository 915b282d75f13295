//! Query 3, local item suggestion: the auctions of category 10 opened by people of
//! Oregon, Idaho or California, as an incremental join of persons and auctions.
//!
//! ```sql
//! SELECT P.name, P.city, P.state, A.id
//! FROM auction AS A INNER JOIN person AS P ON A.seller = P.id
//! WHERE A.category = 10 AND (P.state = 'or' OR P.state = 'id' OR P.state = 'ca');
//! ```
//!
//! (The generator writes states in lower case, as RisingWave's SQL compares them.)
//!
//! Persons and auctions are keyed by person id into `map_with_state`: a person's state is
//! whether they match, with their name, city and state, and the auctions that arrived
//! before them (the generator may pick a seller a few ids ahead of the last person).
//!
//! **Emitted per batch**: each `(name, city, state, auction)` pair completed in that
//! batch, that is, once, in the batch where the later of the person and the auction
//! arrives. The union of all batches is the SQL query's result. The test compares every
//! batch, sorted, with the reference.

use crate::Event;
use rill::ops::map_with_state::{State, StateSpec};
use rill::prelude::*;
use rill::source::Source;

/// `(name, city, state, auction id)`.
pub type Row = (String, String, String, u64);

/// A person or an auction of category 10, keyed by the person's id.
#[derive(Clone, Debug)]
pub enum Side {
    /// A person: their name, city and state if the state is one of the three.
    Person(Option<(String, String, String)>),
    /// An auction of category 10: its id.
    Auction(u64),
}

/// What is known of a person.
#[derive(Clone, Debug, rill::serde::Serialize, rill::serde::Deserialize)]
#[serde(crate = "rill::serde")]
pub enum Seller {
    /// Not seen yet: their auctions so far.
    Unseen(Vec<u64>),
    /// Seen and in one of the three states.
    Matches(String, String, String),
    /// Seen, elsewhere.
    Elsewhere,
}

/// Whether a person's state is one the query asks for.
pub fn local(state: &str) -> bool {
    matches!(state, "or" | "id" | "ca")
}

/// The side of the join of an event, keyed by person id, if it has one.
fn side(e: Event) -> Option<(u64, Side)> {
    match e {
        Event::Person(p) => {
            let who = local(&p.state).then_some((p.name, p.city, p.state));
            Some((p.id as u64, Side::Person(who)))
        }
        Event::Auction(a) if a.category == 10 => {
            Some((a.seller as u64, Side::Auction(a.id as u64)))
        }
        _ => None,
    }
}

/// One step of the join for person `_id`: the pairs it completes.
fn join(_id: &u64, side: Option<Side>, state: &mut State<Seller>) -> Vec<Row> {
    let Some(side) = side else {
        return Vec::new();
    };
    match (side, state.get()) {
        (Side::Person(who), seen) => {
            let pending = match seen {
                Some(Seller::Unseen(auctions)) => auctions.clone(),
                _ => Vec::new(),
            };
            match who {
                Some((name, city, st)) => {
                    let rows = pending
                        .into_iter()
                        .map(|a| (name.clone(), city.clone(), st.clone(), a))
                        .collect();
                    state.update(Seller::Matches(name, city, st));
                    rows
                }
                None => {
                    state.update(Seller::Elsewhere);
                    Vec::new()
                }
            }
        }
        (Side::Auction(a), Some(Seller::Matches(name, city, st))) => {
            vec![(name.clone(), city.clone(), st.clone(), a)]
        }
        (Side::Auction(_), Some(Seller::Elsewhere)) => Vec::new(),
        (Side::Auction(a), Some(Seller::Unseen(auctions))) => {
            let mut auctions = auctions.clone();
            auctions.push(a);
            state.update(Seller::Unseen(auctions));
            Vec::new()
        }
        (Side::Auction(a), None) => {
            state.update(Seller::Unseen(vec![a]));
            Vec::new()
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
            .filter_map(side)
            .map_with_state(StateSpec::function(join))
            .flat_map(|rows| rows.clone())
            .for_each_batch(out);
    }
}

/// What the test compares: every batch's rows, sorted.
pub type Output = Vec<Vec<Row>>;

/// The comparable form of what the pipeline emitted.
pub fn result(emitted: Vec<(Time, Vec<Row>)>) -> Output {
    super::sorted_batches(emitted)
}

/// The reference: all persons and auctions so far in two maps; after each batch, the
/// matching pairs not reported before.
pub fn reference(batches: impl Iterator<Item = Vec<Event>>) -> Output {
    use std::collections::{HashMap, HashSet};
    let mut persons: HashMap<u64, (String, String, String)> = HashMap::new();
    let mut auctions: Vec<(u64, u64)> = Vec::new(); // (seller, auction) of category 10
    let mut reported: HashSet<u64> = HashSet::new();
    let mut out = Vec::new();
    for events in batches {
        for e in events {
            match e {
                Event::Person(p) => {
                    persons.insert(p.id as u64, (p.name, p.city, p.state));
                }
                Event::Auction(a) => {
                    if a.category == 10 {
                        auctions.push((a.seller as u64, a.id as u64));
                    }
                }
                Event::Bid(_) => {}
            }
        }
        let mut rows = Vec::new();
        for (seller, auction) in &auctions {
            if reported.contains(auction) {
                continue;
            }
            if let Some((name, city, state)) = persons.get(seller) {
                if local(state) {
                    rows.push((name.clone(), city.clone(), state.clone(), *auction));
                    reported.insert(*auction);
                }
            }
        }
        rows.sort();
        out.push(rows);
    }
    out
}
