//! What the references of the event-time queries (5, 7, 8, 11) share: the watermark
//! delay and which windows a run has closed.
//!
//! rill's `with_watermark(event_time, delay)` gives batch `b` the watermark `max event
//! time of the batches before b - delay`, and an append-mode window `[start, end)` is
//! emitted, once, in the first batch whose watermark is `>= end` (docs/EVENT_TIME.md).
//! The generator's events come in order, so no record is ever late, and a run emits
//! exactly the windows whose end is at most the last batch's watermark.

use rill::prelude::*;

/// How far the watermark stays behind the largest event time seen: 4 s, as the
/// watermark of nexmark-flink's source table (`dateTime - INTERVAL '4' SECOND`).
pub const DELAY: Duration = Duration::from_secs(4);

/// The watermark of the last batch of a run, from each batch's largest event time in
/// the watermarked stream (`None` for a batch with no record in it): the largest over
/// all batches but the last, minus [`DELAY`]; `None` if there is none yet.
pub fn last_watermark(batch_max: &[Option<u64>]) -> Option<u64> {
    let before_last = batch_max.len().saturating_sub(1);
    batch_max[..before_last]
        .iter()
        .flatten()
        .max()
        .map(|m| m.saturating_sub(DELAY.as_millis() as u64))
}

/// Whether a window ending at `end` (exclusive) was emitted by a run whose last batch
/// had watermark `watermark`.
pub fn closed(end: u64, watermark: Option<u64>) -> bool {
    watermark.is_some_and(|w| w >= end)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_last_batch_does_not_count() {
        assert_eq!(
            last_watermark(&[Some(10_000), None, Some(99_000)]),
            Some(6_000)
        );
        assert_eq!(last_watermark(&[Some(1_000)]), None);
        assert!(closed(6_000, Some(6_000)));
        assert!(!closed(6_001, Some(6_000)));
        assert!(!closed(0, None));
    }
}
