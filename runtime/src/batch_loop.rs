//! The batch loop of a context: cutting sources, running the jobs of a batch, recording
//! metrics, adapting receiver rates, and shutting down.

use crate::context::{Inner, Lifecycle, Run};
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
    /// the batch) and logs what was cut; returns the records cut.
    pub(crate) fn cut_batch(&self, time: Time, receivers: bool) -> Result<usize> {
        if let Some(record) = self.next_replay() {
            if record.time_ms == time.millis() {
                return self.replay_sources(&record);
            }
            tracing::warn!(
                logged = record.time_ms,
                time = time.millis(),
                "the batch log does not match the clock; cutting live"
            );
        }
        let sources = lock(&self.sources).clone();
        let n = sources
            .iter()
            .filter(|s| receivers || !s.is_receiver())
            .map(|s| s.cut(time))
            .sum();
        self.log_cut(time)?;
        Ok(n)
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

    /// Runs every job on the batch at `time`, recording metrics.
    pub(crate) fn run_batch(&self, time: Time, scheduled: Instant, records: usize) -> Result<()> {
        let Some(exec) = &self.exec else {
            return Err(Error::Config(self.config_error.clone().unwrap_or_default()));
        };
        let started = Instant::now();
        let zero = lock(&self.run).zero_time;
        let batch = Batch::new(time, zero, exec);
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
                    let message = panic
                        .downcast_ref::<&str>()
                        .map(|s| s.to_string())
                        .or_else(|| panic.downcast_ref::<String>().cloned())
                        .unwrap_or_else(|| "unknown panic".into());
                    result = Err(Error::JobPanicked {
                        time_ms: time.millis(),
                        message,
                    });
                    break;
                }
            }
        }
        if let (Ok(()), Some(h)) = (&result, hooks) {
            result = self.finish_checkpoint(time, h);
        }
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

    /// Records a failed batch and stops the context.
    pub(crate) fn fail(&self, e: &Error) {
        tracing::error!(error = %e, "batch failed; stopping the streaming context");
        lock(&self.run).failure = Some(e.to_string());
        self.shutdown();
    }

    pub(crate) fn shutdown(&self) {
        if self.stop_flag.swap(true, Ordering::SeqCst) {
            return;
        }
        let sources = lock(&self.sources).clone();
        for s in &sources {
            s.stop();
        }
        let me = std::thread::current().id();
        let threads: Vec<_> = lock(&self.threads).drain(..).collect();
        for h in threads {
            if h.thread().id() != me {
                let _ = h.join();
            }
        }
        lock(&self.run).state = Lifecycle::Stopped;
        self.run_changed.notify_all();
        tracing::info!("streaming context stopped");
    }
}
