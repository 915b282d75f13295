//! [`ReplayableSource`]: a source that cuts an exact range of its input per batch and
//! can read a logged range again, as Spark's file and Kafka direct streams do; the
//! adapter [`Replayable`] runs one as a context's source.

use super::{Slot, SourceControl};
use crate::checkpoint::store::{from_bytes, to_bytes};
use crate::sync::lock;
use crate::{Result, Time};
use serde::Serialize;
use serde::de::DeserializeOwned;
use std::sync::{Arc, Mutex};

/// A source whose batches can be recomputed after a crash, as the queue source's.
///
/// Its input is addressed by a [`Position`](Self::Position) (an offset, a count of
/// entries taken, a file name and line): every batch is the range between the
/// position before its cut and the position after it. The context logs that range
/// with the batch, and checkpoints the position; after a crash it
/// [`seek`](Self::seek)s back to the checkpoint's position and [`read`](Self::read)s
/// the logged ranges after it again, so the recomputed batches hold exactly the
/// records they held before, then cuts on from there.
///
/// ```
/// use rill_runtime::sources::ReplayableSource;
/// use rill_runtime::Time;
///
/// /// The numbers from 0 on, `per_batch` of them every batch.
/// struct Counter { next: u64, per_batch: u64 }
///
/// impl ReplayableSource<u64> for Counter {
///     type Position = u64;
///     fn position(&self) -> u64 { self.next }
///     fn seek(&mut self, to: &u64) -> rill_runtime::Result<()> { self.next = *to; Ok(()) }
///     fn cut(&mut self, _time: Time) -> rill_runtime::Result<Vec<u64>> {
///         let from = self.next;
///         self.next += self.per_batch;
///         Ok((from..self.next).collect())
///     }
///     fn read(&mut self, from: &u64, to: &u64) -> rill_runtime::Result<Vec<u64>> {
///         Ok((*from..*to).collect())
///     }
/// }
///
/// let mut c = Counter { next: 0, per_batch: 2 };
/// assert_eq!(c.cut(Time(1000))?, [0, 1]);
/// assert_eq!(c.read(&0, &2)?, [0, 1]);
/// # Ok::<(), rill_runtime::Error>(())
/// ```
pub trait ReplayableSource<T>: Send + 'static {
    /// Where the source is in its input; serialized into the batch log and checkpoints.
    type Position: Serialize + DeserializeOwned + Send;

    /// A one-line description for logs and `explain()`.
    fn describe(&self) -> String {
        "replayable_stream".into()
    }

    /// Called when the context starts (opens connections, lists what exists).
    fn start(&mut self) -> Result<()> {
        Ok(())
    }

    /// Called when the context stops.
    fn stop(&mut self) {}

    /// Where the next cut begins. It must not change anything.
    fn position(&self) -> Self::Position;

    /// Moves the source so that the next cut begins at `to` (a checkpoint's position,
    /// or the end of a replayed range).
    fn seek(&mut self, to: &Self::Position) -> Result<()>;

    /// The records of the batch at `time`: from [`position`](Self::position) to what is
    /// available now; the source moves past them.
    fn cut(&mut self, time: Time) -> Result<Vec<T>>;

    /// The records between `from` and `to` again, exactly as a cut took them.
    fn read(&mut self, from: &Self::Position, to: &Self::Position) -> Result<Vec<T>>;
}

/// Runs a [`ReplayableSource`] as a context's source.
pub struct Replayable<T, S> {
    source: Mutex<S>,
    slot: Arc<Slot<T>>,
    /// The batch time and range `(from, to)`, serialized, of the last cut.
    last_cut: Mutex<Option<(Time, Vec<u8>)>>,
    /// The first failure of the source; the context stops with it at the next cut.
    failure: Mutex<Option<crate::Error>>,
    describe: String,
}

impl<T: Send + 'static, S: ReplayableSource<T>> Replayable<T, S> {
    /// The adapter of `source`, whose batches have `partitions` partitions; returns it
    /// and its slot.
    pub fn new(source: S, partitions: usize) -> (Arc<Self>, Arc<Slot<T>>) {
        let slot = Arc::new(Slot::new(partitions));
        let a = Replayable {
            describe: source.describe(),
            source: Mutex::new(source),
            slot: slot.clone(),
            last_cut: Mutex::new(None),
            failure: Mutex::new(None),
        };
        (Arc::new(a), slot)
    }

    fn fail(&self, e: crate::Error) {
        tracing::error!(source = %self.describe, error = %e, "a source failed; the streaming context stops");
        lock(&self.failure).get_or_insert(e);
    }

    fn try_cut(&self, time: Time) -> Result<usize> {
        let mut src = lock(&self.source);
        let from = src.position();
        let records = src.cut(time)?;
        let range = to_bytes(&(from, src.position()))?;
        *lock(&self.last_cut) = Some((time, range));
        Ok(self.slot.put(time, records))
    }
}

impl<T: Send + 'static, S: ReplayableSource<T>> SourceControl for Replayable<T, S> {
    fn describe(&self) -> String {
        self.describe.clone()
    }

    fn start(&self) -> Result<()> {
        lock(&self.source).start()
    }

    fn cut(&self, time: Time) -> usize {
        match self.try_cut(time) {
            Ok(n) => n,
            Err(e) => {
                self.fail(e);
                self.slot.put(time, Vec::new())
            }
        }
    }

    fn stop(&self) {
        lock(&self.source).stop();
    }

    fn block_record(&self, time: Time) -> Result<Vec<u8>> {
        Ok(match &*lock(&self.last_cut) {
            Some((t, range)) if *t == time => range.clone(),
            _ => Vec::new(),
        })
    }

    fn check(&self) -> Result<()> {
        match lock(&self.failure).as_ref() {
            Some(e) => Err(e.duplicate()),
            None => Ok(()),
        }
    }

    fn replay(&self, time: Time, record: &[u8]) -> Result<usize> {
        if record.is_empty() {
            return Ok(self.cut(time));
        }
        let (from, to): (S::Position, S::Position) = from_bytes(record)?;
        let mut src = lock(&self.source);
        let records = src.read(&from, &to)?;
        src.seek(&to)?;
        *lock(&self.last_cut) = Some((time, record.to_vec()));
        Ok(self.slot.put(time, records))
    }

    fn position(&self) -> Result<Vec<u8>> {
        to_bytes(&lock(&self.source).position())
    }

    fn restore_position(&self, position: &[u8]) -> Result<()> {
        let to: S::Position = from_bytes(position)?;
        lock(&self.source).seek(&to)
    }
}
