//! [`RunState`]: where a context is in its life (initialized, active, stopped), its
//! clock's times, the failure that stopped it, the flags of a stop in progress, the
//! runtime's threads and the metrics of the batches run.
//!
//! Every change of the lifecycle notifies one condition variable, which `stop()`,
//! `await_termination()` and a graceful stop wait on.

use crate::metrics::{BatchInfo, KEPT_BATCHES, Totals};
use crate::sync::{lock, wait, wait_timeout};
use crate::{Error, Result, Time};
use std::collections::VecDeque;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Condvar, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant, SystemTime};

/// A batch cut and not yet completed: waiting for the runner, or running.
#[derive(Clone, Debug)]
pub(crate) struct ActiveBatch {
    /// The batch time.
    pub(crate) time: Time,
    /// Records the sources cut into it.
    pub(crate) records: usize,
    /// When it was cut.
    pub(crate) cut_at: SystemTime,
    /// When its jobs started, if they have.
    pub(crate) started_at: Option<SystemTime>,
}

/// The metrics a context keeps: the last batches, the running totals, and the batches
/// in flight.
#[derive(Default)]
struct Metrics {
    kept: VecDeque<BatchInfo>,
    totals: Totals,
    active: VecDeque<ActiveBatch>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Lifecycle {
    Initialized,
    Active,
    Stopped,
}

/// What the condition variable guards.
struct Status {
    state: Lifecycle,
    last_time: Time,
    zero_time: Time,
    /// The clock resumes a recovered run (its zero and last times came from a checkpoint).
    recovered: bool,
    /// The first failure, which stopped the context.
    failure: Option<Error>,
}

/// The run state of a context.
pub(crate) struct RunState {
    status: Mutex<Status>,
    changed: Condvar,
    /// Set when a stop begins: the clock cuts no more batches, the runner takes no more.
    stop: AtomicBool,
    /// A stop was asked for from inside a batch: the batch finishes (outputs and
    /// checkpoint), then its thread completes the stop.
    stop_after_batch: AtomicBool,
    /// The stop's clean-up (sources stopped, threads joined) has begun.
    shut: AtomicBool,
    /// Graceful stop: the clock cuts everything received and stops after that batch.
    draining: AtomicBool,
    /// The time of the last batch of a graceful stop (0: none), which checkpoints.
    final_time: AtomicU64,
    /// The scheduler thread has run every batch it was given.
    runner_done: AtomicBool,
    metrics: Mutex<Metrics>,
    threads: Mutex<Vec<JoinHandle<()>>>,
    /// When the context was made, for its uptime.
    created: (Instant, SystemTime),
    /// When it was started, if it was.
    started: Mutex<Option<(Instant, SystemTime)>>,
}

impl RunState {
    /// An initialized context, its clock at zero.
    pub(crate) fn new() -> RunState {
        RunState {
            status: Mutex::new(Status {
                state: Lifecycle::Initialized,
                last_time: Time(0),
                zero_time: Time(0),
                recovered: false,
                failure: None,
            }),
            changed: Condvar::new(),
            stop: AtomicBool::new(false),
            stop_after_batch: AtomicBool::new(false),
            shut: AtomicBool::new(false),
            draining: AtomicBool::new(false),
            final_time: AtomicU64::new(0),
            runner_done: AtomicBool::new(false),
            metrics: Mutex::new(Metrics::default()),
            threads: Mutex::new(Vec::new()),
            created: (Instant::now(), SystemTime::now()),
            started: Mutex::new(None),
        }
    }

    // --- lifecycle ---

    /// Whether the context has left its initial state (it was started, or stopped).
    pub(crate) fn is_started(&self) -> bool {
        lock(&self.status).state != Lifecycle::Initialized
    }

    /// Whether the context runs batches.
    pub(crate) fn is_active(&self) -> bool {
        lock(&self.status).state == Lifecycle::Active
    }

    /// An error unless the context can be started (it is initialized).
    pub(crate) fn check_startable(&self) -> Result<()> {
        match lock(&self.status).state {
            Lifecycle::Initialized => Ok(()),
            Lifecycle::Active => Err(Error::State("the context is already started".into())),
            Lifecycle::Stopped => Err(Error::State(
                "a stopped context cannot be started again".into(),
            )),
        }
    }

    /// The context runs batches from now on.
    pub(crate) fn activate(&self) {
        *lock(&self.started) = Some((Instant::now(), SystemTime::now()));
        lock(&self.status).state = Lifecycle::Active;
        self.changed.notify_all();
    }

    /// The context is stopped: wakes everyone waiting for it. Batches cut and not run
    /// are dropped, so none is in flight any more.
    pub(crate) fn mark_stopped(&self) {
        lock(&self.metrics).active.clear();
        lock(&self.status).state = Lifecycle::Stopped;
        self.changed.notify_all();
    }

    /// Where the context is in its life, as a word: `initialized`, `active`, `stopped`.
    pub(crate) fn state_name(&self) -> &'static str {
        match lock(&self.status).state {
            Lifecycle::Initialized => "initialized",
            Lifecycle::Active => "active",
            Lifecycle::Stopped => "stopped",
        }
    }

    /// The failure that stopped the context, as text.
    pub(crate) fn failure_text(&self) -> Option<String> {
        lock(&self.status).failure.as_ref().map(|e| e.to_string())
    }

    /// When the context was made and when it was started (if it was): monotonic and
    /// wall-clock instants.
    pub(crate) fn created_started(&self) -> ((Instant, SystemTime), Option<(Instant, SystemTime)>) {
        (self.created, *lock(&self.started))
    }

    /// Keeps `e` unless a failure was recorded before (the first one stopped the context).
    pub(crate) fn record_failure(&self, e: Error) {
        lock(&self.status).failure.get_or_insert(e);
    }

    /// Blocks until the context is stopped or `timeout` passes; whether it stopped, or
    /// the failure that stopped it.
    pub(crate) fn wait_stopped(&self, timeout: Option<Duration>) -> Result<bool> {
        let deadline = timeout.map(|t| Instant::now() + t);
        let mut status = lock(&self.status);
        while status.state != Lifecycle::Stopped {
            status = match deadline {
                None => wait(&self.changed, status),
                Some(d) => {
                    let now = Instant::now();
                    if now >= d {
                        return Ok(false);
                    }
                    wait_timeout(&self.changed, status, d - now)
                }
            };
        }
        match &status.failure {
            Some(e) => Err(e.duplicate()),
            None => Ok(true),
        }
    }

    /// After a stop was asked for: waits until another thread has completed it (unless
    /// `in_own_batch`, as a batch completes the stop only after it returns); the failure
    /// that stopped the context, if one did.
    pub(crate) fn await_stop(&self, in_own_batch: impl Fn() -> bool) -> Result<()> {
        let mut status = lock(&self.status);
        while status.state != Lifecycle::Stopped && !in_own_batch() {
            status = wait_timeout(&self.changed, status, Duration::from_millis(50));
        }
        match &status.failure {
            Some(e) => Err(e.duplicate()),
            None => Ok(()),
        }
    }

    /// The time of the next batch on the manual clock, or why no batch can run now.
    pub(crate) fn next_manual_time(&self, interval: Duration) -> Result<Time> {
        let status = lock(&self.status);
        match status.state {
            Lifecycle::Active if !self.stopping() => status
                .last_time
                .checked_plus(interval)
                .ok_or_else(|| Error::State("the batch time overflows".into())),
            Lifecycle::Initialized => {
                Err(Error::State("start() the context before advance()".into()))
            }
            _ => match &status.failure {
                Some(e) => Err(e.duplicate()),
                None => Err(Error::State("the context is stopped".into())),
            },
        }
    }

    // --- the clock's times ---

    /// The time of the last batch that was cut (the zero time before the first).
    pub(crate) fn last_time(&self) -> Time {
        lock(&self.status).last_time
    }

    /// The clock's zero time: the first batch time minus the interval.
    pub(crate) fn zero_time(&self) -> Time {
        lock(&self.status).zero_time
    }

    /// The clock's zero time and the last batch time.
    pub(crate) fn clock_times(&self) -> (Time, Time) {
        let status = lock(&self.status);
        (status.zero_time, status.last_time)
    }

    /// A batch at `t` was cut.
    pub(crate) fn set_last_time(&self, t: Time) {
        lock(&self.status).last_time = t;
    }

    /// Sets the clock's zero time (the first batch time minus the interval).
    pub(crate) fn set_zero_time(&self, t: Time) {
        let mut status = lock(&self.status);
        status.zero_time = t;
        status.last_time = t;
    }

    /// Sets the clock's zero time and last batch time (a cluster's process 0's).
    #[cfg_attr(not(feature = "cluster"), allow(dead_code))]
    pub(crate) fn set_clock(&self, zero: Time, last: Time) {
        let mut status = lock(&self.status);
        status.zero_time = zero;
        status.last_time = last;
    }

    /// The clock resumes a recovered run at `last` (zero time `zero`).
    pub(crate) fn set_recovered_clock(&self, zero: Time, last: Time) {
        let mut status = lock(&self.status);
        status.zero_time = zero;
        status.last_time = last;
        status.recovered = true;
    }

    /// Whether the clock resumes a recovered run; its last batch time.
    pub(crate) fn resumed_at(&self) -> Option<Time> {
        let status = lock(&self.status);
        status.recovered.then_some(status.last_time)
    }

    // --- stopping ---

    /// Whether a stop has begun: no more batches are cut or run.
    pub(crate) fn stopping(&self) -> bool {
        self.stop.load(Ordering::Relaxed)
    }

    /// A stop asked for from inside a batch: no more batches, and the batch's thread
    /// completes the stop once the batch is done. False if the stop's clean-up has
    /// already begun (nothing is left to defer).
    pub(crate) fn defer_stop(&self) -> bool {
        if self.shut.load(Ordering::SeqCst) {
            return false;
        }
        self.stop.store(true, Ordering::SeqCst);
        self.stop_after_batch.store(true, Ordering::SeqCst);
        true
    }

    /// Whether a batch deferred a stop to its end.
    pub(crate) fn stop_deferred(&self) -> bool {
        self.stop_after_batch.load(Ordering::SeqCst)
    }

    /// Begins the stop's clean-up; false if it had begun already.
    pub(crate) fn begin_shutdown(&self) -> bool {
        self.stop.store(true, Ordering::SeqCst);
        !self.shut.swap(true, Ordering::SeqCst)
    }

    /// A graceful stop begins: the clock cuts what receivers hold, then stops.
    pub(crate) fn begin_draining(&self) {
        self.draining.store(true, Ordering::SeqCst);
    }

    /// Whether a graceful stop is draining the receivers.
    pub(crate) fn draining(&self) -> bool {
        self.draining.load(Ordering::SeqCst)
    }

    /// The batch at `t` is a graceful stop's last: it writes a checkpoint.
    pub(crate) fn set_final_time(&self, t: Time) {
        self.final_time.store(t.millis(), Ordering::SeqCst);
    }

    /// Whether the batch at `t` is a graceful stop's last.
    pub(crate) fn is_final_time(&self, t: Time) -> bool {
        t.millis() == self.final_time.load(Ordering::SeqCst)
    }

    /// The runner has run every batch the clock gave it (a graceful stop's last one).
    pub(crate) fn runner_finished(&self) {
        let _status = lock(&self.status);
        self.runner_done.store(true, Ordering::SeqCst);
        self.changed.notify_all();
    }

    /// Waits until the runner has finished or `deadline` passes; whether it finished.
    pub(crate) fn wait_runner_finished(&self, deadline: Instant) -> bool {
        let mut status = lock(&self.status);
        while !self.runner_done.load(Ordering::SeqCst) {
            let now = Instant::now();
            if now >= deadline {
                return false;
            }
            status = wait_timeout(&self.changed, status, deadline - now);
        }
        true
    }

    // --- threads and metrics ---

    /// A thread of the runtime, joined when the context stops.
    pub(crate) fn add_thread(&self, h: JoinHandle<()>) {
        lock(&self.threads).push(h);
    }

    /// The runtime's threads, to join.
    pub(crate) fn take_threads(&self) -> Vec<JoinHandle<()>> {
        lock(&self.threads).drain(..).collect()
    }

    /// A batch at `time` with `records` records was cut: it is in flight until recorded.
    pub(crate) fn batch_queued(&self, time: Time, records: usize) {
        let mut m = lock(&self.metrics);
        // A context that falls far behind keeps queueing: the oldest are kept, as they
        // are the ones running next.
        if m.active.len() < KEPT_BATCHES {
            m.active.push_back(ActiveBatch {
                time,
                records,
                cut_at: SystemTime::now(),
                started_at: None,
            });
        }
    }

    /// The jobs of the batch at `time` start.
    pub(crate) fn batch_started(&self, time: Time) {
        let now = SystemTime::now();
        if let Some(b) = lock(&self.metrics)
            .active
            .iter_mut()
            .find(|b| b.time == time)
        {
            b.started_at = Some(now);
        }
    }

    /// Keeps the metrics of a batch (the last [`KEPT_BATCHES`]) and adds it to the
    /// totals; `failed` if its jobs failed. It is no longer in flight.
    pub(crate) fn record_batch(&self, info: BatchInfo, failed: bool) {
        let mut m = lock(&self.metrics);
        m.active.retain(|b| b.time != info.time);
        m.totals.add(&info, failed);
        if m.kept.len() == KEPT_BATCHES {
            m.kept.pop_front();
        }
        m.kept.push_back(info);
    }

    /// Metrics of the batches run so far, oldest first.
    pub(crate) fn batch_infos(&self) -> Vec<BatchInfo> {
        lock(&self.metrics).kept.iter().cloned().collect()
    }

    /// Metrics of the last `n` batches run, oldest first.
    pub(crate) fn last_batch_infos(&self, n: usize) -> Vec<BatchInfo> {
        let m = lock(&self.metrics);
        m.kept
            .iter()
            .skip(m.kept.len().saturating_sub(n))
            .cloned()
            .collect()
    }

    /// The last batch run, if any.
    pub(crate) fn last_batch_info(&self) -> Option<BatchInfo> {
        lock(&self.metrics).kept.back().cloned()
    }

    /// The totals over every batch run so far.
    pub(crate) fn totals(&self) -> Totals {
        lock(&self.metrics).totals.clone()
    }

    /// The batches cut and not yet completed, oldest first.
    pub(crate) fn active_batches(&self) -> Vec<ActiveBatch> {
        lock(&self.metrics).active.iter().cloned().collect()
    }
}

thread_local! {
    /// The context whose batch the current thread is running (its run state's address),
    /// or 0.
    static IN_BATCH: std::cell::Cell<usize> = const { std::cell::Cell::new(0) };
}

/// Marks the current thread as running a batch of one context while it lives.
pub(crate) struct InBatch(usize);

impl InBatch {
    pub(crate) fn enter(run: &RunState) -> InBatch {
        InBatch(IN_BATCH.with(|c| c.replace(run as *const RunState as usize)))
    }

    /// Whether the current thread is running a batch of the context of `run`.
    pub(crate) fn here(run: &RunState) -> bool {
        IN_BATCH.with(|c| c.get()) == run as *const RunState as usize
    }
}

impl Drop for InBatch {
    fn drop(&mut self) {
        IN_BATCH.with(|c| c.set(self.0));
    }
}
