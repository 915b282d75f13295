//! The manual clock: `advance(n)` runs `n` batches on the caller's thread, each at the
//! next multiple of the batch interval.

use super::batch;
use crate::driver::Driver;
use crate::{Error, Result};
use std::time::Instant;

/// Runs exactly `n` batches now. The first error a batch reports also stops the context
/// (as it would on the system clock); a stop asked for from inside a batch ends the loop
/// once that batch is done.
pub(crate) fn advance(driver: &Driver, n: usize) -> Result<()> {
    if !driver.config.is_manual() {
        return Err(Error::State(
            "advance() needs a manual clock (StreamingContext::manual)".into(),
        ));
    }
    for _ in 0..n {
        let time = driver.run.next_manual_time(driver.config.interval())?;
        let result = batch::cut(driver, time, true).and_then(|cut| {
            driver.run.set_last_time(time);
            batch::run(driver, time, Instant::now(), cut)
        });
        if let Err(e) = result {
            let copy = e.duplicate();
            driver.fail(e);
            return Err(copy);
        }
        if driver.run.stop_deferred() {
            driver.finish_shutdown();
            return Ok(());
        }
    }
    Ok(())
}
