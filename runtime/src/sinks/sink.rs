//! [`Sink`]: a user-written output with a per-batch commit; `write_to(sink)` in a
//! pipeline writes every batch to it.

use crate::Time;
use crate::sync::lock;
use std::sync::{Arc, Mutex};

/// An output that writes every batch of a stream, then commits it.
///
/// For every batch that has output, [`write`](Sink::write) gets the batch time and
/// its records; once every output of every pipeline on the context succeeded for that
/// batch, [`commit`](Sink::commit) is called with the same time (and before the batch
/// is marked complete in the batch log). A batch whose outputs do not all succeed is
/// not committed: the context stops with the error.
///
/// **At least once.** After a crash, a recovered context recomputes the batches that
/// were in flight and writes them again, with the same times and the same records (as
/// far as its sources are replayable or write-ahead logged): a batch may be written
/// twice, and written but not committed. Batches marked complete before the crash are
/// not written again. A sink that makes its writes idempotent on the batch time (an
/// upsert keyed by time, a file named after it, a transaction holding the time as its
/// id, committed in `commit`) gives exactly-once results.
///
/// ```
/// use rill_runtime::Time;
/// use rill_runtime::sinks::Sink;
///
/// /// Keeps the committed batches; a batch written again replaces its earlier write.
/// #[derive(Default)]
/// struct Batches { pending: Vec<(Time, Vec<u64>)>, done: Vec<(Time, Vec<u64>)> }
///
/// impl Sink<u64> for Batches {
///     fn write(&mut self, time: Time, records: Vec<u64>) -> rill_runtime::Result<()> {
///         self.pending.retain(|(t, _)| *t != time);
///         self.pending.push((time, records));
///         Ok(())
///     }
///     fn commit(&mut self, time: Time) -> rill_runtime::Result<()> {
///         self.done.extend(self.pending.drain(..).filter(|(t, _)| *t == time));
///         Ok(())
///     }
/// }
/// ```
pub trait Sink<T>: Send + 'static {
    /// Writes the records of the batch at `time` (called on the batch's thread, in
    /// batch order). An error stops the context.
    fn write(&mut self, time: Time, records: Vec<T>) -> crate::Result<()>;

    /// Writes the records of the batch at `time` as the batch's partitions hold them
    /// (what the context calls). The default concatenates them, in partition order,
    /// and calls [`write`](Sink::write); a sink that keeps partitions apart (one file
    /// per partition, as `save_as_text_files`) writes them here.
    fn write_partitions(&mut self, time: Time, partitions: Vec<Vec<T>>) -> crate::Result<()> {
        let mut records = Vec::with_capacity(partitions.iter().map(Vec::len).sum());
        for p in partitions {
            records.extend(p);
        }
        self.write(time, records)
    }

    /// Commits the batch at `time`: every output of the batch succeeded. An error stops
    /// the context before the batch is marked complete.
    fn commit(&mut self, _time: Time) -> crate::Result<()> {
        Ok(())
    }
}

/// A sink's commit, as the context calls it after every output of a batch succeeded.
pub(crate) trait Commit: Send + Sync {
    /// Commits the batch at `time` if the sink wrote it.
    fn commit(&self, time: Time) -> crate::Result<()>;
}

/// The commit of the record type a sink was written with (a plain function pointer, so
/// a sink of records that borrow from their batch can be committed after it).
type CommitFn<S> = fn(&mut S, Time) -> crate::Result<()>;

struct Shared<S> {
    sink: S,
    /// The batch time written last and not yet committed, with the commit to call.
    written: Option<(Time, CommitFn<S>)>,
}

/// A pipeline's handle on a [`Sink`] registered with its context (what generated code
/// writes through); the context commits it.
pub struct SinkOutput<S> {
    shared: Arc<Mutex<Shared<S>>>,
}

impl<S> Clone for SinkOutput<S> {
    fn clone(&self) -> Self {
        SinkOutput {
            shared: self.shared.clone(),
        }
    }
}

impl<S: Send + 'static> SinkOutput<S> {
    /// A handle on `sink` and the commit the context calls.
    pub(crate) fn new(sink: S) -> (Self, Arc<dyn Commit>) {
        let shared = Arc::new(Mutex::new(Shared {
            sink,
            written: None,
        }));
        let commit: Arc<dyn Commit> = Arc::new(SinkCommit {
            shared: shared.clone(),
        });
        (SinkOutput { shared }, commit)
    }

    /// Writes the records of the batch at `time`, in partitions, to the sink.
    pub fn write<T>(&self, time: Time, partitions: Vec<Vec<T>>) -> crate::Result<()>
    where
        S: Sink<T>,
    {
        let mut shared = lock(&self.shared);
        shared.sink.write_partitions(time, partitions)?;
        let commit: CommitFn<S> = <S as Sink<T>>::commit;
        shared.written = Some((time, commit));
        Ok(())
    }

    /// Runs `f` on the sink (to read back what a test sink holds).
    pub fn with<R>(&self, f: impl FnOnce(&mut S) -> R) -> R {
        f(&mut lock(&self.shared).sink)
    }
}

struct SinkCommit<S> {
    shared: Arc<Mutex<Shared<S>>>,
}

impl<S: Send + 'static> Commit for SinkCommit<S> {
    fn commit(&self, time: Time) -> crate::Result<()> {
        let mut shared = lock(&self.shared);
        match shared.written.take() {
            Some((t, commit)) if t == time => commit(&mut shared.sink, time),
            other => {
                shared.written = other;
                Ok(())
            }
        }
    }
}
