//! Per-batch metrics kept in memory: records in (per source), scheduling delay,
//! processing time, and the time of every pipeline and stage; and the running totals
//! that the Prometheus endpoint of the streaming UI reports.

use crate::Time;
use std::time::Duration;

/// How many batches of metrics a context keeps.
pub const KEPT_BATCHES: usize = 10_000;

/// What happened in one batch.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct BatchInfo {
    /// The batch time.
    pub time: Time,
    /// Records the sources cut into this batch.
    pub records: usize,
    /// Records each source cut into this batch, in definition order (records a source
    /// reads when the batch runs, the lines of files, are counted in `records` only).
    pub source_records: Vec<usize>,
    /// From the batch time's tick until processing started (Spark's scheduling delay).
    pub scheduling_delay: Duration,
    /// How long the batch's jobs ran.
    pub processing_time: Duration,
    /// How long each pipeline's job ran, in definition order.
    pub pipeline_times: Vec<Duration>,
    /// How long each stage ran, in the order the stages ran.
    pub stage_times: Vec<StageTime>,
    /// Records the event-time operators found too late for every window they belong to
    /// (see `docs/EVENT_TIME.md`).
    pub late_records: u64,
}

impl BatchInfo {
    /// Scheduling delay plus processing time (Spark's total delay).
    pub fn total_delay(&self) -> Duration {
        self.scheduling_delay + self.processing_time
    }
}

/// How long one stage of one pipeline ran in a batch.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct StageTime {
    /// The pipeline, numbered from 1 in definition order (as `explain()` numbers them).
    pub pipeline: usize,
    /// The stage's number in its pipeline's plan (as `explain()` numbers them).
    pub stage: usize,
    /// From the stage's start to the end of its last partition.
    pub time: Duration,
}

/// Upper bounds of the histogram buckets of batch durations, in seconds: 1 ms to 60 s.
pub const BUCKETS: [f64; 16] = [
    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 20.0, 30.0, 60.0,
];

/// A cumulative histogram of durations over [`BUCKETS`] (Prometheus' conventions).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Histogram {
    /// How many observations were at most each bucket's bound (not cumulative here:
    /// each observation counts in the first bucket it fits).
    pub buckets: [u64; BUCKETS.len()],
    /// All observations.
    pub count: u64,
    /// Their sum, in seconds.
    pub sum_seconds: f64,
}

impl Histogram {
    /// Counts one observation.
    pub fn observe(&mut self, d: Duration) {
        let s = d.as_secs_f64();
        if let Some(i) = BUCKETS.iter().position(|b| s <= *b) {
            self.buckets[i] += 1;
        }
        self.count += 1;
        self.sum_seconds += s;
    }

    /// The cumulative count of each bucket: observations at most its bound.
    pub fn cumulative(&self) -> [u64; BUCKETS.len()] {
        let mut out = self.buckets;
        for i in 1..out.len() {
            out[i] += out[i - 1];
        }
        out
    }
}

/// Running totals over every batch a context ran (not only the kept ones), for
/// counters that never go down.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Totals {
    /// Batches completed.
    pub batches: u64,
    /// Batches whose jobs failed.
    pub failed_batches: u64,
    /// Records in those batches.
    pub records: u64,
    /// Records each source cut, in definition order.
    pub source_records: Vec<u64>,
    /// Records the event-time operators found late.
    pub late_records: u64,
    /// Processing times.
    pub processing: Histogram,
    /// Scheduling delays.
    pub scheduling_delay: Histogram,
    /// Total delays.
    pub total_delay: Histogram,
    /// Seconds spent in each stage: `(pipeline, stage, seconds, runs)`.
    pub stage_seconds: Vec<(usize, usize, f64, u64)>,
}

impl Totals {
    /// Adds a batch.
    pub fn add(&mut self, info: &BatchInfo, failed: bool) {
        self.batches += 1;
        self.failed_batches += u64::from(failed);
        self.records += info.records as u64;
        self.late_records += info.late_records;
        if self.source_records.len() < info.source_records.len() {
            self.source_records.resize(info.source_records.len(), 0);
        }
        for (total, n) in self.source_records.iter_mut().zip(&info.source_records) {
            *total += *n as u64;
        }
        self.processing.observe(info.processing_time);
        self.scheduling_delay.observe(info.scheduling_delay);
        self.total_delay.observe(info.total_delay());
        for st in &info.stage_times {
            let at = self
                .stage_seconds
                .iter()
                .position(|(p, s, _, _)| (*p, *s) == (st.pipeline, st.stage));
            let at = at.unwrap_or_else(|| {
                self.stage_seconds.push((st.pipeline, st.stage, 0.0, 0));
                self.stage_seconds.len() - 1
            });
            self.stage_seconds[at].2 += st.time.as_secs_f64();
            self.stage_seconds[at].3 += 1;
        }
    }
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

    #[test]
    fn histograms_count_each_observation_once_and_cumulate() {
        let mut h = Histogram::default();
        h.observe(Duration::from_micros(500));
        h.observe(Duration::from_millis(7));
        h.observe(Duration::from_secs(100));
        assert_eq!(h.count, 3);
        let c = h.cumulative();
        assert_eq!((c[0], c[2], c[3], c[BUCKETS.len() - 1]), (1, 1, 2, 2));
        assert!((h.sum_seconds - 100.0075).abs() < 1e-9);
    }
}
