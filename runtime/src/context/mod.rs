//! The [`StreamingContext`], the public face of a streaming job, with its [`Builder`] and
//! [`StopHandle`].
//!
//! Each method is a step or two on the context's parts ([`crate::driver`]) or a call
//! into the scheduler ([`crate::scheduler`]); the state lives there.

mod builder;
mod stop_handle;

pub use builder::Builder;
pub use stop_handle::StopHandle;

use crate::driver::Driver;
use crate::driver::config::Config;
use crate::metrics::BatchInfo;
use crate::{Result, Time, scheduler};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

/// The entry point of a streaming job: a batch interval, a clock, partitions and the
/// pipelines defined on it with `stream!`.
///
/// ```
/// use rill_runtime::StreamingContext;
/// use std::time::Duration;
///
/// let ctx = StreamingContext::manual(Duration::from_secs(1));
/// ctx.start().unwrap();
/// ctx.advance(2).unwrap();          // two (empty) batches, at 1000 ms and 2000 ms
/// assert_eq!(ctx.batch_infos().len(), 2);
/// ctx.stop().unwrap();
/// ```
///
/// Clones share the one job (as Spark's context is one object however many references
/// there are); the job stops when the last clone is dropped, if nothing stopped it
/// before.
#[derive(Clone)]
pub struct StreamingContext {
    pub(crate) driver: Arc<Driver>,
    /// Where the streaming UI listens, if it was asked for.
    ui_addr: Option<SocketAddr>,
    /// Dropped with the last clone, which stops the job.
    _owner: Arc<Owner>,
}

/// What the clones of a context share: dropping the last stops the job.
struct Owner(Arc<Driver>);

impl Drop for Owner {
    fn drop(&mut self) {
        self.0.shutdown();
    }
}

impl StreamingContext {
    /// A context on the system clock with `parallelism` = all cores.
    ///
    /// An invalid interval (zero, or not whole milliseconds) is reported by `start()`.
    pub fn new(batch_interval: Duration) -> StreamingContext {
        Self::unchecked(batch_interval, false)
    }

    /// A context on a manual clock starting at 0, for tests: nothing runs until
    /// [`advance`](Self::advance).
    pub fn manual(batch_interval: Duration) -> StreamingContext {
        Self::unchecked(batch_interval, true)
    }

    /// A builder for the other settings.
    pub fn builder() -> Builder {
        Builder::default()
    }

    /// A context with default settings whose errors `start()` reports.
    fn unchecked(interval: Duration, manual: bool) -> StreamingContext {
        let config = Config::new(interval, None, manual);
        Self::from_driver(Driver::new(
            config,
            None,
            #[cfg(feature = "cluster")]
            None,
        ))
    }

    fn from_driver(driver: Driver) -> StreamingContext {
        let driver = Arc::new(driver);
        StreamingContext {
            _owner: Arc::new(Owner(driver.clone())),
            driver,
            ui_addr: None,
        }
    }

    /// The batch interval.
    pub fn batch_interval(&self) -> Duration {
        self.driver.config.interval()
    }

    /// Number of worker threads and hash partitions.
    pub fn parallelism(&self) -> usize {
        self.driver.config.parallelism()
    }

    /// The checkpoint directory, if set.
    pub fn checkpoint_dir(&self) -> Option<PathBuf> {
        self.driver.durability.dir()
    }

    /// Spark's `getOrCreate`: builds the context and its pipelines with `create`, and
    /// resumes it from the checkpoint in `dir` if there is one: `start()` restores every
    /// stateful operator and source position from the newest valid snapshot, recomputes
    /// the logged batches after it, then the batch times missed while the job was down.
    /// A checkpoint written by different pipelines is refused with an error.
    pub fn get_or_create<F>(dir: impl AsRef<Path>, create: F) -> Result<StreamingContext>
    where
        F: FnOnce() -> Result<StreamingContext>,
    {
        let ctx = create()?;
        ctx.driver.durability.resume_from(dir.as_ref());
        Ok(ctx)
    }

    /// This process's index and the number of processes, when the context is one
    /// process of a cluster (feature `cluster`; see DISTRIBUTED.md).
    #[cfg(feature = "cluster")]
    pub fn cluster_process(&self) -> Option<(usize, usize)> {
        self.driver.cluster.spec().map(|s| (s.process, s.processes))
    }

    /// Whether batches run on a manual clock.
    pub fn is_manual(&self) -> bool {
        self.driver.config.is_manual()
    }

    /// The plans of the pipelines defined on this context: stages, what each fused, and
    /// where the shuffles are. `RILL_EXPLAIN=1` prints it at `start()`.
    pub fn explain(&self) -> String {
        self.driver.jobs.explain()
    }

    /// Starts the sources and, with the system clock, the batch clock. Reports invalid
    /// configuration and invalid pipelines.
    pub fn start(&self) -> Result<()> {
        let d = &self.driver;
        d.config.check()?;
        d.run.check_startable()?;
        d.jobs.check(d.config.catch_up_in_one_batch())?;
        d.join_cluster()?;
        if std::env::var_os("RILL_EXPLAIN").is_some_and(|v| v != "0" && !v.is_empty()) {
            println!("{}", self.explain());
        }
        d.durability.prepare()?;
        if let (true, Some(dir)) = (d.config.write_ahead_log(), d.durability.dir()) {
            if crate::store::Location::is_object_store(&dir) {
                return Err(crate::driver::config::wal_in_object_store(&dir));
            }
            d.sources.enable_wal(&dir)?;
        }
        d.sources.set_rate(d.config.max_rate());
        d.sources.start()?;
        let recovered = d.recover().and_then(|()| {
            scheduler::set_zero_time(d);
            d.agree_on_clock()?;
            d.initial_snapshot()
        });
        if let Err(e) = recovered {
            d.sources.stop();
            return Err(e);
        }
        d.run.activate();
        scheduler::start(d)?;
        if d.config.status_line() {
            crate::ui::status::spawn(d)?;
        }
        tracing::info!(
            interval_ms = d.config.interval_ms(),
            parallelism = d.config.parallelism(),
            manual = d.config.is_manual(),
            "streaming context started"
        );
        Ok(())
    }

    /// Manual clock: runs exactly `n` batches now, one after another, each at the next
    /// multiple of the batch interval. Returns the first error a batch reports, which
    /// also stops the context (as it would on the system clock). A stop asked for from
    /// inside a batch ends the loop once that batch is done.
    pub fn advance(&self, n: usize) -> Result<()> {
        scheduler::advance(&self.driver, n)
    }

    /// Stops gracefully (Spark's `stop(stopGracefully = true)`): receivers stop reading,
    /// every line they received is cut into a last batch, the batches already cut run,
    /// the last one writes a checkpoint (with a checkpoint directory), then the context
    /// stops. Bounded by 10 batch intervals, as Spark's `gracefulStopTimeout`.
    pub fn stop_gracefully(&self) -> Result<()> {
        scheduler::stop_gracefully(&self.driver)
    }

    /// A handle that stops this context from another thread or a signal handler.
    pub fn stop_handle(&self) -> StopHandle {
        StopHandle {
            driver: self.driver.clone(),
        }
    }

    /// Stops the clock and the receivers at once, dropping batches not yet run (Spark's
    /// `stop(stopGracefully = false)`); a batch running meanwhile finishes first.
    /// Stopping twice is harmless. Returns the failure that stopped the context, if one
    /// did.
    pub fn stop(&self) -> Result<()> {
        self.driver.shutdown();
        // Another thread may be completing the stop: wait for it (not from inside a
        // batch, which completes the stop only after it returns).
        self.driver.run.await_stop(|| self.driver.in_own_batch())
    }

    /// Blocks until the context is stopped (by [`stop`](Self::stop) from another thread,
    /// or by a failed batch, whose error is returned).
    pub fn await_termination(&self) -> Result<()> {
        self.driver.run.wait_stopped(None).map(|_| ())
    }

    /// Like [`await_termination`](Self::await_termination) but gives up after `timeout`;
    /// returns whether the context stopped.
    pub fn await_termination_or_timeout(&self, timeout: Duration) -> Result<bool> {
        self.driver.run.wait_stopped(Some(timeout))
    }

    /// Metrics of the batches run so far (the last 10,000), oldest first.
    pub fn batch_infos(&self) -> Vec<BatchInfo> {
        self.driver.run.batch_infos()
    }

    /// Input lines skipped because they were malformed (not UTF-8).
    pub fn malformed_records(&self) -> u64 {
        self.driver.sources.malformed_count()
    }

    /// Addresses the listening sources are bound to (after `start()`), in definition
    /// order; useful with port 0.
    pub fn local_addrs(&self) -> Vec<SocketAddr> {
        self.driver.sources.local_addrs()
    }

    /// Whether [`start`](Self::start) was called (successfully or not).
    pub fn is_started(&self) -> bool {
        self.driver.run.is_started()
    }

    /// The address the streaming UI is bound to, if [`Builder::ui`] asked for it: the
    /// page is at `http://ADDR/`, the metrics at `http://ADDR/metrics`.
    pub fn ui_addr(&self) -> Option<SocketAddr> {
        self.ui_addr
    }

    /// A one-line summary of the run, as [`Builder::status_line`] keeps on stderr:
    /// state, batches done, input rate over the last batches, the last batch's
    /// processing time and scheduling delay, batches queued and failed.
    pub fn status_line(&self) -> String {
        crate::ui::status::line(&self.driver)
    }

    /// The time of the last batch that was cut (zero before the first).
    pub fn last_batch_time(&self) -> Time {
        self.driver.run.last_time()
    }
}
