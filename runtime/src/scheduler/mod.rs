//! The scheduler: turns the ticks of the batch clock into batches and runs them.
//!
//! - [`timer`]: on the system clock, a thread (`rill-clock`) that cuts a batch at every
//!   multiple of the batch interval and hands it to the runner;
//! - [`runner`]: the thread (`rill-scheduler`) that runs the batches it is handed, in
//!   order, so a slow batch delays the next one's processing but not its cut;
//! - [`manual`]: the manual clock, which runs batches on the caller's thread;
//! - [`batch`]: the work of one batch on any clock: cut the sources, run the jobs,
//!   checkpoint, record metrics, adapt the receivers' rate;
//! - [`graceful`]: a graceful stop, which drains the receivers into a last batch.
//!
//! It drives the context's parts ([`crate::driver`]), which know nothing of it.

mod batch;
mod graceful;
mod manual;
mod runner;
mod timer;

pub(crate) use graceful::stop_gracefully;
pub(crate) use manual::advance;

use crate::driver::Driver;
use crate::time::{first_batch_time, now_ms};
use crate::{Result, Time};
use batch::Cut;
use std::sync::Arc;
use std::sync::atomic::AtomicUsize;
use std::thread::JoinHandle;
use std::time::Instant;

/// A batch the timer cut, handed to the runner: its time, when it was due, its cut.
type Handover = (Time, Instant, Cut);

/// Before the first batch on the system clock: the clock's zero time is the first batch
/// time from now minus one interval (a resumed run keeps its checkpoint's clock).
pub(crate) fn set_zero_time(driver: &Driver) {
    if !driver.config.is_manual() && driver.run.resumed_at().is_none() {
        let interval = driver.config.interval_ms();
        let first = first_batch_time(now_ms(), interval);
        driver.run.set_zero_time(Time(first.millis() - interval));
    }
}

/// Starts the system clock's timer and runner threads (nothing on a manual clock).
pub(crate) fn start(driver: &Arc<Driver>) -> Result<()> {
    if driver.config.is_manual() {
        return Ok(());
    }
    let (tx, rx) = crossbeam_channel::unbounded::<Handover>();
    let pending = Arc::new(AtomicUsize::new(0));
    let timer = timer::spawn(driver.clone(), tx, pending.clone())?;
    let runner = runner::spawn(driver.clone(), rx, pending)?;
    driver.run.add_thread(timer);
    driver.run.add_thread(runner);
    Ok(())
}

/// Spawns a thread of the scheduler running `body`: any failure there, a panic
/// included, stops the context.
fn spawn(
    driver: Arc<Driver>,
    name: &str,
    what: &str,
    body: impl FnOnce(&Driver) -> Result<()> + Send + 'static,
) -> Result<JoinHandle<()>> {
    std::thread::Builder::new()
        .name(name.into())
        .spawn(move || {
            let result = crate::error::catch_thread_panic(|| body(&driver)).and_then(|r| r);
            if let Err(e) = result {
                driver.fail(e);
            }
        })
        .map_err(|e| crate::Error::io(what, e))
}
