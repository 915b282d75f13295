//! rill-nexmark's generator makes exactly the `nexmark` crate's events: `==` on every
//! event against `nexmark::EventGenerator` with the same configuration, offset and step.

use nexmark::EventGenerator;
use nexmark::config::{NexmarkConfig, RateShape};
use rill_nexmark::Config;
use rill_nexmark::generator::fast::FastGenerator;

/// Events `from + i * step` below `to` of both generators, compared a chunk at a time.
fn check(config: &NexmarkConfig, from: u64, to: u64, step: u64) {
    let fast = FastGenerator::new(config);
    let chunk = 50_000 * step;
    let mut start = from;
    while start < to {
        let end = (start + chunk).min(to);
        let mine = fast.events(start, end, step);
        let n = (end - start).div_ceil(step) as usize;
        let theirs: Vec<_> = EventGenerator::new(config.clone())
            .with_offset(start)
            .with_step(step)
            .take(n)
            .collect();
        assert_eq!(mine.len(), theirs.len());
        if let Some(i) = (0..n).find(|&i| mine[i] != theirs[i]) {
            panic!(
                "offset {} (from {from}, step {step}): ours {:?}, the crate's {:?}",
                start + i as u64 * step,
                mine[i],
                theirs[i]
            );
        }
        start = end;
    }
}

/// The configuration the source uses at `rate` events per second.
fn at(rate: usize) -> NexmarkConfig {
    Config::new(1, 1).rate(rate).nexmark_config()
}

#[test]
fn the_first_million_events_are_the_crates() {
    let config = at(10_000);
    assert!(FastGenerator::new(&config).is_fast());
    check(&config, 0, 1_000_000, 1);
}

#[test]
fn far_ranges_and_steps_are_the_crates() {
    let config = at(10_000);
    for from in [10_000_000, 1_000_000_000, 1_000_000_000_000] {
        for step in [1, 2, 7] {
            check(&config, from + 13, from + 13 + 3_000 * step, step);
        }
    }
    // Steps from 0 as the source's partitions cut a batch.
    check(&config, 3, 200_000, 7);
}

#[test]
fn every_rate_is_the_crates() {
    for rate in [1, 1_000, 10_000, 1_000_000] {
        let config = at(rate);
        check(&config, 0, 20_000, 1);
        for from in [10_000_000, 1_000_000_000, 1_000_000_000_000] {
            check(&config, from, from + 2_000, 1);
        }
    }
}

#[test]
fn other_parameters_are_the_crates() {
    // Every numeric field changed, lists shortened, out-of-order groups, two
    // generators' delays, extras too small to pad (bids) and larger.
    let config = NexmarkConfig {
        active_people: 50,
        in_flight_auctions: 7,
        out_of_order_group_size: 7,
        avg_person_byte_size: 300,
        avg_auction_byte_size: 150,
        avg_bid_byte_size: 20,
        hot_seller_ratio: 3,
        hot_auction_ratio: 5,
        hot_bidder_ratio: 1,
        hot_channel_ratio: 7,
        first_event_id: 60,
        first_event_number: 3,
        num_categories: 11,
        auction_id_lead: 3,
        person_proportion: 2,
        auction_proportion: 5,
        bid_proportion: 23,
        first_auction_id: 7,
        first_person_id: 0,
        first_category_id: 1,
        person_id_lead: 1,
        us_cities: vec!["a".into(), "bb".into(), "ccc".into()],
        hot_channels: vec!["x".into(), "y".into()],
        hot_urls: vec!["u".into(), "v".into()],
        num_event_generators: 2,
        us_per_unit: 999_999,
        ..at(3_333)
    };
    assert!(FastGenerator::new(&config).is_fast());
    check(&config, 0, 100_000, 1);
    check(&config, 1_000_000_000, 1_000_003_000, 3);
}

#[test]
fn a_varying_rate_falls_back_to_the_crate() {
    for rate_shape in [RateShape::Sine, RateShape::Square] {
        let config = NexmarkConfig {
            first_rate: 10_000,
            next_rate: 3_000,
            rate_shape,
            ..at(10_000)
        };
        let fast = FastGenerator::new(&config);
        assert!(!fast.is_fast());
        check(&config, 0, 20_000, 1);
        check(&config, 1_000_000, 1_002_000, 3);
        let event = EventGenerator::new(config).with_offset(77).next();
        assert_eq!(Some(fast.event(77)), event);
    }
}
