//! `with_watermark(event_time, delay)`: a stream's watermark, as Structured Streaming
//! defines it: the largest event time seen in the batches before this one, minus the
//! delay. It advances at the end of each batch and is used by the next; it is the
//! maximum over all partitions, and it is checkpointed (the largest event time seen).

use crate::checkpoint::durable::{Durable, load, save};
use crate::{Batch, ops::event_time::ms};
use std::time::Duration;

/// The state of one `with_watermark`.
#[derive(Debug)]
pub struct WithWatermark {
    delay_ms: u64,
    /// The largest event time seen, this batch's included.
    max_seen: Option<u64>,
    /// The watermark of the batch being run (from the batches before it).
    current: Option<u64>,
}

impl WithWatermark {
    /// No watermark yet, trailing the largest event time by `delay`.
    pub fn new(delay: Duration) -> Self {
        WithWatermark {
            delay_ms: ms(delay),
            max_seen: None,
            current: None,
        }
    }

    /// Starts a batch: its watermark is the one the batches before it made; then its
    /// own records' largest event time (over all partitions, in parallel, and over the
    /// processes of a cluster) is taken in for the next batch.
    pub fn step<T, F>(
        &mut self,
        batch: &Batch<'_>,
        parts: &[Vec<T>],
        event_time: F,
    ) -> crate::Result<()>
    where
        T: Sync,
        F: Fn(&T) -> u64 + Sync + Send,
    {
        self.current = self.max_seen.map(|m| m.saturating_sub(self.delay_ms));
        let maxima = batch.map_ref(parts, |p| p.iter().map(&event_time).max());
        let local = maxima.into_iter().flatten().max();
        // Over the processes as `t + 1`, so that 0 says "no record".
        let all = batch.max_over_processes(local.map_or(0, |m| m.saturating_add(1)))?;
        if let Some(m) = all.checked_sub(1) {
            self.max_seen = Some(self.max_seen.map_or(m, |s| s.max(m)));
        }
        Ok(())
    }

    /// The watermark of the batch being run, in event-time milliseconds; `None` before
    /// any record was seen (nothing is closed or late then).
    pub fn watermark(&self) -> Option<u64> {
        self.current
    }

    /// The largest event time seen so far, the running batch's included.
    pub fn max_event_time(&self) -> Option<u64> {
        self.max_seen
    }
}

impl Durable for WithWatermark {
    fn save(&self) -> crate::Result<Vec<u8>> {
        save(&self.max_seen)
    }

    fn load(&mut self, bytes: &[u8]) -> crate::Result<()> {
        self.max_seen = load(bytes)?;
        self.current = None;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Executor, Time};

    #[test]
    fn the_watermark_trails_earlier_batches_by_the_delay() {
        let exec = Executor::new(2).expect("executor");
        let b = Batch::new(Time(1000), Time(0), &exec);
        let mut w = WithWatermark::new(Duration::from_millis(100));
        w.step(&b, &[vec![50u64], vec![]], |t| *t).expect("steps");
        assert_eq!(w.watermark(), None);
        w.step(&b, &[vec![700u64, 30], vec![400]], |t| *t)
            .expect("steps");
        assert_eq!(w.watermark(), Some(0));
        w.step(&b, &[vec![10u64]], |t| *t).expect("steps");
        assert_eq!(w.watermark(), Some(600));
        // It never goes back, and is restored from the largest time seen.
        let saved = w.save().expect("saves");
        let mut r = WithWatermark::new(Duration::from_millis(100));
        r.load(&saved).expect("loads");
        r.step(&b, &[Vec::<u64>::new()], |t| *t).expect("steps");
        assert_eq!(r.watermark(), Some(600));
    }
}
