//! The system batch clock: fires at multiples of the batch interval, as Spark's
//! `RecurringTimer` (first batch at `(floor(now / interval) + 1) * interval`).
//!
//! The timer thread cuts the sources at each tick and hands the batch time to a runner
//! thread, so a slow batch delays the next one's processing (scheduling delay) but not
//! the cut of its input.

use crate::Time;
use crate::batch_loop::Cut;
use crate::context::Inner;
use crossbeam_channel::RecvTimeoutError;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

/// Milliseconds since the epoch.
pub fn now_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as u64)
}

/// The first batch time after `now_ms` for `interval_ms`: the next multiple of the
/// interval.
///
/// It never panics: an interval of zero (which no context accepts) is taken as 1 ms, so
/// the answer is the next millisecond, and a multiple past `u64::MAX` saturates at
/// `Time(u64::MAX)`.
pub fn first_batch_time(now_ms: u64, interval_ms: u64) -> Time {
    let interval = interval_ms.max(1);
    Time(
        (now_ms / interval)
            .checked_add(1)
            .and_then(|k| k.checked_mul(interval))
            .unwrap_or(u64::MAX),
    )
}

/// Batches cut but not yet run beyond which receivers are left to fill up.
const MAX_PENDING: usize = 2;

/// How long the runner waits for a batch before looking at the stop flag again.
const RUNNER_POLL: Duration = Duration::from_millis(20);

pub(crate) fn spawn(inner: Arc<Inner>) -> crate::Result<()> {
    let interval = inner.batch_interval.as_millis() as u64;
    // The clock goes on from the last batch time: `start()` set it to the first batch
    // time minus one interval, or a recovered run's last batch, whose missed times are
    // then due at once and cut one after another, as Spark reschedules them.
    let (_, last) = inner.clock_times();
    let first = Time(last.millis().saturating_add(interval));
    let (tx, rx) = crossbeam_channel::unbounded::<(Time, Instant, Cut)>();
    let pending = Arc::new(AtomicUsize::new(0));
    let runner_pending = pending.clone();
    let timer_inner = inner.clone();
    let timer = std::thread::Builder::new()
        .name("rill-clock".into())
        .spawn(move || {
            let inner = timer_inner;
            // Any failure here, a panic included, stops the context; the runner sees
            // the stop flag within `RUNNER_POLL`, so nothing waits on this thread.
            let result =
                crate::error::catch_thread_panic(|| tick(&inner, first, interval, &pending, tx))
                    .and_then(|r| r);
            if let Err(e) = result {
                inner.fail(e);
            }
        })
        .map_err(|e| crate::Error::io("cannot start the batch clock", e))?;
    let runner_inner = inner.clone();
    let runner = std::thread::Builder::new()
        .name("rill-scheduler".into())
        .spawn(move || {
            let inner = runner_inner;
            let result = crate::error::catch_thread_panic(|| run(&inner, &rx, &runner_pending))
                .and_then(|r| r);
            if let Err(e) = result {
                inner.fail(e);
            }
        })
        .map_err(|e| crate::Error::io("cannot start the scheduler", e))?;
    inner.add_thread(timer);
    inner.add_thread(runner);
    Ok(())
}

/// The timer: cuts a batch at every multiple of the interval and hands it to the runner.
fn tick(
    inner: &Inner,
    first: Time,
    interval: u64,
    pending: &AtomicUsize,
    tx: crossbeam_channel::Sender<(Time, Instant, Cut)>,
) -> crate::Result<()> {
    let mut next = first;
    // A recovered job may run the times it missed as one batch, once the logged batches
    // are recomputed.
    let mut catch_up = inner.catch_up_in_one_batch && inner.resumed_at().is_some();
    while !inner.stopping() {
        let now = now_ms();
        if now < next.millis() {
            std::thread::sleep(Duration::from_millis((next.millis() - now).min(20)));
            continue;
        }
        if catch_up && !inner.replay_pending() {
            catch_up = false;
            let missed = (now - next.millis()) / interval;
            if missed > 0 {
                tracing::info!(
                    missed_batches = missed + 1,
                    "catching up on the batch times missed while down in one batch"
                );
                next = Time(next.millis() + missed * interval);
            }
        }
        // While earlier batches wait to run, receivers are not drained: their bounded
        // buffers fill, they stop reading, and TCP pushes back, so a job that falls
        // behind does not buffer without bound.
        let draining = inner.draining.load(Ordering::SeqCst);
        let behind = !draining && pending.load(Ordering::SeqCst) >= MAX_PENDING;
        let cut = inner.cut_batch(next, !behind)?;
        inner.set_last_time(next);
        // Draining for a graceful stop: this is the last batch once nothing received is
        // left to cut.
        let last = draining && inner.receivers_buffered() == 0;
        if last {
            inner.final_time.store(next.millis(), Ordering::SeqCst);
        }
        pending.fetch_add(1, Ordering::SeqCst);
        if tx.send((next, Instant::now(), cut)).is_err() || last {
            return Ok(());
        }
        next = next
            .checked_plus(Duration::from_millis(interval))
            .ok_or_else(|| crate::Error::State("the batch time overflows".into()))?;
    }
    Ok(())
}

/// The runner: runs the batches the timer cut, in order, until the stop flag is set or
/// the timer ends after a graceful stop's last batch.
fn run(
    inner: &Inner,
    rx: &crossbeam_channel::Receiver<(Time, Instant, Cut)>,
    pending: &AtomicUsize,
) -> crate::Result<()> {
    loop {
        if inner.stopping() {
            if inner.stop_after_batch.load(Ordering::SeqCst) {
                inner.finish_shutdown();
            }
            return Ok(());
        }
        let (time, scheduled, cut) = match rx.recv_timeout(RUNNER_POLL) {
            Ok(b) => b,
            Err(RecvTimeoutError::Timeout) => continue,
            Err(RecvTimeoutError::Disconnected) => break,
        };
        let result = inner.run_batch(time, scheduled, cut);
        pending.fetch_sub(1, Ordering::SeqCst);
        result?;
    }
    // The clock stopped sending (a graceful stop's last batch has run).
    let _run = crate::sources::lock(inner.run_mutex());
    inner.runner_done.store(true, Ordering::SeqCst);
    inner.run_changed.notify_all();
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn first_batch_is_the_next_multiple() {
        assert_eq!(first_batch_time(1_234, 1_000), Time(2_000));
        assert_eq!(first_batch_time(2_000, 1_000), Time(3_000));
        assert_eq!(first_batch_time(0, 500), Time(500));
    }

    #[test]
    fn first_batch_time_does_not_panic() {
        assert_eq!(first_batch_time(1_234, 0), Time(1_235));
        assert_eq!(first_batch_time(u64::MAX, 0), Time(u64::MAX));
        assert_eq!(first_batch_time(u64::MAX - 1, 1_000), Time(u64::MAX));
        assert_eq!(first_batch_time(5, u64::MAX), Time(u64::MAX));
    }
}
