//! Helpers shared by the operator tests.

use rill::prelude::*;

/// A manual-clock context with `p` partitions and 1 s batches.
pub fn ctx(p: usize) -> StreamingContext {
    StreamingContext::builder()
        .batch_interval(Duration::from_secs(1))
        .parallelism(p)
        .manual_clock()
        .build()
        .expect("valid configuration")
}

/// Starts `ctx`, runs `n` batches and takes what `out` collected.
pub fn run<T>(ctx: &StreamingContext, n: usize, out: &Collected<T>) -> Vec<Vec<T>> {
    let got = run_windowed(ctx, n, out);
    assert_eq!(got.len(), n, "one collected entry per batch");
    got
}

/// Like [`run`], for a stream that may skip batches (a window between its slides).
pub fn run_windowed<T>(ctx: &StreamingContext, n: usize, out: &Collected<T>) -> Vec<Vec<T>> {
    ctx.start().expect("starts");
    ctx.advance(n).expect("runs");
    let got = out.take();
    ctx.stop().expect("stops");
    got
}

/// `Duration::from_secs`.
pub fn secs(n: u64) -> Duration {
    Duration::from_secs(n)
}

/// Every batch sorted, for operators whose order within a batch is unspecified.
pub fn sorted<T: Ord>(mut batches: Vec<Vec<T>>) -> Vec<Vec<T>> {
    for b in &mut batches {
        b.sort();
    }
    batches
}

/// Runs `job` at parallelism 1 and 4, checks both give the same multisets, returns them
/// sorted.
pub fn both<T: Ord + std::fmt::Debug>(job: impl Fn(usize) -> Vec<Vec<T>>) -> Vec<Vec<T>> {
    let one = sorted(job(1));
    let four = sorted(job(4));
    assert_eq!(one, four, "parallelism 1 and 4 disagree");
    one
}

/// Owned strings from literals.
pub fn s(x: &str) -> String {
    x.to_string()
}

/// Whether the suite runs on a test cluster (`RILL_MASTER=local-cluster[N]`): every test
/// runs on N processes, each mapping the records of the partitions it owns.
pub fn on_test_cluster() -> bool {
    std::env::var_os("RILL_MASTER").is_some()
}
