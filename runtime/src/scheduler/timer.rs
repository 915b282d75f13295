//! The timer of the system clock: fires at multiples of the batch interval, as Spark's
//! `RecurringTimer` (first batch at `(floor(now / interval) + 1) * interval`), cuts the
//! sources at each tick and hands the batch to the runner.

use super::Handover;
use super::batch;
use crate::driver::Driver;
use crate::time::now_ms;
use crate::{Result, Time};
use crossbeam_channel::Sender;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

/// Batches cut but not yet run beyond which receivers are left to fill up.
const MAX_PENDING: usize = 2;

/// Starts the timer thread. It goes on from the last batch time: `start()` set it to
/// the first batch time minus one interval, or a recovered run's last batch, whose
/// missed times are then due at once and cut one after another, as Spark reschedules
/// them. The runner sees a stop within its poll, so nothing waits on this thread.
pub(super) fn spawn(
    driver: Arc<Driver>,
    tx: Sender<Handover>,
    pending: Arc<AtomicUsize>,
) -> Result<JoinHandle<()>> {
    let interval = driver.config.interval_ms();
    let first = Time(driver.run.last_time().millis().saturating_add(interval));
    super::spawn(
        driver,
        "rill-clock",
        "cannot start the batch clock",
        move |driver| tick(driver, first, interval, &pending, tx),
    )
}

/// Cuts a batch at every multiple of the interval and hands it to the runner.
fn tick(
    driver: &Driver,
    first: Time,
    interval: u64,
    pending: &AtomicUsize,
    tx: Sender<Handover>,
) -> Result<()> {
    let mut next = first;
    // A recovered job may run the times it missed as one batch, once the logged batches
    // are recomputed.
    // Not on a cluster, where every process must run the same batch times.
    let mut catch_up = driver.config.catch_up_in_one_batch()
        && driver.run.resumed_at().is_some()
        && !driver.in_cluster();
    while !driver.run.stopping() {
        let now = now_ms();
        if now < next.millis() {
            std::thread::sleep(until(next).min(Duration::from_millis(20)));
            continue;
        }
        if catch_up && !driver.durability.replay_pending() {
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
        let draining = driver.run.draining();
        let behind = !draining && pending.load(Ordering::SeqCst) >= MAX_PENDING;
        let cut = batch::cut(driver, next, !behind)?;
        driver.run.set_last_time(next);
        // Draining for a graceful stop: this is the last batch once nothing received is
        // left to cut.
        let last = draining && driver.sources.buffered() == 0;
        if last {
            driver.run.set_final_time(next);
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

/// The time left until the wall-clock time `t`, to the microsecond: sleeping whole
/// milliseconds from `now_ms()` (which truncates) woke up to a millisecond late, which
/// a 10 ms batch interval notices.
fn until(t: Time) -> Duration {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap_or_default();
    Duration::from_millis(t.millis()).saturating_sub(now)
}
