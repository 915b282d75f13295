//! Graceful stop (Spark's `stop(stopGracefully = true)`): receivers stop reading, every
//! line they already received is cut into a last batch, the batches run, the last one
//! writes a checkpoint, and then the context stops.

use super::batch;
use crate::driver::Driver;
use crate::{Result, Time};
use std::time::{Duration, Instant};

/// Stops `driver`'s context gracefully, within 10 batch intervals (Spark's
/// `spark.streaming.gracefulStopTimeout`), then at once.
pub(crate) fn stop_gracefully(driver: &Driver) -> Result<()> {
    if driver.run.stopping() || !driver.run.is_active() {
        driver.shutdown();
        return Ok(());
    }
    tracing::info!("stopping gracefully: receivers stop, received data is processed");
    driver.sources.stop_receivers();
    if driver.config.is_manual() {
        let last = driver.run.last_time();
        let time = Time(last.millis() + driver.config.interval_ms());
        driver.run.set_final_time(time);
        let result = batch::cut(driver, time, true).and_then(|cut| {
            driver.run.set_last_time(time);
            batch::run(driver, time, Instant::now(), cut)
        });
        driver.shutdown();
        return result;
    }
    driver.run.begin_draining();
    let deadline = Instant::now() + driver.config.interval() * 10 + Duration::from_secs(1);
    if !driver.run.wait_runner_finished(deadline) {
        tracing::warn!("graceful stop timed out; stopping at once");
    }
    driver.shutdown();
    Ok(())
}
