//! The Nexmark event generator as a rill source: a [`DirectSource`] whose partitions
//! generate interleaved slices of one deterministic event sequence on the workers.
//!
//! Events come from the `nexmark` crate (RisingWave's port of the reference generator of
//! Beam's Nexmark suite). Event `n` is a pure function of `n` and the configuration (its
//! random numbers are seeded by its id), so any range can be generated anywhere, again
//! after a crash, and by the references in the same order: batch `b` holds the events
//! numbered `b * events_per_batch ..`, and generator partition `p` of `P` makes those
//! with `n % P == p`, in parallel when the batch runs.

use crate::Event;
use nexmark::EventGenerator;
use nexmark::config::NexmarkConfig;
use rill::source::{DirectSource, DirectStream, direct_stream};

/// The event time of the first event, in ms since the epoch (2023-11-14T22:13:20Z):
/// fixed, so every run generates the same events (the `nexmark` crate's default is the
/// wall clock).
pub const BASE_TIME: u64 = 1_700_000_000_000;

/// What to generate: how many events, how many per batch, over how many partitions, and
/// at which event-time rate.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Config {
    /// Events in all (the source is exhausted after them; its batches are then empty).
    pub events: u64,
    /// Events in each batch (the last may have fewer).
    pub events_per_batch: u64,
    /// Generator partitions: the partitions of every batch, generated in parallel.
    pub partitions: usize,
    /// Events per second of event time (the reference's `firstEventRate`, default
    /// 10,000): event `n` is stamped `BASE_TIME + n * 1000 / rate` ms.
    pub rate: usize,
}

impl Config {
    /// `events` events, `events_per_batch` a batch, over 2 partitions, at the reference's
    /// event-time rate of 10,000 events per second.
    pub fn new(events: u64, events_per_batch: u64) -> Self {
        Config {
            events,
            events_per_batch,
            partitions: 2,
            rate: 10_000,
        }
    }

    /// Events paced as a real stream of `rate` events per second cut into batches of
    /// `interval`: `rate * interval` events a batch, stamped at `rate` per second of
    /// event time, so event time advances as fast as the batch clock.
    pub fn paced(events: u64, rate: usize, interval: std::time::Duration) -> Self {
        let per_batch = (rate as u128 * interval.as_millis() / 1000).max(1) as u64;
        Config {
            rate,
            ..Config::new(events, per_batch)
        }
    }

    /// The same with `n` generator partitions.
    pub fn partitions(mut self, n: usize) -> Self {
        self.partitions = n;
        self
    }

    /// The same with an event-time rate of `events_per_second`.
    pub fn rate(mut self, events_per_second: usize) -> Self {
        self.rate = events_per_second;
        self
    }

    /// Checks the numbers: partitions in 1..=1000, a batch and a rate above zero.
    pub fn validate(&self) -> rill::Result<()> {
        let bad = |m: &str| Err(rill::Error::Config(format!("nexmark: {m}")));
        if self.partitions == 0 || self.partitions > 1000 {
            return bad("partitions must be between 1 and 1000");
        }
        if self.events_per_batch == 0 {
            return bad("events_per_batch must be above 0");
        }
        if self.rate == 0 {
            return bad("the event rate must be above 0");
        }
        Ok(())
    }

    /// The `nexmark` crate's configuration: its defaults, which are the reference's
    /// (person/auction/bid proportions 1:3:46, first ids 1000, hot auction ratio 2, hot
    /// seller and bidder ratios 4, 1000 active people, 100 auctions in flight, one
    /// generator, events in order), with [`BASE_TIME`] and a constant rate of
    /// [`rate`](Self::rate).
    pub fn nexmark_config(&self) -> NexmarkConfig {
        NexmarkConfig {
            base_time: BASE_TIME,
            first_rate: self.rate,
            next_rate: self.rate,
            ..NexmarkConfig::default()
        }
    }

    /// How many non-empty batches the events fill.
    pub fn batches(&self) -> u64 {
        self.events.div_ceil(self.events_per_batch.max(1))
    }

    /// The events of batch `b` (from 0), in event order: what the references read.
    pub fn batch_events(&self, b: u64) -> Vec<Event> {
        let from = (b * self.events_per_batch).min(self.events);
        let to = (from + self.events_per_batch).min(self.events);
        events(&self.nexmark_config(), from, to, 1)
    }

    /// Every batch's events, in batch and event order.
    pub fn all_batches(&self) -> impl Iterator<Item = Vec<Event>> + '_ {
        (0..self.batches()).map(|b| self.batch_events(b))
    }
}

/// The events numbered `from + i * step` below `to`.
fn events(config: &NexmarkConfig, from: u64, to: u64, step: u64) -> Vec<Event> {
    if from >= to {
        return Vec::new();
    }
    let n = (to - from).div_ceil(step);
    EventGenerator::new(config.clone())
        .with_offset(from)
        .with_step(step)
        .take(n as usize)
        .collect()
}

/// The source: `let events = source(nexmark(config)?);` in `stream!`.
pub fn nexmark(config: Config) -> rill::Result<DirectStream<Generator>> {
    Ok(direct_stream(Generator::new(config)?))
}

/// The generator as a [`DirectSource`]: a partition's offset is the number of events
/// (of all partitions) cut so far, the same for every partition.
pub struct Generator {
    config: Config,
    nexmark: NexmarkConfig,
    names: Vec<String>,
}

impl Generator {
    /// A generator of `config`'s events, refused if the configuration is not valid.
    pub fn new(config: Config) -> rill::Result<Self> {
        config.validate()?;
        let names = (0..config.partitions)
            .map(|p| format!("nexmark-{p:04}"))
            .collect();
        Ok(Generator {
            nexmark: config.nexmark_config(),
            config,
            names,
        })
    }

    fn index(&self, partition: &str) -> rill::Result<u64> {
        self.names
            .binary_search_by(|n| n.as_str().cmp(partition))
            .map(|i| i as u64)
            .map_err(|_| rill::Error::Config(format!("nexmark: no partition {partition}")))
    }

    /// How many events numbered `from..to` fall to partition `p` of `parts`.
    fn count(from: u64, to: u64, p: u64, parts: u64) -> u64 {
        let first = from + (p + parts - from % parts) % parts;
        if first >= to {
            0
        } else {
            (to - first).div_ceil(parts)
        }
    }
}

impl DirectSource for Generator {
    type Record = Event;
    type Offset = u64;

    fn describe(&self) -> String {
        format!(
            "nexmark({} events, {} a batch, {} partitions)",
            self.config.events, self.config.events_per_batch, self.config.partitions
        )
    }

    fn partitions(&self) -> rill::Result<Vec<String>> {
        Ok(self.names.clone())
    }

    fn initial_offset(&self, _: &str) -> rill::Result<u64> {
        Ok(0)
    }

    fn end_offset(
        &self,
        partition: &str,
        from: &u64,
        max: Option<u64>,
    ) -> rill::Result<(u64, Option<u64>)> {
        let parts = self.config.partitions as u64;
        let mut end = (from + self.config.events_per_batch).min(self.config.events);
        if let Some(max) = max {
            end = end.min(from.saturating_add(max.saturating_mul(parts)));
        }
        let end = end.max(*from);
        let n = Self::count(*from, end, self.index(partition)?, parts);
        Ok((end, Some(n)))
    }

    fn read(&self, partition: &str, from: &u64, to: &u64) -> rill::Result<Vec<Event>> {
        let parts = self.config.partitions as u64;
        let p = self.index(partition)?;
        let first = from + (p + parts - from % parts) % parts;
        Ok(events(&self.nexmark, first, *to, parts))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use nexmark::event::Event as E;

    #[test]
    fn partitions_interleave_into_the_batch_of_the_reference() {
        let config = Config::new(1000, 300).partitions(3);
        let g = Generator::new(config.clone()).expect("valid");
        let names = g.partitions().expect("names");
        let mut from = 0;
        for b in 0..config.batches() {
            let mut got: Vec<Event> = Vec::new();
            let mut end = from;
            for name in &names {
                let (to, n) = g.end_offset(name, &from, None).expect("end");
                let part = g.read(name, &from, &to).expect("read");
                assert_eq!(Some(part.len() as u64), n);
                got.extend(part);
                end = to;
            }
            let mut want = config.batch_events(b);
            let key = |e: &Event| (e.timestamp(), format!("{e:?}"));
            got.sort_by_key(key);
            want.sort_by_key(key);
            assert_eq!(got, want, "batch {b}");
            from = end;
        }
        assert_eq!(from, 1000);
    }

    #[test]
    fn proportions_and_base_time_are_the_references() {
        let events = Config::new(5000, 5000).batch_events(0);
        let count = |f: fn(&Event) -> bool| events.iter().filter(|e| f(e)).count();
        assert_eq!(count(|e| matches!(e, E::Person(_))), 100);
        assert_eq!(count(|e| matches!(e, E::Auction(_))), 300);
        assert_eq!(count(|e| matches!(e, E::Bid(_))), 4600);
        assert_eq!(events[0].timestamp(), BASE_TIME);
        // 10,000 events per second: event 4999 is 499.9 ms after the first.
        assert_eq!(events[4999].timestamp(), BASE_TIME + 500);
        match (&events[0], &events[1]) {
            (E::Person(p), E::Auction(a)) => {
                assert_eq!((p.id, a.id), (1000, 1000));
            }
            other => panic!("expected a person then an auction, got {other:?}"),
        }
    }

    #[test]
    fn bad_numbers_are_refused() {
        assert!(Generator::new(Config::new(10, 0)).is_err());
        assert!(Generator::new(Config::new(10, 5).partitions(0)).is_err());
        assert!(Generator::new(Config::new(10, 5).rate(0)).is_err());
    }
}
