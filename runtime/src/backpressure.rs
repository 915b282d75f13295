//! Rate limiting of receivers: a fixed maximum rate, and Spark's adaptive backpressure
//! (a PID controller on the processing rate), so a receiver reads more slowly when
//! batches take longer than they should, and TCP pushes back on the sender instead of
//! memory growing without bound.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

/// A token bucket shared by a receiver's threads: records per second (0: unlimited).
#[derive(Debug, Default)]
pub struct RateLimiter {
    rate: AtomicU64,
    /// When the records handed over so far may be handed over at the current rate.
    state: std::sync::Mutex<Option<Instant>>,
}

impl RateLimiter {
    /// A limiter at `rate` records per second (0: unlimited).
    pub fn new(rate: u64) -> Self {
        RateLimiter {
            rate: AtomicU64::new(rate),
            state: std::sync::Mutex::new(None),
        }
    }

    /// The current rate (0: unlimited).
    pub fn rate(&self) -> u64 {
        self.rate.load(Ordering::Relaxed)
    }

    /// Sets the rate (0: unlimited).
    pub fn set_rate(&self, rate: u64) {
        self.rate.store(rate, Ordering::Relaxed);
    }

    /// How long to wait before handing over `n` more records at the current rate.
    pub fn delay_for(&self, n: usize) -> Duration {
        let rate = self.rate();
        let mut next = crate::sync::lock(&self.state);
        let now = Instant::now();
        if rate == 0 {
            *next = None;
            return Duration::ZERO;
        }
        // Credit for idle time is capped at 100 ms, so a burst cannot exceed it.
        let start = next.map_or(now, |t| t.max(now - Duration::from_millis(100)));
        let due = start + Duration::from_secs_f64(n as f64 / rate as f64);
        *next = Some(due);
        start.saturating_duration_since(now)
    }
}

/// Spark's `PIDRateEstimator`: after each batch, a new rate from the processing rate,
/// the scheduling delay (the integral term) and the change in error.
#[derive(Debug, Clone)]
pub struct PidRateEstimator {
    batch_interval_ms: f64,
    proportional: f64,
    integral: f64,
    derivative: f64,
    min_rate: f64,
    first_run: bool,
    latest_time_ms: u64,
    latest_rate: f64,
    latest_error: f64,
}

impl PidRateEstimator {
    /// An estimator with Spark's defaults: proportional 1.0, integral 0.2, derivative
    /// 0.0, minimum rate 100 records per second.
    pub fn new(batch_interval: Duration) -> Self {
        Self::with(batch_interval, 1.0, 0.2, 0.0, 100.0)
    }

    /// An estimator with the given gains and minimum rate.
    pub fn with(
        batch_interval: Duration,
        proportional: f64,
        integral: f64,
        derivative: f64,
        min_rate: f64,
    ) -> Self {
        PidRateEstimator {
            batch_interval_ms: batch_interval.as_millis() as f64,
            proportional,
            integral,
            derivative,
            min_rate,
            first_run: true,
            latest_time_ms: 0,
            latest_rate: -1.0,
            latest_error: -1.0,
        }
    }

    /// The new rate after the batch at `time_ms` with `elements` records took
    /// `processing_ms` after waiting `scheduling_ms`; `None` on the first batch (it only
    /// seeds the estimate) and when there is nothing to learn from.
    pub fn compute(
        &mut self,
        time_ms: u64,
        elements: u64,
        processing_ms: f64,
        scheduling_ms: f64,
    ) -> Option<f64> {
        if time_ms <= self.latest_time_ms || elements == 0 || processing_ms <= 0.0 {
            return None;
        }
        let since_update = (time_ms - self.latest_time_ms) as f64 / 1000.0;
        let processing_rate = elements as f64 / processing_ms * 1000.0;
        let error = self.latest_rate - processing_rate;
        let historical_error = scheduling_ms * processing_rate / self.batch_interval_ms;
        let d_error = (error - self.latest_error) / since_update;
        let new_rate = (self.latest_rate
            - self.proportional * error
            - self.integral * historical_error
            - self.derivative * d_error)
            .max(self.min_rate);
        self.latest_time_ms = time_ms;
        if self.first_run {
            self.latest_rate = processing_rate;
            self.latest_error = 0.0;
            self.first_run = false;
            None
        } else {
            self.latest_rate = new_rate;
            self.latest_error = error;
            Some(new_rate)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_first_batch_only_seeds_the_estimate() {
        let mut p = PidRateEstimator::new(Duration::from_secs(1));
        assert_eq!(p.compute(1000, 1000, 1000.0, 0.0), None);
        assert_eq!(
            p.compute(1000, 1000, 1000.0, 0.0),
            None,
            "same time: no update"
        );
        assert_eq!(
            p.compute(2000, 0, 1000.0, 0.0),
            None,
            "no elements: no update"
        );
    }

    #[test]
    fn a_steady_processing_rate_is_kept() {
        // 1000 records in 1000 ms at every batch, no delay: the rate stays 1000/s.
        let mut p = PidRateEstimator::new(Duration::from_secs(1));
        p.compute(1000, 1000, 1000.0, 0.0);
        for t in 2..10 {
            let r = p.compute(t * 1000, 1000, 1000.0, 0.0).unwrap();
            assert!((r - 1000.0).abs() < 1e-6, "{r}");
        }
    }

    #[test]
    fn slower_processing_and_delay_lower_the_rate_to_no_less_than_the_minimum() {
        let mut p = PidRateEstimator::new(Duration::from_secs(1));
        p.compute(1000, 10_000, 1000.0, 0.0);
        let r = p.compute(2000, 10_000, 2000.0, 500.0).unwrap();
        // error = 10000 - 5000; historical = 500 * 5000 / 1000 = 2500.
        assert!(
            (r - (10_000.0 - 5_000.0 - 0.2 * 2_500.0)).abs() < 1e-6,
            "{r}"
        );
        let r = p.compute(3000, 10, 100_000.0, 100_000.0).unwrap();
        assert_eq!(r, 100.0);
    }

    #[test]
    fn the_limiter_spaces_records_at_its_rate() {
        let l = RateLimiter::new(1000);
        assert_eq!(l.delay_for(100), Duration::ZERO);
        let d = l.delay_for(100);
        assert!(
            d > Duration::from_millis(90) && d <= Duration::from_millis(100),
            "{d:?}"
        );
        l.set_rate(0);
        assert_eq!(l.delay_for(1_000_000), Duration::ZERO);
    }
}
