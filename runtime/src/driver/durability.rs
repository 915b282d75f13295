//! [`Durability`]: the checkpoint directory of a context and what is kept in it: the
//! batch log written at every cut (and its completion markers), the source positions
//! recorded at each cut, the snapshots written every checkpoint interval, and, after a
//! recovery, the logged batches still to recompute and the state to hand to the jobs.
//!
//! Recovery restores the newest snapshot that decodes, then the logged batches after it
//! are recomputed exactly (those whose outputs completed, for state only), then the
//! batch times missed while the job was down run.

use super::source_set::Positions;
use crate::checkpoint::fingerprint::plan_fingerprint;
use crate::checkpoint::manifest;
use crate::checkpoint::{BatchRecord, CheckpointStore, LoggedBatch, Snapshot};
use crate::exec::BatchCheckpoint;
use crate::store::Location;
use crate::sync::lock;
use crate::{Error, Result, Time};
use std::collections::{HashMap, VecDeque};
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::SystemTime;

/// The checkpoint directory of a context, once `start()` opened it.
struct Open {
    store: CheckpointStore,
    fingerprint: u64,
    /// Logged batches after the restored snapshot, to recompute before anything new.
    replay: VecDeque<LoggedBatch>,
    /// State saved in the restored snapshot, handed to the jobs at their first batch.
    restore: HashMap<String, Vec<u8>>,
    /// Where every source was right after each cut not yet covered by a snapshot: a
    /// snapshot of batch `t` records the positions at `t`, not those of batches the
    /// clock cut ahead of the runner.
    positions: VecDeque<(Time, Positions)>,
}

/// What the checkpoints of a context have done, for the streaming UI: read under a lock
/// of its own, never the one held while a snapshot is written.
#[derive(Clone, Debug, Default)]
pub(crate) struct CheckpointStatus {
    /// Snapshots written by this run.
    pub(crate) written: u64,
    /// The batch time of the last snapshot written, and when it was written.
    pub(crate) last: Option<(Time, SystemTime)>,
    /// The batch time of the snapshot this run recovered from, if it recovered.
    pub(crate) recovered_from: Option<Time>,
    /// Logged batches after it that recovery recomputes, and how many of them had
    /// completed their outputs.
    pub(crate) recomputed: usize,
    /// Of those, the batches whose outputs had completed before the crash.
    pub(crate) outputs_done: usize,
    /// Damaged snapshots skipped by the recovery.
    pub(crate) skipped: usize,
}

/// The durability of a context: nothing without a checkpoint directory.
pub(crate) struct Durability {
    dir: Mutex<Option<PathBuf>>,
    /// `start()` resumes from the checkpoint directory (`get_or_create`).
    resume: AtomicBool,
    open: Mutex<Option<Open>>,
    status: Mutex<CheckpointStatus>,
    /// In a cluster: the checkpoint directory every process shares (the manifest is
    /// there; this process's checkpoints are in its `process-<i>/`), this process's
    /// index and the number of processes.
    cluster: Mutex<Option<(PathBuf, usize, usize)>>,
}

impl Durability {
    /// The durability of a context checkpointing to `dir`, if set.
    pub(crate) fn new(dir: Option<PathBuf>) -> Durability {
        Durability {
            dir: Mutex::new(dir.map(|d| Location::normalize(&d))),
            resume: AtomicBool::new(false),
            open: Mutex::new(None),
            status: Mutex::new(CheckpointStatus::default()),
            cluster: Mutex::new(None),
        }
    }

    /// This context is process `process` of `processes`: its checkpoints go to its own
    /// directory under the shared one, and only batches the manifest lists complete are
    /// restored (see `checkpoint::manifest`).
    #[cfg_attr(not(feature = "cluster"), allow(dead_code))]
    pub(crate) fn in_cluster(&self, process: usize, processes: usize) -> Result<()> {
        let mut dir = lock(&self.dir);
        let Some(base) = dir.clone() else {
            return Ok(());
        };
        if Location::is_object_store(&base) {
            return Err(Error::Config(format!(
                "{}: a cluster keeps its checkpoints in a local (or shared) directory; object \
                 store checkpoints are not supported on a cluster yet",
                base.display()
            )));
        }
        *dir = Some(manifest::process_dir(&base, process));
        *lock(&self.cluster) = Some((base, process, processes));
        Ok(())
    }

    /// In a cluster, process 0: every process's snapshot of `time` is durable.
    #[cfg_attr(not(feature = "cluster"), allow(dead_code))]
    pub(crate) fn cluster_complete(&self, time: Time) -> Result<()> {
        match lock(&self.cluster).as_ref() {
            Some((base, 0, processes)) => manifest::write(
                base,
                manifest::Manifest {
                    processes: *processes,
                    complete_ms: time.millis(),
                },
            ),
            _ => Ok(()),
        }
    }

    /// In a cluster: the newest batch every process's snapshot is durable for (none:
    /// no complete checkpoint), refusing one written by another number of processes.
    fn cluster_complete_ms(&self, dir: &Path) -> Result<Option<Option<u64>>> {
        let Some((base, _, processes)) = lock(&self.cluster).clone() else {
            // A local context resuming from a cluster's checkpoint would find none in
            // the directory and start afresh: say why it cannot resume it instead.
            if self.resumes() && !Location::is_object_store(dir) {
                if let Some(m) = manifest::read(dir)? {
                    return Err(manifest::refuse_local(&m));
                }
            }
            return Ok(None);
        };
        let Some(m) = manifest::read(&base)? else {
            if self.resumes() && CheckpointStore::open(&base)?.has_data()? {
                return Err(Error::Checkpoint(format!(
                    "{} holds the checkpoint of a job run on one process; a cluster cannot \
                     resume it (run it locally, or start the cluster on a new directory)",
                    base.display()
                )));
            }
            return Ok(Some(None));
        };
        manifest::check_processes(&m, processes)?;
        Ok(Some(Some(m.complete_ms)))
    }

    /// What the checkpoints have done so far.
    pub(crate) fn status(&self) -> CheckpointStatus {
        lock(&self.status).clone()
    }

    /// The checkpoint directory, if set.
    pub(crate) fn dir(&self) -> Option<PathBuf> {
        lock(&self.dir).clone()
    }

    /// `start()` resumes from the checkpoint in `dir`, if it holds one.
    pub(crate) fn resume_from(&self, dir: &Path) {
        *lock(&self.dir) = Some(Location::normalize(dir));
        self.resume.store(true, Ordering::SeqCst);
    }

    fn resumes(&self) -> bool {
        self.resume.load(Ordering::SeqCst)
    }

    /// Before the sources start: a context that does not resume begins a new run, so the
    /// earlier run's checkpoint, batch log and write-ahead logs are discarded (with a
    /// warning), as a new Spark context with `ssc.checkpoint(dir)` starts afresh.
    pub(crate) fn prepare(&self) -> Result<()> {
        let Some(dir) = self.dir() else {
            return Ok(());
        };
        if self.resumes() || (!Location::is_object_store(&dir) && !dir.exists()) {
            return Ok(());
        }
        if let Some((base, 0, _)) = lock(&self.cluster).as_ref() {
            manifest::remove(base)?;
        }
        let store = CheckpointStore::open(&dir)?;
        if store.has_data()? {
            tracing::warn!(
                dir = %dir.display(),
                "the checkpoint directory holds an earlier run, which is discarded; \
                 use StreamingContext::get_or_create to resume it instead"
            );
            store.clear()?;
        }
        Ok(())
    }

    /// Opens the checkpoint directory at `start()`, for the pipelines whose canonical
    /// forms are `plans`: resumes from it when resuming, refuses a directory that holds
    /// a checkpoint otherwise. Resuming restores the jobs' state from the newest
    /// snapshot that decodes (`restore_jobs` runs them in restore-only mode, so a state
    /// that does not decode falls back to the older snapshot, as a bad checksum does),
    /// then the sources' positions (`restore_sources`), and queues the logged batches
    /// after it. Returns the restored clock (zero time, last batch time) if it resumed.
    pub(crate) fn open(
        &self,
        plans: &str,
        mut restore_jobs: impl FnMut(&Snapshot) -> Result<()>,
        restore_sources: impl FnOnce(&Snapshot) -> Result<()>,
    ) -> Result<Option<(Time, Time)>> {
        let Some(dir) = self.dir() else {
            return Ok(None);
        };
        let store = CheckpointStore::open(&dir)?;
        store.repair_log()?;
        let fp = plan_fingerprint(plans);
        let mut candidates = store.candidates()?;
        if let Some(complete) = self.cluster_complete_ms(&dir)? {
            // A snapshot newer than the manifest's is not on every process yet.
            candidates.retain(|(_, snap)| match (snap, complete) {
                (Ok(snap), Some(t)) => snap.time_ms <= t,
                (Ok(_), None) => false,
                (Err(_), _) => true,
            });
        }
        let log = store.logged_batches()?;
        let mut d = Open {
            store,
            fingerprint: fp,
            replay: VecDeque::new(),
            restore: HashMap::new(),
            positions: VecDeque::new(),
        };
        if candidates.is_empty() && log.is_empty() {
            *lock(&self.open) = Some(d);
            return Ok(None);
        }
        if !self.resumes() {
            // `prepare` emptied it; data here now is another context's.
            return Err(Error::Checkpoint(format!(
                "{} is being written by another run; give each context its own checkpoint directory",
                dir.display()
            )));
        }
        let mut damaged = Vec::new();
        let mut restored = None;
        for (path, snap) in candidates {
            let snap = match snap {
                Ok(s) => s,
                Err(e) => {
                    damaged.push(format!("{} ({e})", path.display()));
                    continue;
                }
            };
            if snap.fingerprint != fp {
                return Err(Error::Checkpoint(format!(
                    "the checkpoint {} was written by a different pipeline (plan fingerprint {:016x}, this one is {:016x}); \
                     it cannot be resumed by this job",
                    path.display(),
                    snap.fingerprint,
                    fp
                )));
            }
            match restore_jobs(&snap) {
                Ok(()) => {
                    restored = Some(snap);
                    break;
                }
                Err(e) => damaged.push(format!("{} ({})", path.display(), e.detail())),
            }
        }
        let Some(snap) = restored else {
            return Err(Error::Checkpoint(if damaged.is_empty() {
                format!("{} has a batch log but no snapshot", dir.display())
            } else {
                format!(
                    "no valid checkpoint in {}: {}",
                    dir.display(),
                    damaged.join(", ")
                )
            }));
        };
        for d in &damaged {
            tracing::warn!(checkpoint = %d, "skipped a damaged checkpoint; recovering from an older one");
        }
        restore_sources(&snap)?;
        d.replay = log
            .into_iter()
            .filter(|r| r.record.time_ms > snap.time_ms)
            .collect();
        let completed = d.replay.iter().filter(|b| b.completed).count();
        {
            let mut status = lock(&self.status);
            status.recovered_from = Some(Time(snap.time_ms));
            status.recomputed = d.replay.len();
            status.outputs_done = completed;
            status.skipped = damaged.len();
        }
        tracing::info!(
            checkpoint_ms = snap.time_ms,
            batches_to_recompute = d.replay.len(),
            outputs_already_done = completed,
            "resuming from a checkpoint"
        );
        *lock(&self.open) = Some(d);
        Ok(Some((Time(snap.zero_ms), Time(snap.time_ms))))
    }

    /// Whether logged batches are still to be recomputed.
    pub(crate) fn replay_pending(&self) -> bool {
        lock(&self.open)
            .as_ref()
            .is_some_and(|d| !d.replay.is_empty())
    }

    /// The next logged batch to recompute, if recovery left any.
    pub(crate) fn next_replay(&self) -> Option<LoggedBatch> {
        lock(&self.open).as_mut()?.replay.pop_front()
    }

    /// Appends what the sources took into the batch at `time` (`blocks`, asked only
    /// with a checkpoint directory) to the log, flushed before the batch runs.
    pub(crate) fn log_cut(
        &self,
        time: Time,
        blocks: impl FnOnce() -> Result<Vec<(String, Vec<u8>)>>,
    ) -> Result<()> {
        let guard = lock(&self.open);
        let Some(d) = guard.as_ref() else {
            return Ok(());
        };
        d.store.log_batch(&BatchRecord {
            time_ms: time.millis(),
            sources: blocks()?,
        })
    }

    /// Records where every source is right after the cut of `time` (`positions`, asked
    /// only with a checkpoint directory).
    pub(crate) fn record_positions(
        &self,
        time: Time,
        positions: impl FnOnce() -> Result<Positions>,
    ) -> Result<()> {
        let mut guard = lock(&self.open);
        let Some(d) = guard.as_mut() else {
            return Ok(());
        };
        d.positions.push_back((time, positions()?));
        Ok(())
    }

    /// Marks the batch at `time` complete in the log: its outputs all ran.
    pub(crate) fn log_done(&self, time: Time) -> Result<()> {
        match lock(&self.open).as_ref() {
            Some(d) => d.store.log_done(time.millis()),
            None => Ok(()),
        }
    }

    /// The checkpoint hooks of a batch: state to restore (first batch after a recovery)
    /// and, if `due`, a place for the jobs to save their state. None without a
    /// checkpoint directory.
    pub(crate) fn batch_hooks(&self, due: bool) -> Option<BatchCheckpoint> {
        let mut guard = lock(&self.open);
        let d = guard.as_mut()?;
        Some(BatchCheckpoint {
            restore: Mutex::new(std::mem::take(&mut d.restore)),
            save: due.then(|| Mutex::new(Vec::new())),
        })
    }

    /// After the jobs of the batch at `time` ran: writes the snapshot if they saved
    /// state. Returns the source positions the snapshot holds, once it is durable.
    pub(crate) fn finish_batch(
        &self,
        time: Time,
        zero: Time,
        hooks: BatchCheckpoint,
    ) -> Result<Option<Positions>> {
        warn_unrestored(hooks.restore);
        match hooks.save {
            Some(states) => self.write_snapshot(
                time,
                zero,
                states.into_inner().unwrap_or_else(|e| e.into_inner()),
            ),
            None => Ok(None),
        }
    }

    /// Writes the snapshot a fresh start begins from (the sources' initial positions,
    /// `positions`), unless the run resumed. Returns the positions it holds.
    pub(crate) fn initial_snapshot(
        &self,
        zero: Time,
        last: Time,
        positions: impl FnOnce() -> Result<Positions>,
    ) -> Result<Option<Positions>> {
        if zero == last
            && lock(&self.open)
                .as_ref()
                .is_some_and(|d| d.replay.is_empty())
        {
            self.record_positions(last, positions)?;
            return self.write_snapshot(last, zero, Vec::new());
        }
        Ok(None)
    }

    /// Writes the snapshot of the batch at `time` with the positions recorded at its cut.
    fn write_snapshot(
        &self,
        time: Time,
        zero: Time,
        states: Vec<(String, Vec<u8>)>,
    ) -> Result<Option<Positions>> {
        let mut guard = lock(&self.open);
        let Some(d) = guard.as_mut() else {
            return Ok(None);
        };
        while d.positions.front().is_some_and(|(t, _)| *t < time) {
            d.positions.pop_front();
        }
        let positions = match d.positions.front() {
            Some((t, p)) if *t == time => p.clone(),
            _ => {
                return Err(Error::Checkpoint(format!(
                    "no source positions were recorded at the cut of {time}"
                )));
            }
        };
        d.store.write(&Snapshot {
            fingerprint: d.fingerprint,
            time_ms: time.millis(),
            zero_ms: zero.millis(),
            states,
            sources: positions.clone(),
        })?;
        drop(guard);
        let mut status = lock(&self.status);
        status.written += 1;
        status.last = Some((time, SystemTime::now()));
        Ok(Some(positions))
    }
}

/// Warns about state a checkpoint held that no operator took.
pub(crate) fn warn_unrestored(restore: Mutex<HashMap<String, Vec<u8>>>) {
    let leftover = restore.into_inner().unwrap_or_else(|e| e.into_inner());
    for id in leftover.keys() {
        tracing::warn!(state = %id, "the checkpoint holds state no operator of this job restored");
    }
}
