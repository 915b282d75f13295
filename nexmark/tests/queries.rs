//! Every query against its plain Rust reference on a million generated events (50,000 a
//! batch, 20 batches, two partitions). With the feature `force-unfused` the same tests
//! run every pipeline unfused.

use rill::prelude::*;
use rill_nexmark::harness::{Emitted, manual_context};
use rill_nexmark::queries::*;
use rill_nexmark::{Config, nexmark};
use std::fmt::Debug;

const EVENTS: u64 = 1_000_000;
const PER_BATCH: u64 = 50_000;

fn config() -> Config {
    Config::new(EVENTS, PER_BATCH).partitions(2)
}

/// Defines a query with `define`, runs every batch of the configuration and returns
/// what it emitted.
fn run<T: Send + 'static>(
    define: impl FnOnce(&StreamingContext, &Emitted<T>) -> rill::Result<()>,
) -> Vec<(Time, Vec<T>)> {
    let ctx = manual_context(2).expect("a valid context");
    let emitted = Emitted::default();
    define(&ctx, &emitted).expect("the query is defined");
    ctx.start().expect("starts");
    ctx.advance(config().batches() as usize).expect("runs");
    ctx.stop().expect("stops");
    emitted.take()
}

/// Asserts `got == want`, naming the first difference rather than printing both.
fn same<T: PartialEq + Debug>(what: &str, got: &[T], want: &[T]) {
    for (i, (g, w)) in got.iter().zip(want).enumerate() {
        assert!(g == w, "{what}: entry {i} differs:\n got {g:?}\nwant {w:?}");
    }
    assert_eq!(got.len(), want.len(), "{what}: how many entries");
}

#[test]
fn q0_passes_every_bid_through() {
    let got = q0::result(run(|ctx, out| {
        q0::pipeline(ctx, nexmark(config())?, out.sink());
        Ok(())
    }));
    let want = q0::reference(config().all_batches());
    assert_eq!(want.iter().map(Vec::len).sum::<usize>(), 920_000);
    same("q0", &got, &want);
}

#[test]
fn q1_converts_every_price() {
    let got = q1::result(run(|ctx, out| {
        q1::pipeline(ctx, nexmark(config())?, out.sink());
        Ok(())
    }));
    same("q1", &got, &q1::reference(config().all_batches()));
}

#[test]
fn q2_selects_the_bids_of_every_123rd_auction() {
    let got = q2::result(run(|ctx, out| {
        q2::pipeline(ctx, nexmark(config())?, out.sink());
        Ok(())
    }));
    let want = q2::reference(config().all_batches());
    assert!(want.iter().map(Vec::len).sum::<usize>() > 1000);
    same("q2", &got, &want);
}

#[test]
fn q3_joins_local_sellers_with_their_auctions_batch_by_batch() {
    let got = q3::result(run(|ctx, out| {
        q3::pipeline(ctx, nexmark(config())?, out.sink());
        Ok(())
    }));
    let want = q3::reference(config().all_batches());
    assert!(want.iter().map(Vec::len).sum::<usize>() > 1000);
    same("q3", &got, &want);
}

#[test]
fn q4_averages_the_winning_prices_per_category() {
    let got = q4::result(run(|ctx, out| {
        q4::pipeline(ctx, nexmark(config())?, out.sink());
        Ok(())
    }));
    let want = q4::reference(config().all_batches());
    assert_eq!(want.len(), 5, "five categories");
    same(
        "q4",
        &got.into_iter().collect::<Vec<_>>(),
        &want.into_iter().collect::<Vec<_>>(),
    );
}

#[test]
fn q6_averages_each_sellers_last_ten_auctions() {
    let got = q6::result(run(|ctx, out| {
        q6::pipeline(ctx, nexmark(config())?, out.sink());
        Ok(())
    }));
    let want = q6::reference(config().all_batches());
    assert!(want.values().any(|r| r.auctions == q6::LAST as u64));
    same(
        "q6",
        &got.into_iter().collect::<Vec<_>>(),
        &want.into_iter().collect::<Vec<_>>(),
    );
}

#[test]
fn q9_keeps_every_auctions_winning_bid() {
    let got = q9::result(run(|ctx, out| {
        q9::pipeline(ctx, nexmark(config())?, out.sink());
        Ok(())
    }));
    let want = q9::reference(config().all_batches());
    assert!(want.len() > 10_000);
    same(
        "q9",
        &got.into_iter().collect::<Vec<_>>(),
        &want.into_iter().collect::<Vec<_>>(),
    );
}

#[test]
fn q12_counts_bids_per_bidder_in_processing_time_windows() {
    let emitted = run(|ctx, out| {
        q12::pipeline(ctx, nexmark(config())?, out.sink());
        Ok(())
    });
    let times: Vec<u64> = emitted.iter().map(|(t, _)| t.millis()).collect();
    assert!(
        times.windows(2).all(|w| w[1] - w[0] == 10_000),
        "windows 10 s apart: {times:?}"
    );
    let got = q12::result(emitted);
    let want = q12::reference(config().all_batches());
    assert_eq!(want.len(), 2, "20 batches: two windows");
    same("q12", &got, &want);
}

#[test]
fn q5_finds_the_hot_auctions_of_every_sliding_window() {
    let got = q5::result(run(|ctx, out| {
        q5::pipeline(ctx, nexmark(config())?, out.sink());
        Ok(())
    }));
    let want = q5::reference(config().all_batches());
    let windows: std::collections::BTreeSet<u64> = want.iter().map(|r| r.start).collect();
    assert!(
        windows.len() > 40,
        "about 100 s of event time: {} windows",
        windows.len()
    );
    same("q5", &got, &want);
}

#[test]
fn q7_finds_the_highest_bids_of_every_window() {
    let got = q7::result(run(|ctx, out| {
        q7::pipeline(ctx, nexmark(config())?, out.sink());
        Ok(())
    }));
    let want = q7::reference(config().all_batches());
    assert!(want.len() >= 8, "a bid at least per closed window");
    same("q7", &got, &want);
}

#[test]
fn q8_finds_the_new_users_who_opened_an_auction() {
    let got = q8::result(run(|ctx, out| {
        q8::pipeline(ctx, nexmark(config())?, out.sink());
        Ok(())
    }));
    let want = q8::reference(config().all_batches());
    assert!(want.len() > 1000);
    same("q8", &got, &want);
}

#[test]
fn q11_counts_every_bidders_sessions() {
    let got = q11::result(run(|ctx, out| {
        q11::pipeline(ctx, nexmark(config())?, out.sink());
        Ok(())
    }));
    let want = q11::reference(config().all_batches());
    assert!(
        want.iter().any(|r| r.bids > 100),
        "hot bidders' long sessions"
    );
    same("q11", &got, &want);
}

#[test]
fn q10_writes_every_bid_as_a_line_into_one_directory_per_batch() {
    let dir = std::env::temp_dir().join(format!("rill-nexmark-q10-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("a temporary directory");
    let ctx = manual_context(2).expect("a valid context");
    q10::pipeline(&ctx, nexmark(config()).expect("valid"), &dir);
    ctx.start().expect("starts");
    ctx.advance(config().batches() as usize).expect("runs");
    ctx.stop().expect("stops");
    let got = q10::result(&dir);
    let _ = std::fs::remove_dir_all(&dir);
    let got = got.expect("the batches' files read back");
    let want = q10::reference(config().all_batches());
    assert_eq!(want.iter().map(Vec::len).sum::<usize>(), 920_000);
    same("q10", &got, &want);
}
