//! The driver: everything a [`StreamingContext`](crate::StreamingContext) and its
//! threads share, as a few named parts, each in its own file with its own methods:
//!
//! - [`config`]: the settings, fixed once the context is built;
//! - [`run`]: the run state — lifecycle, the clock's times, the failure that stopped
//!   the context, the flags of a stop in progress, threads and metrics;
//! - [`durability`]: the checkpoint directory — batch log, source positions,
//!   snapshots, and what a recovery still has to replay;
//! - [`source_set`]: the sources, and what is done to all of them at once;
//! - [`jobs`]: the generated jobs of the pipelines;
//!
//! plus the executor the jobs run on. What needs several parts at once is here: ending
//! the context (on a failure or a stop) and recovering it at `start()`. The scheduler
//! (`crate::scheduler`) drives batches through the parts; the driver knows nothing of it.

pub(crate) mod config;
pub(crate) mod durability;
pub(crate) mod jobs;
pub(crate) mod run;
pub(crate) mod source_set;

use crate::checkpoint::Snapshot;
use crate::error::panic_message;
use crate::exec::{BatchCheckpoint, BatchMode};
use crate::sync::lock;
use crate::{Batch, Error, Executor, Result, Time};
use config::Config;
use durability::{Durability, warn_unrestored};
use jobs::{JobFailure, Jobs};
use run::{InBatch, RunState};
use source_set::{Positions, SourceSet};
use std::path::PathBuf;

/// What a context and its threads share.
pub(crate) struct Driver {
    /// The settings.
    pub(crate) config: Config,
    /// Lifecycle, clock, stop flags, threads, metrics.
    pub(crate) run: RunState,
    /// Checkpoint directory, batch log, positions, snapshots, replay.
    pub(crate) durability: Durability,
    /// The sources.
    pub(crate) sources: SourceSet,
    /// The pipelines' generated jobs.
    pub(crate) jobs: Jobs,
    /// The executor the jobs run on; none if the configuration is invalid.
    exec: Option<Executor>,
    /// State ids a restore-only run loaded from a snapshot that then failed to decode
    /// in a later operator: an older snapshot is a valid fallback only if it replaces
    /// every one of them.
    probed: std::sync::Mutex<std::collections::HashSet<String>>,
    /// The context's place in a cluster (none: a local context).
    #[cfg(feature = "cluster")]
    pub(crate) cluster: crate::cluster::session::Membership,
}

impl Driver {
    /// A driver for `config`, checkpointing to `checkpoint_dir`. With the cluster
    /// feature it joins the cluster the environment names, or `explicit` instead (the
    /// environment's membership is taken either way: it numbers the contexts a test
    /// thread makes). It starts the executor for the partitions this process owns; a
    /// pool that cannot start is the configuration's error, which [`exec`](Self::exec)
    /// and `start()` report.
    pub(crate) fn new(
        mut config: Config,
        checkpoint_dir: Option<PathBuf>,
        #[cfg(feature = "cluster")] explicit: Option<crate::cluster::ClusterSpec>,
    ) -> Driver {
        #[cfg(feature = "cluster")]
        let cluster = {
            let env = crate::cluster::session::Membership::for_new_context();
            explicit.map_or(env, crate::cluster::session::Membership::explicit)
        };
        #[cfg(feature = "cluster")]
        let processes = cluster.processes();
        #[cfg(not(feature = "cluster"))]
        let processes = 1;
        let exec = config.start_executor(processes);
        Driver {
            sources: SourceSet::new(config.backpressure(), config.interval()),
            config,
            run: RunState::new(),
            durability: Durability::new(checkpoint_dir),
            jobs: Jobs::default(),
            exec,
            probed: Default::default(),
            #[cfg(feature = "cluster")]
            cluster,
        }
    }

    /// Joins the cluster, if the context is in one (at `start()`): connects to the
    /// other processes; on a process other than 0, leaves the sources process 0 runs
    /// to it.
    pub(crate) fn join_cluster(&self) -> Result<()> {
        #[cfg(feature = "cluster")]
        if let Some(spec) = self.cluster.spec() {
            if self.jobs.count() >= 250 {
                return Err(Error::Config(
                    "a context on a cluster runs at most 249 pipelines".into(),
                ));
            }
            self.durability.in_cluster(spec.process, spec.processes)?;
            self.cluster.connect()?;
            if spec.process != 0 {
                self.sources.follow();
            }
        }
        Ok(())
    }

    /// In a cluster: this process failed a batch with `e`; the other processes fail
    /// theirs with its message, rather than waiting for exchanges this one skipped.
    pub(crate) fn abort_cluster(&self, e: &Error) {
        #[cfg(feature = "cluster")]
        if let Some(s) = self.cluster.session() {
            let lost = matches!(e, Error::Cluster(_));
            if !lost {
                s.abort(e);
            }
        }
        let _ = e;
    }

    /// Whether the context is one process of a cluster.
    pub(crate) fn in_cluster(&self) -> bool {
        #[cfg(feature = "cluster")]
        if self.cluster.spec().is_some() {
            return true;
        }
        false
    }

    /// Whether the context is a process of a cluster other than process 0 that follows
    /// process 0's stop (not a replica of a test, which stops itself).
    pub(crate) fn follows_cluster(&self) -> bool {
        #[cfg(feature = "cluster")]
        if let Some(spec) = self.cluster.spec() {
            return spec.process != 0 && !self.cluster.replicas();
        }
        false
    }

    /// In a cluster, at `start()`: every process takes process 0's clock (its zero time
    /// and last batch time), so all run the same batch times.
    pub(crate) fn agree_on_clock(&self) -> Result<()> {
        #[cfg(feature = "cluster")]
        if let Some(s) = self.cluster.session() {
            let (zero, last) = self.run.clock_times();
            let (zero, last) = s.agree_on_clock(zero.millis(), last.millis())?;
            self.run.set_clock(Time(zero), Time(last));
        }
        Ok(())
    }

    /// In a cluster, process 0's word on the batch at `time` (the one every process
    /// follows): whether it runs its outputs, and whether it is the last one.
    pub(crate) fn batch_header(&self, time: Time, mode: BatchMode) -> Result<(BatchMode, bool)> {
        let last = self.run.is_final_time(time);
        #[cfg(feature = "cluster")]
        if let Some(s) = self.cluster.session() {
            let mine = crate::cluster::session::Header {
                outputs: mode == BatchMode::Full,
                last,
            };
            let h = s.header(time.millis(), mine)?;
            let mode = if h.outputs {
                BatchMode::Full
            } else {
                BatchMode::StateOnly
            };
            return Ok((mode, h.last));
        }
        Ok((mode, last))
    }

    /// In a cluster: the sum of `value` over the processes, after the jobs of the batch
    /// at `time` ran (each counted its own partitions); `value` locally.
    pub(crate) fn cluster_total(&self, time: Time, value: u64) -> Result<u64> {
        #[cfg(feature = "cluster")]
        if let Some(s) = self.cluster.session() {
            return s.total(time.millis(), value);
        }
        let _ = time;
        Ok(value)
    }

    /// In a cluster: once every process wrote its snapshot of `time`, process 0 marks
    /// it complete in the manifest.
    fn cluster_checkpoint(&self, time: Time, first: bool) -> Result<()> {
        #[cfg(feature = "cluster")]
        if let Some(s) = self.cluster.session() {
            if first {
                s.first_snapshot_written()?;
            } else {
                s.checkpoint_written(time.millis())?;
            }
            self.durability.cluster_complete(time)?;
        }
        let _ = (time, first);
        Ok(())
    }

    /// A batch at `time` on this context's executor (and cluster session, if any).
    pub(crate) fn batch<'e>(&'e self, exec: &'e Executor, time: Time, zero: Time) -> Batch<'e> {
        let batch = Batch::new(time, zero, exec);
        #[cfg(feature = "cluster")]
        let batch = batch.with_cluster(self.cluster.session());
        batch
    }

    /// The executor, or the configuration error that kept it from starting.
    pub(crate) fn exec(&self) -> Result<&Executor> {
        match &self.exec {
            Some(e) => Ok(e),
            None => Err(Error::Config(
                self.config.error().unwrap_or_default().to_string(),
            )),
        }
    }

    // --- ending the context ---

    /// Records a failure (the first one is kept and returned by `await_termination`
    /// and `stop`) and stops the context.
    pub(crate) fn fail(&self, e: Error) {
        tracing::error!(error = %e, "stopping the streaming context after a failure");
        self.run.record_failure(e);
        self.shutdown();
    }

    /// Stops the context. Asked for from inside a batch (an output calling
    /// `StopHandle::stop`, on the thread running the batch or a worker), the batch
    /// finishes first, its checkpoint included, and its thread completes the stop.
    pub(crate) fn shutdown(&self) {
        if self.in_own_batch() && self.run.defer_stop() {
            return;
        }
        self.finish_shutdown();
    }

    /// Whether the current thread is running a batch of this context (the thread that
    /// runs the batch, or one of its workers).
    pub(crate) fn in_own_batch(&self) -> bool {
        InBatch::here(&self.run) || self.exec.as_ref().is_some_and(|e| e.on_worker_thread())
    }

    /// Marks the current thread as running a batch of this context while the value lives.
    pub(crate) fn enter_batch(&self) -> InBatch {
        InBatch::enter(&self.run)
    }

    /// Stops the sources, joins the runtime's threads and marks the context stopped;
    /// each step runs even if an earlier one panicked (a log line written to a closed
    /// stderr, a receiver's panic), so a stop always completes.
    pub(crate) fn finish_shutdown(&self) {
        if !self.run.begin_shutdown() {
            return;
        }
        let _stopped = Stopped(&self.run);
        self.sources.stop_each(|e| self.run.record_failure(e));
        let me = std::thread::current().id();
        for h in self.run.take_threads() {
            if h.thread().id() != me {
                let name = h.thread().name().unwrap_or("unnamed").to_string();
                if let Err(panic) = h.join() {
                    self.run.record_failure(Error::ThreadPanicked {
                        thread: name,
                        message: panic_message(panic.as_ref()),
                    });
                }
            }
        }
    }

    // --- recovery and snapshots ---

    /// At `start()`: opens the checkpoint directory and, resuming, restores the jobs'
    /// state, the sources' positions and the clock from the newest valid snapshot (see
    /// [`Durability::open`]).
    pub(crate) fn recover(&self) -> Result<()> {
        let resumed = self.durability.open(
            &self.jobs.plan_forms(),
            |snap| self.restore_jobs(snap),
            |snap| self.sources.restore_positions(&snap.sources),
        )?;
        if let Some((zero, last)) = resumed {
            self.run.set_recovered_clock(zero, last);
        }
        Ok(())
    }

    /// Runs every job once in restore-only mode with the state of a snapshot.
    fn restore_jobs(&self, snap: &Snapshot) -> Result<()> {
        let exec = self.exec()?;
        let ids: std::collections::HashSet<String> =
            snap.states.iter().map(|(id, _)| id.clone()).collect();
        if let Some(kept) = lock(&self.probed).iter().find(|id| !ids.contains(*id)) {
            return Err(Error::Checkpoint(format!(
                "it lacks the state of operator {kept}, which a newer snapshot already restored"
            )));
        }
        let hooks = BatchCheckpoint {
            restore: std::sync::Mutex::new(snap.states.iter().cloned().collect()),
            save: None,
        };
        let batch = Batch::new(Time(snap.time_ms), Time(snap.zero_ms), exec)
            .with_mode(BatchMode::RestoreOnly);
        let result = self.jobs.run(&batch, Some(&hooks), &mut Vec::new());
        if result.is_err() {
            // What the run took from the map was loaded into operators before the failure.
            let left = lock(&hooks.restore);
            lock(&self.probed).extend(ids.into_iter().filter(|id| !left.contains_key(id)));
        }
        result.map_err(|f| match f {
            JobFailure::Error(e) => e,
            JobFailure::Panicked(message) => {
                Error::Checkpoint(format!("restoring state panicked: {message}"))
            }
        })?;
        warn_unrestored(hooks.restore);
        Ok(())
    }

    /// Writes the snapshot a fresh start begins from (the sources' initial positions).
    pub(crate) fn initial_snapshot(&self) -> Result<()> {
        let (zero, last) = self.run.clock_times();
        let written = self
            .durability
            .initial_snapshot(zero, last, || self.sources.positions())?;
        if self.durability.dir().is_some() {
            self.cluster_checkpoint(last, true)?;
        }
        self.committed(last, written)
    }

    /// After the jobs of the batch at `time` ran with `hooks`: writes its snapshot if it
    /// saved state.
    pub(crate) fn finish_checkpoint(&self, time: Time, hooks: BatchCheckpoint) -> Result<()> {
        let due = hooks.save.is_some();
        let written = self
            .durability
            .finish_batch(time, self.run.zero_time(), hooks)?;
        if due {
            self.cluster_checkpoint(time, false)?;
        }
        self.committed(time, written)
    }

    /// A snapshot holding `positions` is durable: sources may let go of what only older
    /// checkpoints needed.
    fn committed(&self, time: Time, positions: Option<Positions>) -> Result<()> {
        if let Some(positions) = positions {
            self.sources.committed(&positions)?;
            tracing::debug!(time = time.millis(), "checkpoint written");
        }
        Ok(())
    }
}

/// Marks the context stopped when dropped, however the stop ended.
struct Stopped<'a>(&'a RunState);

impl Drop for Stopped<'_> {
    fn drop(&mut self) {
        self.0.mark_stopped();
        let _ = std::panic::catch_unwind(|| tracing::info!("streaming context stopped"));
    }
}
