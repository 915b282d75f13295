//! Durability of a running context: the batch log written at every cut, snapshots written
//! every checkpoint interval, and recovery (restore the newest snapshot, recompute the
//! logged batches after it exactly, then the batch times missed while the job was down).

use crate::checkpoint::{BatchRecord, CheckpointStore, Snapshot};
use crate::context::Inner;
use crate::sources::lock;
use crate::{Error, Result, Time};
use std::collections::{HashMap, VecDeque};

/// The durability state of a context with a checkpoint directory.
pub(crate) struct Durability {
    pub(crate) store: CheckpointStore,
    pub(crate) fingerprint: u64,
    /// Logged batches after the restored snapshot, to recompute before anything new.
    pub(crate) replay: VecDeque<BatchRecord>,
    /// State saved in the restored snapshot, handed to the jobs at their first batch.
    pub(crate) restore: HashMap<String, Vec<u8>>,
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
    /// a directory that holds a checkpoint otherwise, and writes the initial snapshot.
    pub(crate) fn open_durability(&self, plans: &str, resume: bool) -> Result<()> {
        let Some(dir) = self.checkpoint_dir() else {
            return Ok(());
        };
        let store = CheckpointStore::open(&dir)?;
        let fp = fingerprint(plans);
        let snapshot = store.latest()?;
        let log = store.logged_batches()?;
        let mut d = Durability {
            store,
            fingerprint: fp,
            replay: VecDeque::new(),
            restore: HashMap::new(),
        };
        if snapshot.is_none() && log.is_empty() {
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
        let Some(snap) = snapshot else {
            return Err(Error::Checkpoint(format!(
                "{} has a batch log but no snapshot",
                dir.display()
            )));
        };
        if snap.fingerprint != fp {
            return Err(Error::Checkpoint(format!(
                "the checkpoint in {} was written by a different pipeline (plan fingerprint {:016x}, this one is {:016x}); \
                 it cannot be resumed by this job",
                dir.display(),
                snap.fingerprint,
                fp
            )));
        }
        let sources = lock(&self.sources).clone();
        for (i, src) in sources.iter().enumerate() {
            if let Some((_, pos)) = snap.sources.iter().find(|(id, _)| *id == source_id(i)) {
                src.restore_position(pos)?;
            }
        }
        d.restore = snap.states.iter().cloned().collect();
        d.replay = log
            .into_iter()
            .filter(|r| r.time_ms > snap.time_ms)
            .collect();
        tracing::info!(
            checkpoint_ms = snap.time_ms,
            batches_to_recompute = d.replay.len(),
            "resuming from a checkpoint"
        );
        self.set_recovered_clock(Time(snap.zero_ms), Time(snap.time_ms));
        *lock(&self.durability) = Some(d);
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
            self.write_snapshot(last, Vec::new())?;
        }
        Ok(())
    }

    /// The next logged batch to recompute, if recovery left any.
    pub(crate) fn next_replay(&self) -> Option<BatchRecord> {
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
        let record = BatchRecord {
            time_ms: time.millis(),
            sources: sources
                .iter()
                .enumerate()
                .map(|(i, s)| (source_id(i), s.block_record(time)))
                .collect(),
        };
        d.store.log_batch(&record)
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
        let leftover = hooks
            .restore
            .into_inner()
            .unwrap_or_else(|e| e.into_inner());
        for id in leftover.keys() {
            tracing::warn!(state = %id, "the checkpoint holds state no operator of this job restored");
        }
        match hooks.save {
            Some(states) => {
                self.write_snapshot(time, states.into_inner().unwrap_or_else(|e| e.into_inner()))
            }
            None => Ok(()),
        }
    }

    fn write_snapshot(&self, time: Time, states: Vec<(String, Vec<u8>)>) -> Result<()> {
        let sources = lock(&self.sources).clone();
        let mut positions = Vec::with_capacity(sources.len());
        for (i, s) in sources.iter().enumerate() {
            positions.push((source_id(i), s.position()?));
        }
        let guard = lock(&self.durability);
        let Some(d) = guard.as_ref() else {
            return Ok(());
        };
        let (zero, _) = self.clock_times();
        d.store.write(&Snapshot {
            fingerprint: d.fingerprint,
            time_ms: time.millis(),
            zero_ms: zero.millis(),
            states,
            sources: positions,
        })?;
        tracing::debug!(time = time.millis(), "checkpoint written");
        Ok(())
    }
}

/// The id of the `i`-th source in a checkpoint.
fn source_id(i: usize) -> String {
    format!("source{i}")
}
