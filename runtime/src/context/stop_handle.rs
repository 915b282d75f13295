//! [`StopHandle`]: stops a context from another thread, a signal handler, or an output
//! of one of its own batches.

use crate::driver::Driver;
use crate::{Result, scheduler};
use std::sync::Arc;

/// Stops a context from another thread, or from a signal handler.
///
/// ```
/// use rill_runtime::StreamingContext;
/// use std::time::Duration;
///
/// let ctx = StreamingContext::new(Duration::from_millis(50));
/// let handle = ctx.stop_handle();
/// ctx.start().unwrap();
/// std::thread::spawn(move || handle.stop_gracefully());
/// ctx.await_termination().unwrap();
/// ```
#[derive(Clone)]
pub struct StopHandle {
    pub(super) driver: Arc<Driver>,
}

impl StopHandle {
    /// Stops gracefully: see [`StreamingContext::stop_gracefully`](crate::StreamingContext::stop_gracefully).
    /// Called from inside a batch (an output), it returns at once and the stop goes on
    /// on a thread of its own once the batch is done.
    pub fn stop_gracefully(&self) -> Result<()> {
        if self.driver.in_own_batch() {
            let driver = self.driver.clone();
            std::thread::Builder::new()
                .name("rill-stop".into())
                .spawn(move || {
                    if let Err(e) = scheduler::stop_gracefully(&driver) {
                        driver.fail(e);
                    }
                })
                .map_err(|e| crate::Error::io("cannot start the stopping thread", e))?;
            return Ok(());
        }
        scheduler::stop_gracefully(&self.driver)
    }

    /// Stops at once, dropping batches not yet run. Called from inside a batch (an
    /// output), the batch finishes first, its outputs and checkpoint included: this is
    /// how a job stops after exactly batch N.
    pub fn stop(&self) {
        self.driver.shutdown();
    }
}
