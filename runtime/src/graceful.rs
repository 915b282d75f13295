//! Graceful stop (Spark's `stop(stopGracefully = true)`): receivers stop reading, every
//! line they already received is cut into a last batch, the batches run, the last one
//! writes a checkpoint, and then the context stops.

use crate::context::Inner;
use crate::sources::lock;
use crate::{Result, Time};
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

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
    pub(crate) inner: Arc<Inner>,
}

impl StopHandle {
    /// Stops gracefully: see [`StreamingContext::stop_gracefully`](crate::StreamingContext::stop_gracefully).
    /// Called from inside a batch (an output), it returns at once and the stop goes on
    /// on a thread of its own once the batch is done.
    pub fn stop_gracefully(&self) -> Result<()> {
        if self.inner.in_own_batch() {
            let inner = self.inner.clone();
            std::thread::Builder::new()
                .name("rill-stop".into())
                .spawn(move || {
                    if let Err(e) = inner.stop_gracefully() {
                        inner.fail(e);
                    }
                })
                .map_err(|e| crate::Error::io("cannot start the stopping thread", e))?;
            return Ok(());
        }
        self.inner.stop_gracefully()
    }

    /// Stops at once, dropping batches not yet run. Called from inside a batch (an
    /// output), the batch finishes first, its outputs and checkpoint included: this is
    /// how a job stops after exactly batch N.
    pub fn stop(&self) {
        self.inner.shutdown();
    }
}

impl Inner {
    /// Records buffered in receivers and not yet cut into a batch.
    pub(crate) fn receivers_buffered(&self) -> usize {
        lock(&self.sources).iter().map(|s| s.buffered()).sum()
    }

    pub(crate) fn stop_gracefully(&self) -> Result<()> {
        if self.stopping() || !self.is_active() {
            self.shutdown();
            return Ok(());
        }
        tracing::info!("stopping gracefully: receivers stop, received data is processed");
        let sources = lock(&self.sources).clone();
        for s in sources.iter().filter(|s| s.is_receiver()) {
            s.stop();
        }
        if self.is_manual() {
            let (_, last) = self.clock_times();
            let time = Time(last.millis() + self.batch_interval.as_millis() as u64);
            self.final_time.store(time.millis(), Ordering::SeqCst);
            let result = self.cut_batch(time, true).and_then(|cut| {
                self.set_last_time(time);
                self.run_batch(time, Instant::now(), cut)
            });
            self.shutdown();
            return result;
        }
        self.draining.store(true, Ordering::SeqCst);
        // Spark's spark.streaming.gracefulStopTimeout: 10 batch intervals.
        let deadline = Instant::now() + self.batch_interval * 10 + Duration::from_secs(1);
        let mut run = lock(self.run_mutex());
        while !self.runner_done.load(Ordering::SeqCst) {
            let now = Instant::now();
            if now >= deadline {
                tracing::warn!("graceful stop timed out; stopping at once");
                break;
            }
            run = self
                .run_changed
                .wait_timeout(run, deadline - now)
                .unwrap_or_else(|e| e.into_inner())
                .0;
        }
        drop(run);
        self.shutdown();
        Ok(())
    }
}
