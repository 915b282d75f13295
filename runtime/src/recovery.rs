//! Durability of a running context: the batch log written at every cut, snapshots written
//! every checkpoint interval, and recovery (restore the newest snapshot, recompute the
//! logged batches after it exactly, then the batch times missed while the job was down).

use crate::checkpoint::{BatchRecord, CheckpointStore, LoggedBatch, Snapshot};
use crate::context::Inner;
use crate::sources::lock;
use crate::{Error, Result, Time};
use std::collections::{HashMap, VecDeque};

/// Source positions: `(source id, encoded position)` of every source.
type Positions = Vec<(String, Vec<u8>)>;

/// The durability state of a context with a checkpoint directory.
pub(crate) struct Durability {
    pub(crate) store: CheckpointStore,
    pub(crate) fingerprint: u64,
    /// Logged batches after the restored snapshot, to recompute before anything new.
    pub(crate) replay: VecDeque<LoggedBatch>,
    /// State saved in the restored snapshot, handed to the jobs at their first batch.
    pub(crate) restore: HashMap<String, Vec<u8>>,
    /// Where every source was right after each cut not yet covered by a snapshot: a
    /// snapshot of batch `t` records the positions at `t`, not those of batches the
    /// clock cut ahead of the runner.
    positions: VecDeque<(Time, Positions)>,
}

/// The fingerprint of a set of pipelines: a stable hash of the canonical forms of their
/// operator graphs, joined in definition order (see [`crate::checkpoint::fingerprint`]).
pub(crate) fn fingerprint(plans: &str) -> u64 {
    crate::checkpoint::fingerprint::fnv1a_64(plans.as_bytes())
}

impl Inner {
    /// Before the sources start: a context that does not resume begins a new run, so the
    /// earlier run's checkpoint, batch log and write-ahead logs are discarded (with a
    /// warning), as a new Spark context with `ssc.checkpoint(dir)` starts afresh.
    pub(crate) fn prepare_checkpoint_dir(&self, resume: bool) -> Result<()> {
        let Some(dir) = self.checkpoint_dir() else {
            return Ok(());
        };
        if resume || !dir.exists() {
            return Ok(());
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

    /// Opens the checkpoint directory at `start()`: resumes from it when `resume`, refuses
    /// a directory that holds a checkpoint otherwise. Resuming restores the jobs' state
    /// from the newest snapshot that decodes (the jobs run once in restore-only mode, so a
    /// state that does not decode falls back to the older snapshot, as a bad checksum
    /// does), then the sources' positions, and queues the logged batches after it.
    pub(crate) fn open_durability(&self, plans: &str, resume: bool) -> Result<()> {
        let Some(dir) = self.checkpoint_dir() else {
            return Ok(());
        };
        let store = CheckpointStore::open(&dir)?;
        store.repair_log()?;
        let fp = fingerprint(plans);
        let candidates = store.candidates()?;
        let log = store.logged_batches()?;
        let mut d = Durability {
            store,
            fingerprint: fp,
            replay: VecDeque::new(),
            restore: HashMap::new(),
            positions: VecDeque::new(),
        };
        if candidates.is_empty() && log.is_empty() {
            *lock(&self.durability) = Some(d);
            return Ok(());
        }
        if !resume {
            // `prepare_checkpoint_dir` emptied it; data here now is another context's.
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
            match self.restore_jobs(&snap) {
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
        let sources = lock(&self.sources).clone();
        for (i, src) in sources.iter().enumerate() {
            if let Some((_, pos)) = snap.sources.iter().find(|(id, _)| *id == source_id(i)) {
                src.restore_position(pos)?;
            }
        }
        d.replay = log
            .into_iter()
            .filter(|r| r.record.time_ms > snap.time_ms)
            .collect();
        let completed = d.replay.iter().filter(|b| b.completed).count();
        tracing::info!(
            checkpoint_ms = snap.time_ms,
            batches_to_recompute = d.replay.len(),
            outputs_already_done = completed,
            "resuming from a checkpoint"
        );
        self.set_recovered_clock(Time(snap.zero_ms), Time(snap.time_ms));
        *lock(&self.durability) = Some(d);
        Ok(())
    }

    /// Runs every job once in restore-only mode with the state of `snap`.
    fn restore_jobs(&self, snap: &Snapshot) -> Result<()> {
        let Some(exec) = &self.exec else {
            return Err(Error::Config(self.config_error.clone().unwrap_or_default()));
        };
        let hooks = crate::exec::BatchCheckpoint {
            restore: std::sync::Mutex::new(snap.states.iter().cloned().collect()),
            save: None,
        };
        let batch = crate::Batch::new(Time(snap.time_ms), Time(snap.zero_ms), exec)
            .with_mode(crate::exec::BatchMode::RestoreOnly);
        for (i, job) in lock(&self.jobs).iter_mut().enumerate() {
            let batch = batch.for_job(i, Some(&hooks));
            std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| (job.run)(&batch))).map_err(
                |p| {
                    Error::Checkpoint(format!(
                        "restoring state panicked: {}",
                        crate::error::panic_message(p.as_ref())
                    ))
                },
            )??;
        }
        warn_unrestored(hooks.restore);
        Ok(())
    }

    /// Writes the snapshot a fresh start begins from (sources' initial positions).
    pub(crate) fn initial_snapshot(&self) -> Result<()> {
        let (zero, last) = self.clock_times();
        if zero == last
            && lock(&self.durability)
                .as_ref()
                .is_some_and(|d| d.replay.is_empty())
        {
            self.record_positions(last)?;
            self.write_snapshot(last, Vec::new())?;
        }
        Ok(())
    }

    /// Whether logged batches are still to be recomputed.
    pub(crate) fn replay_pending(&self) -> bool {
        lock(&self.durability)
            .as_ref()
            .is_some_and(|d| !d.replay.is_empty())
    }

    /// The next logged batch to recompute, if recovery left any.
    pub(crate) fn next_replay(&self) -> Option<LoggedBatch> {
        lock(&self.durability).as_mut()?.replay.pop_front()
    }

    /// Cuts every source again as logged in `record`.
    pub(crate) fn replay_sources(&self, record: &BatchRecord) -> Result<usize> {
        let sources = lock(&self.sources).clone();
        let mut n = 0;
        for (i, src) in sources.iter().enumerate() {
            let id = source_id(i);
            let rec = record
                .sources
                .iter()
                .find(|(s, _)| *s == id)
                .map(|(_, r)| r.as_slice())
                .unwrap_or(&[]);
            n += src.replay(Time(record.time_ms), rec)?;
        }
        Ok(n)
    }

    /// Appends what the sources took into the batch at `time` to the log.
    pub(crate) fn log_cut(&self, time: Time) -> Result<()> {
        let guard = lock(&self.durability);
        let Some(d) = guard.as_ref() else {
            return Ok(());
        };
        let sources = lock(&self.sources).clone();
        let mut blocks = Vec::with_capacity(sources.len());
        for (i, s) in sources.iter().enumerate() {
            blocks.push((source_id(i), s.block_record(time)?));
        }
        d.store.log_batch(&BatchRecord {
            time_ms: time.millis(),
            sources: blocks,
        })
    }

    /// Records where every source is right after the cut of `time`.
    pub(crate) fn record_positions(&self, time: Time) -> Result<()> {
        let mut guard = lock(&self.durability);
        let Some(d) = guard.as_mut() else {
            return Ok(());
        };
        let sources = lock(&self.sources).clone();
        let mut positions = Vec::with_capacity(sources.len());
        for (i, s) in sources.iter().enumerate() {
            positions.push((source_id(i), s.position()?));
        }
        d.positions.push_back((time, positions));
        Ok(())
    }

    /// Marks the batch at `time` complete in the log: its outputs all ran.
    pub(crate) fn log_done(&self, time: Time) -> Result<()> {
        match lock(&self.durability).as_ref() {
            Some(d) => d.store.log_done(time.millis()),
            None => Ok(()),
        }
    }

    /// The checkpoint hooks of the batch at `time`: state to restore (first batch after
    /// a recovery) and whether to save state (a checkpoint time).
    pub(crate) fn batch_checkpoint(&self, time: Time) -> Option<crate::exec::BatchCheckpoint> {
        let mut guard = lock(&self.durability);
        let d = guard.as_mut()?;
        let (zero, _) = self.clock_times();
        let every = self.checkpoint_interval().as_millis() as u64;
        let due = (every > 0 && time > zero && (time.millis() - zero.millis()) % every == 0)
            || time.millis() == self.final_time.load(std::sync::atomic::Ordering::SeqCst);
        Some(crate::exec::BatchCheckpoint {
            restore: std::sync::Mutex::new(std::mem::take(&mut d.restore)),
            save: due.then(|| std::sync::Mutex::new(Vec::new())),
        })
    }

    /// After the jobs ran: writes the snapshot if the batch saved state.
    pub(crate) fn finish_checkpoint(
        &self,
        time: Time,
        hooks: crate::exec::BatchCheckpoint,
    ) -> Result<()> {
        warn_unrestored(hooks.restore);
        match hooks.save {
            Some(states) => {
                self.write_snapshot(time, states.into_inner().unwrap_or_else(|e| e.into_inner()))
            }
            None => Ok(()),
        }
    }

    fn write_snapshot(&self, time: Time, states: Vec<(String, Vec<u8>)>) -> Result<()> {
        let mut guard = lock(&self.durability);
        let Some(d) = guard.as_mut() else {
            return Ok(());
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
        let (zero, _) = self.clock_times();
        d.store.write(&Snapshot {
            fingerprint: d.fingerprint,
            time_ms: time.millis(),
            zero_ms: zero.millis(),
            states,
            sources: positions.clone(),
        })?;
        drop(guard);
        // Durable now: sources may let go of what only older checkpoints needed.
        let sources = lock(&self.sources).clone();
        for (i, s) in sources.iter().enumerate() {
            if let Some((_, pos)) = positions.iter().find(|(id, _)| *id == source_id(i)) {
                s.committed(pos)?;
            }
        }
        tracing::debug!(time = time.millis(), "checkpoint written");
        Ok(())
    }
}

/// Warns about state a checkpoint held that no operator took.
fn warn_unrestored(restore: std::sync::Mutex<HashMap<String, Vec<u8>>>) {
    let leftover = restore.into_inner().unwrap_or_else(|e| e.into_inner());
    for id in leftover.keys() {
        tracing::warn!(state = %id, "the checkpoint holds state no operator of this job restored");
    }
}

/// The id of the `i`-th source in a checkpoint.
fn source_id(i: usize) -> String {
    format!("source{i}")
}
