//! The batch loop of a context: cutting sources, running the jobs of a batch, recording
//! metrics, adapting receiver rates, and shutting down.

use crate::context::{Inner, Lifecycle, Run};
use crate::error::panic_message;
use crate::exec::BatchMode;
use crate::metrics::{BatchInfo, KEPT_BATCHES};
use crate::sources::lock;
use crate::{Batch, Error, Result, Time};
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::PathBuf;
use std::sync::Mutex;
use std::sync::atomic::Ordering;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

impl Inner {
    pub(crate) fn is_started(&self) -> bool {
        lock(&self.run).state != Lifecycle::Initialized
    }

    pub(crate) fn is_active(&self) -> bool {
        lock(&self.run).state == Lifecycle::Active
    }

    pub(crate) fn is_manual(&self) -> bool {
        self.manual
    }

    pub(crate) fn run_mutex(&self) -> &Mutex<Run> {
        &self.run
    }

    pub(crate) fn stopping(&self) -> bool {
        self.stop_flag.load(Ordering::Relaxed)
    }

    pub(crate) fn add_thread(&self, h: JoinHandle<()>) {
        lock(&self.threads).push(h);
    }

    pub(crate) fn set_last_time(&self, t: Time) {
        lock(&self.run).last_time = t;
    }

    /// Sets the clock's zero time (the first batch time minus the interval).
    pub(crate) fn set_zero_time(&self, t: Time) {
        let mut run = lock(&self.run);
        run.zero_time = t;
        run.last_time = t;
    }

    /// Cuts every source's block for `time` (again, as logged, when recovery recomputes
    /// the batch), logs what was cut and records where the sources are after it. A
    /// source that failed (a receiver's thread panicked, its log could not be written)
    /// fails the cut.
    pub(crate) fn cut_batch(&self, time: Time, receivers: bool) -> Result<Cut> {
        let sources = lock(&self.sources).clone();
        for s in &sources {
            s.check()?;
        }
        if let Some(logged) = self.next_replay() {
            if logged.record.time_ms == time.millis() {
                let records = self.replay_sources(&logged.record)?;
                self.record_positions(time)?;
                let mode = if logged.completed {
                    BatchMode::StateOnly
                } else {
                    BatchMode::Full
                };
                return Ok(Cut { records, mode });
            }
            tracing::warn!(
                logged = logged.record.time_ms,
                time = time.millis(),
                "the batch log does not match the clock; cutting live"
            );
        }
        let records = sources
            .iter()
            .filter(|s| receivers || !s.is_receiver())
            .map(|s| s.cut(time))
            .sum();
        self.log_cut(time)?;
        self.record_positions(time)?;
        Ok(Cut {
            records,
            mode: BatchMode::Full,
        })
    }

    /// The checkpoint directory, if set.
    pub(crate) fn checkpoint_dir(&self) -> Option<PathBuf> {
        lock(&self.checkpoint_dir).clone()
    }

    /// How often state is checkpointed.
    pub(crate) fn checkpoint_interval(&self) -> Duration {
        self.checkpoint_interval.unwrap_or(self.batch_interval * 10)
    }

    /// The clock's zero time and the last batch time.
    pub(crate) fn clock_times(&self) -> (Time, Time) {
        let run = lock(&self.run);
        (run.zero_time, run.last_time)
    }

    /// Resumes the clock of a recovered run.
    pub(crate) fn set_recovered_clock(&self, zero: Time, last: Time) {
        let mut run = lock(&self.run);
        run.zero_time = zero;
        run.last_time = last;
        run.recovered = true;
    }

    /// Whether the clock resumes a recovered run; its last batch time.
    pub(crate) fn resumed_at(&self) -> Option<Time> {
        let run = lock(&self.run);
        run.recovered.then_some(run.last_time)
    }

    /// Runs every job on the batch at `time`, recording metrics; then writes the
    /// checkpoint if one is due and marks the batch's outputs complete in the batch log.
    pub(crate) fn run_batch(&self, time: Time, scheduled: Instant, cut: Cut) -> Result<()> {
        let Some(exec) = &self.exec else {
            return Err(Error::Config(self.config_error.clone().unwrap_or_default()));
        };
        let _in_batch = InBatch::enter(self);
        let started = Instant::now();
        let zero = lock(&self.run).zero_time;
        let batch = Batch::new(time, zero, exec).with_mode(cut.mode);
        let hooks = self.batch_checkpoint(time);
        let mut result = Ok(());
        for (i, job) in lock(&self.jobs).iter_mut().enumerate() {
            let batch = batch.for_job(i, hooks.as_ref());
            match catch_unwind(AssertUnwindSafe(|| (job.run)(&batch))) {
                Ok(Ok(())) => {}
                Ok(Err(e)) => {
                    result = Err(e);
                    break;
                }
                Err(panic) => {
                    result = Err(Error::JobPanicked {
                        time_ms: time.millis(),
                        message: panic_message(panic.as_ref()),
                    });
                    break;
                }
            }
        }
        if let (Ok(()), Some(e)) = (&result, exec.take_failure()) {
            result = Err(e);
        }
        if let (Ok(()), Some(h)) = (&result, hooks) {
            result = self.finish_checkpoint(time, h);
        }
        if result.is_ok() && cut.mode == BatchMode::Full {
            result = self.log_done(time);
        }
        let records = cut.records + self.stats.take_late_records();
        let info = BatchInfo {
            time,
            records,
            scheduling_delay: started.saturating_duration_since(scheduled),
            processing_time: started.elapsed(),
        };
        tracing::debug!(
            time = time.millis(),
            records,
            processing_ms = info.processing_time.as_millis() as u64,
            "batch done"
        );
        self.adapt_rate(&info);
        let mut m = lock(&self.metrics);
        if m.len() == KEPT_BATCHES {
            m.pop_front();
        }
        m.push_back(info);
        result
    }

    /// Backpressure: the receivers' next rate from the batch that just finished.
    fn adapt_rate(&self, info: &BatchInfo) {
        let Some(pid) = &self.backpressure else {
            return;
        };
        let rate = lock(pid).compute(
            info.time.millis(),
            info.records as u64,
            info.processing_time.as_secs_f64() * 1000.0,
            info.scheduling_delay.as_secs_f64() * 1000.0,
        );
        if let Some(rate) = rate {
            let sources = lock(&self.sources).clone();
            let receivers = sources.iter().filter(|s| s.is_receiver()).count().max(1) as f64;
            let mut each = (rate / receivers).ceil() as u64;
            if self.max_rate > 0 {
                each = each.min(self.max_rate);
            }
            tracing::debug!(rate = each, "backpressure: new receiver rate");
            for s in &sources {
                s.set_rate(each);
            }
        }
    }

    /// Records a failure (the first one is kept and returned by `await_termination`
    /// and `stop`) and stops the context.
    pub(crate) fn fail(&self, e: Error) {
        tracing::error!(error = %e, "stopping the streaming context after a failure");
        lock(&self.run).failure.get_or_insert(e);
        self.shutdown();
    }

    /// Stops the context. Asked for from inside a batch (an output calling
    /// `StopHandle::stop`, on the thread running the batch or a worker), the batch
    /// finishes first, its checkpoint included, and its thread completes the stop.
    pub(crate) fn shutdown(&self) {
        if self.in_own_batch() && !self.shut.load(Ordering::SeqCst) {
            self.stop_flag.store(true, Ordering::SeqCst);
            self.stop_after_batch.store(true, Ordering::SeqCst);
            return;
        }
        self.finish_shutdown();
    }

    /// Whether the current thread is running a batch of this context (the thread that
    /// runs the batch, or one of its workers).
    pub(crate) fn in_own_batch(&self) -> bool {
        InBatch::here(self) || self.exec.as_ref().is_some_and(|e| e.on_worker_thread())
    }

    /// Stops the sources, joins the runtime's threads and marks the context stopped;
    /// each step runs even if an earlier one panicked (a log line written to a closed
    /// stderr, a receiver's panic), so a stop always completes.
    pub(crate) fn finish_shutdown(&self) {
        self.stop_flag.store(true, Ordering::SeqCst);
        if self.shut.swap(true, Ordering::SeqCst) {
            return;
        }
        let _stopped = Stopped(self);
        let sources = lock(&self.sources).clone();
        for s in &sources {
            if let Err(e) = crate::error::catch_thread_panic(|| s.stop()) {
                lock(&self.run).failure.get_or_insert(e);
            }
        }
        let me = std::thread::current().id();
        let threads: Vec<_> = lock(&self.threads).drain(..).collect();
        for h in threads {
            if h.thread().id() != me {
                let name = h.thread().name().unwrap_or("unnamed").to_string();
                if let Err(panic) = h.join() {
                    lock(&self.run)
                        .failure
                        .get_or_insert(Error::ThreadPanicked {
                            thread: name,
                            message: panic_message(panic.as_ref()),
                        });
                }
            }
        }
    }
}

/// What a cut took: the records, and whether the batch runs its outputs.
pub(crate) struct Cut {
    pub(crate) records: usize,
    pub(crate) mode: BatchMode,
}

/// Marks the context stopped when dropped, however the stop ended.
struct Stopped<'a>(&'a Inner);

impl Drop for Stopped<'_> {
    fn drop(&mut self) {
        lock(&self.0.run).state = Lifecycle::Stopped;
        self.0.run_changed.notify_all();
        let _ = std::panic::catch_unwind(|| tracing::info!("streaming context stopped"));
    }
}

thread_local! {
    /// The context whose batch the current thread is running (its address), or 0.
    static IN_BATCH: std::cell::Cell<usize> = const { std::cell::Cell::new(0) };
}

/// Marks the current thread as running a batch of one context while it lives.
pub(crate) struct InBatch(usize);

impl InBatch {
    pub(crate) fn enter(inner: &Inner) -> InBatch {
        InBatch(IN_BATCH.with(|c| c.replace(inner as *const Inner as usize)))
    }

    /// Whether the current thread is running a batch of `inner`.
    pub(crate) fn here(inner: &Inner) -> bool {
        IN_BATCH.with(|c| c.get()) == inner as *const Inner as usize
    }
}

impl Drop for InBatch {
    fn drop(&mut self) {
        IN_BATCH.with(|c| c.set(self.0));
    }
}
