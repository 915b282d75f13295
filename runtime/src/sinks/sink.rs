//! [`Sink`]: a user-written output with a per-batch commit; `write_to(sink)` in a
//! pipeline writes every batch to it.

use crate::Time;
use crate::sync::lock;
use std::marker::PhantomData;
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

struct Shared<S> {
    sink: S,
    /// The batch time written last and not yet committed.
    written: Option<Time>,
}

/// A pipeline's handle on a [`Sink`] of `T` registered with its context (what
/// generated code writes through); the context commits it.
pub struct SinkOutput<T, S> {
    shared: Arc<Mutex<Shared<S>>>,
    _records: PhantomData<fn(T)>,
}

impl<T, S> Clone for SinkOutput<T, S> {
    fn clone(&self) -> Self {
        SinkOutput {
            shared: self.shared.clone(),
            _records: PhantomData,
        }
    }
}

impl<T: 'static, S: Sink<T>> SinkOutput<T, S> {
    /// A handle on `sink` and the commit the context calls.
    pub(crate) fn new(sink: S) -> (Self, Arc<dyn Commit>) {
        let shared = Arc::new(Mutex::new(Shared {
            sink,
            written: None,
        }));
        let commit: Arc<dyn Commit> = Arc::new(SinkCommit::<T, S> {
            shared: shared.clone(),
            _records: PhantomData,
        });
        (
            SinkOutput {
                shared,
                _records: PhantomData,
            },
            commit,
        )
    }

    /// Writes the records of the batch at `time` to the sink.
    pub fn write(&self, time: Time, records: Vec<T>) -> crate::Result<()> {
        let mut shared = lock(&self.shared);
        shared.sink.write(time, records)?;
        shared.written = Some(time);
        Ok(())
    }

    /// Runs `f` on the sink (to read back what a test sink holds).
    pub fn with<R>(&self, f: impl FnOnce(&mut S) -> R) -> R {
        f(&mut lock(&self.shared).sink)
    }
}

struct SinkCommit<T, S> {
    shared: Arc<Mutex<Shared<S>>>,
    _records: PhantomData<fn(T)>,
}

impl<T: 'static, S: Sink<T>> Commit for SinkCommit<T, S> {
    fn commit(&self, time: Time) -> crate::Result<()> {
        let mut shared = lock(&self.shared);
        if shared.written != Some(time) {
            return Ok(());
        }
        shared.written = None;
        shared.sink.commit(time)
    }
}
