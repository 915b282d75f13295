//! The work of one batch, on either clock: cut every source (or recut a logged batch
//! during recovery) and log the cut; then run every job on it, commit the sinks, write
//! the checkpoint if one is due, mark the batch complete in the log, tell the sources
//! (direct sources commit their offsets), record its metrics and adapt the sources'
//! rates.

use crate::driver::Driver;
use crate::driver::jobs::JobFailure;
use crate::exec::{BatchMode, StageTimes};
use crate::metrics::BatchInfo;
use crate::{Error, Result, Time};
use std::time::Instant;

/// What a cut took: the number of records of each source, and whether the batch runs
/// its outputs.
pub(crate) struct Cut {
    records: Vec<usize>,
    mode: BatchMode,
}

/// Cuts every source's block for `time` (again, as logged, when recovery recomputes
/// the batch), logs what was cut and records where the sources are after it. A source
/// that failed (a receiver's thread panicked, its log could not be written) fails the
/// cut. Receivers are left uncut unless `receivers` (while batches queue up).
pub(super) fn cut(driver: &Driver, time: Time, receivers: bool) -> Result<Cut> {
    let sources = &driver.sources;
    let durability = &driver.durability;
    sources.check()?;
    if let Some(logged) = durability.next_replay() {
        if logged.record.time_ms == time.millis() {
            let records = sources.replay(&logged.record)?;
            durability.record_positions(time, || sources.positions())?;
            let mode = if logged.completed {
                BatchMode::StateOnly
            } else {
                BatchMode::Full
            };
            driver.run.batch_queued(time, records.iter().sum());
            return Ok(Cut { records, mode });
        }
        tracing::warn!(
            logged = logged.record.time_ms,
            time = time.millis(),
            "the batch log does not match the clock; cutting live"
        );
    }
    let records = sources.cut(time, receivers);
    durability.log_cut(time, || sources.block_records(time))?;
    durability.record_positions(time, || sources.positions())?;
    driver.run.batch_queued(time, records.iter().sum());
    Ok(Cut {
        records,
        mode: BatchMode::Full,
    })
}

/// Whether the batch at `time` writes a checkpoint: every checkpoint interval after the
/// clock's zero, and a graceful stop's last batch.
fn checkpoint_due(driver: &Driver, time: Time, zero: Time) -> bool {
    let every = driver.config.checkpoint_interval().as_millis() as u64;
    (every > 0 && time > zero && (time.millis() - zero.millis()) % every == 0)
        || driver.run.is_final_time(time)
}

/// Runs every job on the batch at `time`, cut as `cut` and due at `scheduled`,
/// recording metrics; then writes the checkpoint if one is due and marks the batch's
/// outputs complete in the batch log.
pub(super) fn run(driver: &Driver, time: Time, scheduled: Instant, cut: Cut) -> Result<()> {
    let exec = driver.exec()?;
    // In a cluster every process runs the batch as process 0 says.
    let (mode, last) = driver.batch_header(time, cut.mode)?;
    let cut = Cut { mode, ..cut };
    let _in_batch = driver.enter_batch();
    let started = Instant::now();
    driver.run.batch_started(time);
    let zero = driver.run.zero_time();
    let stage_times = StageTimes::default();
    let batch = driver
        .batch(exec, time, zero)
        .with_mode(cut.mode)
        .with_stage_times(&stage_times);
    let hooks = driver
        .durability
        .batch_hooks(last || checkpoint_due(driver, time, zero));
    let mut pipeline_times = Vec::new();
    let mut result = driver
        .jobs
        .run(&batch, hooks.as_ref(), &mut pipeline_times)
        .map_err(|f| match f {
            JobFailure::Error(e) => e,
            JobFailure::Panicked(message) => Error::JobPanicked {
                time_ms: time.millis(),
                message,
            },
        });
    if let (Ok(()), Some(e)) = (&result, exec.take_failure()) {
        result = Err(e);
    }
    // On a cluster, each process counted the late records of its own partitions.
    let mut late_records = stage_times.late_records();
    if result.is_ok() {
        match driver.cluster_total(time, late_records) {
            Ok(total) => late_records = total,
            Err(e) => result = Err(e),
        }
    }
    if result.is_ok() && cut.mode == BatchMode::Full {
        result = driver.jobs.commit(time);
    }
    if let (Ok(()), Some(h)) = (&result, hooks) {
        result = driver.finish_checkpoint(time, h);
    }
    if result.is_ok() && cut.mode == BatchMode::Full {
        result = driver.durability.log_done(time);
    }
    // The sources hear that the batch is done (a direct source commits its offsets to
    // the broker), also when recovery recomputed it for its state only: its outputs
    // completed before the crash, but its commit may not have.
    if result.is_ok() {
        result = driver.sources.batch_completed(time);
    }
    let records = cut.records.iter().sum::<usize>() + driver.sources.take_late_records();
    let info = BatchInfo {
        time,
        records,
        source_records: cut.records,
        scheduling_delay: started.saturating_duration_since(scheduled),
        processing_time: started.elapsed(),
        pipeline_times,
        late_records,
        stage_times: stage_times.into_vec(),
    };
    tracing::debug!(
        time = time.millis(),
        records,
        processing_ms = info.processing_time.as_millis() as u64,
        "batch done"
    );
    driver.sources.adapt_rate(&info, driver.config.max_rate());
    driver.run.record_batch(info, result.is_err());
    if let Err(e) = &result {
        driver.abort_cluster(e);
    }
    if last && driver.follows_cluster() {
        // Process 0 stops gracefully after this batch; so does this process.
        driver.run.set_final_time(time);
    }
    result
}
