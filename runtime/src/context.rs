//! The [`StreamingContext`]: configuration, lifecycle, and the batch loop.

use crate::clock;
use crate::metrics::BatchInfo;
use crate::sources::{SourceControl, SourceStats, lock};
use crate::{Batch, Builder, Error, Executor, Result, Time};
use std::collections::VecDeque;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Condvar, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

/// A generated job: runs one batch of one `stream!` pipeline.
pub(crate) type JobFn = Box<dyn FnMut(&Batch<'_>) -> Result<()> + Send>;

pub(crate) struct Job {
    pub(crate) explain: String,
    /// The canonical form of the pipeline's operator graph, for the plan fingerprint.
    pub(crate) canonical: String,
    pub(crate) run: JobFn,
}

impl Job {
    /// The first operator of the pipeline whose output depends on batch times (a window,
    /// or a refit every slide): its canonical line names a slide.
    pub(crate) fn windowed_op(&self) -> Option<&str> {
        self.canonical
            .lines()
            .find(|l| l.contains(" slide="))
            .and_then(|l| l.split_whitespace().nth(1))
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Lifecycle {
    Initialized,
    Active,
    Stopped,
}

pub(crate) struct Run {
    pub(crate) state: Lifecycle,
    pub(crate) last_time: Time,
    pub(crate) zero_time: Time,
    /// The clock resumes a recovered run (its zero and last times came from a checkpoint).
    pub(crate) recovered: bool,
    /// The first failure, which stopped the context.
    pub(crate) failure: Option<Error>,
}

pub(crate) struct Inner {
    pub(crate) batch_interval: Duration,
    pub(crate) parallelism: usize,
    pub(crate) checkpoint_dir: Mutex<Option<PathBuf>>,
    pub(crate) checkpoint_interval: Option<Duration>,
    pub(crate) write_ahead_log: bool,
    /// A recovered job runs the batch times it missed while down as one batch.
    pub(crate) catch_up_in_one_batch: bool,
    /// How long `text_file_stream` remembers the files it selected.
    pub(crate) file_remember: Duration,
    pub(crate) max_rate: u64,
    /// The builder's `max_line_length` and `max_clients`, for receiver sources.
    pub(crate) receiver_limits: crate::sources::receiver::ReceiverLimits,
    pub(crate) backpressure: Option<Mutex<crate::backpressure::PidRateEstimator>>,
    pub(crate) resume: AtomicBool,
    pub(crate) durability: Mutex<Option<crate::recovery::Durability>>,
    pub(crate) manual: bool,
    pub(crate) config_error: Option<String>,
    pub(crate) exec: Option<Executor>,
    pub(crate) stats: Arc<SourceStats>,
    pub(crate) sources: Mutex<Vec<Arc<dyn SourceControl>>>,
    pub(crate) jobs: Mutex<Vec<Job>>,
    pub(crate) errors: Mutex<Vec<String>>,
    pub(crate) run: Mutex<Run>,
    pub(crate) run_changed: Condvar,
    /// Graceful stop: the clock cuts everything received and stops after that batch.
    pub(crate) draining: AtomicBool,
    /// The time of the last batch of a graceful stop (0: none), which checkpoints.
    pub(crate) final_time: std::sync::atomic::AtomicU64,
    /// The scheduler thread has run every batch it was given.
    pub(crate) runner_done: AtomicBool,
    pub(crate) metrics: Mutex<VecDeque<BatchInfo>>,
    pub(crate) threads: Mutex<Vec<JoinHandle<()>>>,
    /// Set when a stop begins: the clock cuts no more batches, the runner takes no more.
    pub(crate) stop_flag: AtomicBool,
    /// A stop was asked for from inside a batch: the batch finishes (outputs and
    /// checkpoint), then its thread completes the stop.
    pub(crate) stop_after_batch: AtomicBool,
    /// The stop's clean-up (sources stopped, threads joined) has begun.
    pub(crate) shut: AtomicBool,
}

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
pub struct StreamingContext {
    pub(crate) inner: Arc<Inner>,
}

fn all_cores() -> usize {
    std::thread::available_parallelism().map_or(1, |n| n.get())
}

impl StreamingContext {
    /// A context on the system clock with `parallelism` = all cores.
    ///
    /// An invalid interval (zero, or not whole milliseconds) is reported by `start()`.
    pub fn new(batch_interval: Duration) -> StreamingContext {
        Self::with(batch_interval, None, None, false)
    }

    /// A context on a manual clock starting at 0, for tests: nothing runs until
    /// [`advance`](Self::advance).
    pub fn manual(batch_interval: Duration) -> StreamingContext {
        Self::with(batch_interval, None, None, true)
    }

    /// A builder for the other settings.
    pub fn builder() -> Builder {
        Builder::default()
    }

    pub(crate) fn with(
        interval: Duration,
        parallelism: Option<usize>,
        checkpoint_dir: Option<PathBuf>,
        manual: bool,
    ) -> Self {
        let parallelism = parallelism.unwrap_or_else(all_cores);
        let mut config_error = None;
        if interval.is_zero() || interval.subsec_nanos() % 1_000_000 != 0 {
            config_error = Some(format!(
                "the batch interval must be a positive whole number of milliseconds, not {interval:?}"
            ));
        } else if interval.as_millis() > u128::from(crate::builder::MAX_BATCH_INTERVAL_MS) {
            config_error = Some(format!(
                "the batch interval ({interval:?}) is too long: at most {} ms, so that 10 intervals fit in 64-bit milliseconds",
                crate::builder::MAX_BATCH_INTERVAL_MS
            ));
        } else if parallelism == 0 {
            config_error = Some("parallelism must be at least 1".to_string());
        }
        let exec = match config_error {
            None => match Executor::new(parallelism) {
                Ok(e) => Some(e),
                Err(e) => {
                    config_error = Some(e.to_string());
                    None
                }
            },
            Some(_) => None,
        };
        StreamingContext {
            inner: Arc::new(Inner {
                batch_interval: interval,
                parallelism,
                checkpoint_dir: Mutex::new(checkpoint_dir),
                checkpoint_interval: None,
                write_ahead_log: false,
                catch_up_in_one_batch: false,
                file_remember: crate::builder::DEFAULT_FILE_REMEMBER,
                max_rate: 0,
                receiver_limits: Default::default(),
                backpressure: None,
                resume: AtomicBool::new(false),
                durability: Mutex::new(None),
                manual,
                config_error,
                exec,
                stats: Arc::default(),
                sources: Mutex::new(Vec::new()),
                jobs: Mutex::new(Vec::new()),
                errors: Mutex::new(Vec::new()),
                run: Mutex::new(Run {
                    state: Lifecycle::Initialized,
                    last_time: Time(0),
                    zero_time: Time(0),
                    recovered: false,
                    failure: None,
                }),
                run_changed: Condvar::new(),
                draining: AtomicBool::new(false),
                final_time: Default::default(),
                runner_done: AtomicBool::new(false),
                metrics: Mutex::new(VecDeque::new()),
                threads: Mutex::new(Vec::new()),
                stop_flag: AtomicBool::new(false),
                stop_after_batch: AtomicBool::new(false),
                shut: AtomicBool::new(false),
            }),
        }
    }

    /// The batch interval.
    pub fn batch_interval(&self) -> Duration {
        self.inner.batch_interval
    }

    /// Number of worker threads and hash partitions.
    pub fn parallelism(&self) -> usize {
        self.inner.parallelism
    }

    /// The checkpoint directory, if set.
    pub fn checkpoint_dir(&self) -> Option<PathBuf> {
        self.inner.checkpoint_dir()
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
        *lock(&ctx.inner.checkpoint_dir) = Some(dir.as_ref().to_path_buf());
        ctx.inner.resume.store(true, Ordering::SeqCst);
        Ok(ctx)
    }

    /// Whether batches run on a manual clock.
    pub fn is_manual(&self) -> bool {
        self.inner.manual
    }

    /// The plans of the pipelines defined on this context: stages, what each fused, and
    /// where the shuffles are. `RILL_EXPLAIN=1` prints it at `start()`.
    pub fn explain(&self) -> String {
        lock(&self.inner.jobs)
            .iter()
            .map(|j| j.explain.as_str())
            .collect::<Vec<_>>()
            .join("\n")
    }

    /// Starts the sources and, with the system clock, the batch clock. Reports invalid
    /// configuration and invalid pipelines.
    pub fn start(&self) -> Result<()> {
        let inner = &self.inner;
        if let Some(e) = &inner.config_error {
            return Err(Error::Config(e.clone()));
        }
        {
            let run = lock(&inner.run);
            match run.state {
                Lifecycle::Initialized => {}
                Lifecycle::Active => {
                    return Err(Error::State("the context is already started".into()));
                }
                Lifecycle::Stopped => {
                    return Err(Error::State(
                        "a stopped context cannot be started again".into(),
                    ));
                }
            }
        }
        let errors = lock(&inner.errors).clone();
        if !errors.is_empty() {
            return Err(Error::Pipeline(errors.join("; ")));
        }
        if inner.catch_up_in_one_batch {
            if let Some(op) = lock(&inner.jobs).iter().find_map(|j| j.windowed_op()) {
                return Err(Error::Config(format!(
                    "catch_up_in_one_batch needs pipelines without windows: `{op}` depends on batch times"
                )));
            }
        }
        if std::env::var_os("RILL_EXPLAIN").is_some_and(|v| v != "0" && !v.is_empty()) {
            println!("{}", self.explain());
        }
        let sources = lock(&inner.sources).clone();
        inner.prepare_checkpoint_dir(inner.resume.load(Ordering::SeqCst))?;
        if let (true, Some(dir)) = (inner.write_ahead_log, inner.checkpoint_dir()) {
            std::fs::create_dir_all(&dir).map_err(|e| {
                Error::io(
                    format!("cannot create checkpoint directory {}", dir.display()),
                    e,
                )
            })?;
            for (i, s) in sources.iter().enumerate() {
                s.enable_wal(&dir.join(format!("wal-source{i}.log")))?;
            }
        }
        for s in &sources {
            s.set_rate(inner.max_rate);
        }
        for (i, s) in sources.iter().enumerate() {
            if let Err(e) = s.start() {
                for started in &sources[..i] {
                    started.stop();
                }
                return Err(e);
            }
        }
        let durable = inner
            .open_durability(&inner.plan_forms(), inner.resume.load(Ordering::SeqCst))
            .and_then(|()| {
                if !inner.manual && inner.resumed_at().is_none() {
                    let interval = inner.batch_interval.as_millis() as u64;
                    let first = clock::first_batch_time(clock::now_ms(), interval);
                    inner.set_zero_time(Time(first.millis() - interval));
                }
                inner.initial_snapshot()
            });
        if let Err(e) = durable {
            for s in &sources {
                s.stop();
            }
            return Err(e);
        }
        lock(&inner.run).state = Lifecycle::Active;
        inner.run_changed.notify_all();
        if !inner.manual {
            clock::spawn(inner.clone())?;
        }
        tracing::info!(
            interval_ms = inner.batch_interval.as_millis() as u64,
            parallelism = inner.parallelism,
            manual = inner.manual,
            "streaming context started"
        );
        Ok(())
    }

    /// Manual clock: runs exactly `n` batches now, one after another, each at the next
    /// multiple of the batch interval. Returns the first error a batch reports, which
    /// also stops the context (as it would on the system clock). A stop asked for from
    /// inside a batch ends the loop once that batch is done.
    pub fn advance(&self, n: usize) -> Result<()> {
        let inner = &self.inner;
        if !inner.manual {
            return Err(Error::State(
                "advance() needs a manual clock (StreamingContext::manual)".into(),
            ));
        }
        for _ in 0..n {
            let time = {
                let run = lock(&inner.run);
                match run.state {
                    Lifecycle::Active if !inner.stopping() => run
                        .last_time
                        .checked_plus(inner.batch_interval)
                        .ok_or_else(|| Error::State("the batch time overflows".into()))?,
                    Lifecycle::Initialized => {
                        return Err(Error::State("start() the context before advance()".into()));
                    }
                    _ => match &run.failure {
                        Some(e) => return Err(e.duplicate()),
                        None => return Err(Error::State("the context is stopped".into())),
                    },
                }
            };
            let result = inner.cut_batch(time, true).and_then(|cut| {
                lock(&inner.run).last_time = time;
                inner.run_batch(time, Instant::now(), cut)
            });
            if let Err(e) = result {
                let copy = e.duplicate();
                inner.fail(e);
                return Err(copy);
            }
            if inner.stop_after_batch.load(Ordering::SeqCst) {
                inner.finish_shutdown();
                return Ok(());
            }
        }
        Ok(())
    }

    /// Stops gracefully (Spark's `stop(stopGracefully = true)`): receivers stop reading,
    /// every line they received is cut into a last batch, the batches already cut run,
    /// the last one writes a checkpoint (with a checkpoint directory), then the context
    /// stops. Bounded by 10 batch intervals, as Spark's `gracefulStopTimeout`.
    pub fn stop_gracefully(&self) -> Result<()> {
        self.inner.stop_gracefully()
    }

    /// A handle that stops this context from another thread or a signal handler.
    pub fn stop_handle(&self) -> crate::StopHandle {
        crate::StopHandle {
            inner: self.inner.clone(),
        }
    }

    /// Stops the clock and the receivers at once, dropping batches not yet run (Spark's
    /// `stop(stopGracefully = false)`); a batch running meanwhile finishes first.
    /// Stopping twice is harmless. Returns the failure that stopped the context, if one
    /// did.
    pub fn stop(&self) -> Result<()> {
        self.inner.shutdown();
        let mut run = lock(&self.inner.run);
        // Another thread may be completing the stop: wait for it (not from inside a
        // batch, which completes the stop only after it returns).
        while run.state != Lifecycle::Stopped && !self.inner.in_own_batch() {
            run = self
                .inner
                .run_changed
                .wait_timeout(run, Duration::from_millis(50))
                .unwrap_or_else(|e| e.into_inner())
                .0;
        }
        match &run.failure {
            Some(e) => Err(e.duplicate()),
            None => Ok(()),
        }
    }

    /// Blocks until the context is stopped (by [`stop`](Self::stop) from another thread,
    /// or by a failed batch, whose error is returned).
    pub fn await_termination(&self) -> Result<()> {
        self.wait_stopped(None).map(|_| ())
    }

    /// Like [`await_termination`](Self::await_termination) but gives up after `timeout`;
    /// returns whether the context stopped.
    pub fn await_termination_or_timeout(&self, timeout: Duration) -> Result<bool> {
        self.wait_stopped(Some(timeout))
    }

    fn wait_stopped(&self, timeout: Option<Duration>) -> Result<bool> {
        let deadline = timeout.map(|t| Instant::now() + t);
        let mut run = lock(&self.inner.run);
        while run.state != Lifecycle::Stopped {
            run = match deadline {
                None => self
                    .inner
                    .run_changed
                    .wait(run)
                    .unwrap_or_else(|e| e.into_inner()),
                Some(d) => {
                    let now = Instant::now();
                    if now >= d {
                        return Ok(false);
                    }
                    self.inner
                        .run_changed
                        .wait_timeout(run, d - now)
                        .unwrap_or_else(|e| e.into_inner())
                        .0
                }
            };
        }
        match &run.failure {
            Some(e) => Err(e.duplicate()),
            None => Ok(true),
        }
    }

    /// Metrics of the batches run so far (the last 10,000), oldest first.
    pub fn batch_infos(&self) -> Vec<BatchInfo> {
        lock(&self.inner.metrics).iter().cloned().collect()
    }

    /// Input lines skipped because they were malformed (not UTF-8).
    pub fn malformed_records(&self) -> u64 {
        self.inner.stats.malformed_count()
    }

    /// Addresses the listening sources are bound to (after `start()`), in definition
    /// order; useful with port 0.
    pub fn local_addrs(&self) -> Vec<SocketAddr> {
        lock(&self.inner.sources)
            .iter()
            .filter_map(|s| s.local_addr())
            .collect()
    }

    /// The time of the last batch that was cut (zero before the first).
    pub fn last_batch_time(&self) -> Time {
        lock(&self.inner.run).last_time
    }
}

impl Drop for StreamingContext {
    fn drop(&mut self) {
        self.inner.shutdown();
    }
}
