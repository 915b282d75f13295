//! Nexmark on rill: the Nexmark benchmark's event generator as a rill source and its
//! queries as `stream!` pipelines, each beside a plain Rust reference over the same
//! events.
//!
//! Nexmark (after the XMark auction benchmark; the version Beam, Flink, Spark, RisingWave
//! and Arroyo run) is a stream of three kinds of event of an online auction site:
//! [`Person`]s registering, [`Auction`]s opening and [`Bid`]s on them, one person to
//! three auctions to 46 bids. [`generator`] makes them (the `nexmark` crate's events,
//! RisingWave's port of the reference generator, made by this crate's own faster
//! implementation of the same functions and checked equal to the crate's, at a fixed base
//! time so every run sees the same events); [`queries`] holds one module per query, each with its pipeline, the
//! result it emits per batch, and its reference. The README of this crate lists the
//! queries and how to run the tests, the example and the benchmark.

pub mod generator;
pub mod harness;
pub mod queries;

pub use generator::{BASE_TIME, Config, Generator, nexmark};
/// The generator's events: a person, an auction or a bid.
pub use nexmark::event::{Auction, Bid, Event, Person};
