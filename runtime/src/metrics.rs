//! Per-batch metrics kept in memory: records in, scheduling delay, processing time.

use crate::Time;
use std::time::Duration;

/// How many batches of metrics a context keeps.
pub const KEPT_BATCHES: usize = 10_000;

/// What happened in one batch.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BatchInfo {
    /// The batch time.
    pub time: Time,
    /// Records the sources cut into this batch.
    pub records: usize,
    /// From the batch time's tick until processing started (Spark's scheduling delay).
    pub scheduling_delay: Duration,
    /// How long the batch's jobs ran.
    pub processing_time: Duration,
}

/// The `q`-quantile (0.0..=1.0, nearest rank) of `values`, or zero for none.
pub fn percentile(values: &[Duration], q: f64) -> Duration {
    if values.is_empty() {
        return Duration::ZERO;
    }
    let mut v = values.to_vec();
    v.sort();
    let rank = ((q.clamp(0.0, 1.0) * v.len() as f64).ceil() as usize).clamp(1, v.len());
    v[rank - 1]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nearest_rank_percentiles() {
        let v: Vec<Duration> = (1..=100).map(Duration::from_millis).collect();
        assert_eq!(percentile(&v, 0.5), Duration::from_millis(50));
        assert_eq!(percentile(&v, 0.99), Duration::from_millis(99));
        assert_eq!(percentile(&[], 0.5), Duration::ZERO);
    }
}
