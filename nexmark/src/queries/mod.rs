//! The Nexmark queries, one module each: the pipeline, the definition of what it emits
//! per batch, what the tests compare, and a plain Rust reference over the same events.

pub mod closing;
pub mod q0;
pub mod q1;
pub mod q10;
pub mod q11;
pub mod q12;
pub mod q2;
pub mod q3;
pub mod q4;
pub mod q5;
pub mod q6;
pub mod q7;
pub mod q8;
pub mod q9;
pub mod winning;

use crate::Event;
use rill::prelude::*;
use rill::source::Source;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

/// Every emitted batch sorted, without its time.
fn sorted_batches<T: Ord>(emitted: Vec<(Time, Vec<T>)>) -> Vec<Vec<T>> {
    emitted
        .into_iter()
        .map(|(_, mut rows)| {
            rows.sort();
            rows
        })
        .collect()
}

/// Every emitted row of the run, sorted, whatever batch emitted it.
fn sorted_rows<T: Ord>(emitted: Vec<(Time, Vec<T>)>) -> Vec<T> {
    let mut rows: Vec<T> = emitted.into_iter().flat_map(|(_, r)| r).collect();
    rows.sort();
    rows
}

/// The queries there are, by name.
pub const QUERIES: &[&str] = &[
    "q0", "q1", "q2", "q3", "q4", "q5", "q6", "q7", "q8", "q9", "q11", "q12",
];

/// Defines query `name` on `ctx` over `events`, its output counted into `rows`; an error
/// names the queries there are.
pub fn count_rows<S: Source<Event>>(
    name: &str,
    ctx: &StreamingContext,
    events: S,
    rows: Arc<AtomicU64>,
) -> rill::Result<()> {
    macro_rules! counted {
        ($q:ident) => {
            $q::pipeline(ctx, events, move |_, out| {
                rows.fetch_add(out.len() as u64, Ordering::Relaxed);
            })
        };
    }
    match name {
        "q0" => counted!(q0),
        "q1" => counted!(q1),
        "q2" => counted!(q2),
        "q3" => counted!(q3),
        "q4" => counted!(q4),
        "q5" => counted!(q5),
        "q6" => counted!(q6),
        "q7" => counted!(q7),
        "q8" => counted!(q8),
        "q9" => counted!(q9),
        "q11" => counted!(q11),
        "q12" => counted!(q12),
        other => {
            return Err(rill::Error::Config(format!(
                "no Nexmark query {other}; there are {}",
                QUERIES.join(", ")
            )));
        }
    }
    Ok(())
}
