//! The runner of the system clock: runs the batches the timer cut, in order, until a
//! stop begins or the timer ends after a graceful stop's last batch.

use super::Handover;
use super::batch;
use crate::Result;
use crate::driver::Driver;
use crossbeam_channel::{Receiver, RecvTimeoutError};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::thread::JoinHandle;
use std::time::Duration;

/// How long the runner waits for a batch before looking at the stop flag again.
const RUNNER_POLL: Duration = Duration::from_millis(20);

/// Starts the runner thread.
pub(super) fn spawn(
    driver: Arc<Driver>,
    rx: Receiver<Handover>,
    pending: Arc<AtomicUsize>,
) -> Result<JoinHandle<()>> {
    super::spawn(
        driver,
        "rill-scheduler",
        "cannot start the scheduler",
        move |driver| run(driver, &rx, &pending),
    )
}

fn run(driver: &Driver, rx: &Receiver<Handover>, pending: &AtomicUsize) -> Result<()> {
    loop {
        if driver.run.stopping() {
            if driver.run.stop_deferred() {
                driver.finish_shutdown();
            }
            return Ok(());
        }
        let (time, scheduled, cut) = match rx.recv_timeout(RUNNER_POLL) {
            Ok(b) => b,
            Err(RecvTimeoutError::Timeout) => continue,
            Err(RecvTimeoutError::Disconnected) => break,
        };
        let result = batch::run(driver, time, scheduled, cut);
        pending.fetch_sub(1, Ordering::SeqCst);
        result?;
        if driver.follows_cluster() && driver.run.is_final_time(time) {
            // Process 0 ran its last batch (a graceful stop): this process stops too.
            driver.shutdown();
            return Ok(());
        }
    }
    // The clock stopped sending (a graceful stop's last batch has run).
    driver.run.runner_finished();
    Ok(())
}
