//! Input sources: what each batch's records come from.
//!
//! Every source owns a [`Slot`] of blocks stamped with batch times. The scheduler *cuts*
//! each source at every tick of the batch clock (a receiver's records that arrived so
//! far, the next queue entry, the files new in a directory) and the generated job
//! *takes* the block of its batch time from the [`SourceHandle`].

mod direct;
mod direct_stream;
mod file;
mod line;
mod line_reader;
mod listen;
#[cfg(feature = "object-store")]
mod object_files;
mod origin;
mod queue;
pub mod receiver;
mod replayable;
mod socket;
mod user_receiver;
mod value;

pub use direct::{DirectSource, Message, StartAt};
pub use direct_stream::DirectInput;
pub use file::FileSource;
pub use line::Line;
pub use listen::ListenSource;
pub use origin::Origin;
pub use queue::{Entries, IntoQueue, Queue, QueueSource};
pub use replayable::{Replayable, ReplayableSource};
pub use socket::SocketSource;
pub use user_receiver::{Receiver, ReceiverSource, Store};
pub use value::{
    DirectStream, Preferred, QueueStream, ReceiverStream, ReplayableStream, SocketListen,
    SocketText, Source, SourceEnv, TextFiles, direct_stream, queue_stream, receiver_stream,
    replayable_stream, socket_listen_stream, socket_text_stream, source, text_file_stream,
};

use crate::sync::lock;
use crate::{Batch, Parts, Time, split_even};
use std::collections::VecDeque;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

/// Counters a source shares with its context.
#[derive(Default, Debug)]
pub struct SourceStats {
    malformed: AtomicU64,
    late: AtomicU64,
}

impl SourceStats {
    /// Counts one malformed input record (it was skipped).
    pub fn malformed(&self) {
        self.malformed.fetch_add(1, Ordering::Relaxed);
    }

    /// Malformed records seen so far.
    pub fn malformed_count(&self) -> u64 {
        self.malformed.load(Ordering::Relaxed)
    }

    /// Counts records a source produced when its batch ran rather than at the cut (the
    /// lines of files, read by the workers).
    pub fn add_late_records(&self, n: usize) {
        self.late.fetch_add(n as u64, Ordering::Relaxed);
    }

    /// Records counted by [`add_late_records`](Self::add_late_records) so far.
    pub fn late_records(&self) -> u64 {
        self.late.load(Ordering::Relaxed)
    }

    /// Takes the late records counted since the last call (the batch that just ran).
    pub(crate) fn take_late_records(&self) -> usize {
        self.late.swap(0, Ordering::Relaxed) as usize
    }
}

/// The type-erased control side of a source, held by the context.
pub trait SourceControl: Send + Sync {
    /// A one-line description for logs and `explain()`.
    fn describe(&self) -> String;
    /// Starts receiving (binds, connects, spawns receiver threads); called by `start()`.
    fn start(&self) -> crate::Result<()>;
    /// Stamps what has arrived since the previous cut as the block of `time`; returns
    /// the number of records in it. A receiver source cuts its receiver's blocks; every
    /// other source implements it.
    fn cut(&self, time: Time) -> usize {
        self.receiving().map_or(0, |r| r.cut(time))
    }
    /// Stops receiving and joins receiver threads.
    fn stop(&self) {
        if let Some(r) = self.receiving() {
            r.stop();
        }
    }
    /// The local address a listening source is bound to, once started.
    fn local_addr(&self) -> Option<SocketAddr> {
        None
    }

    /// The receiver half of a receiver source (socket sources); the receiver
    /// behaviour below comes from it.
    fn receiving(&self) -> Option<&receiver::Receiving> {
        None
    }

    /// Records received and not yet cut into a batch.
    fn buffered(&self) -> usize {
        self.receiving().map_or(0, |r| r.buffered())
    }

    /// Whether the source is a receiver whose rate can be limited.
    fn is_receiver(&self) -> bool {
        self.receiving().is_some()
    }

    /// Limits a receiver to `rate` records per second (0: unlimited).
    fn set_rate(&self, rate: u64) {
        if let Some(r) = self.receiving() {
            r.set_rate(rate);
        }
    }

    /// Logs what the source receives to a write-ahead log at `path` before it enters a
    /// batch (receivers only; others ignore it).
    fn enable_wal(&self, path: &std::path::Path) -> crate::Result<()> {
        self.receiving().map_or(Ok(()), |r| r.enable_wal(path))
    }

    /// What the cut of `time` took, for the batch log (empty: nothing to record).
    fn block_record(&self, time: Time) -> crate::Result<Vec<u8>> {
        self.receiving()
            .map_or_else(|| Ok(Vec::new()), |r| r.block_record(time))
    }

    /// A failure of the source since it started (its thread panicked, its log could not
    /// be written); the context stops with it at the next cut.
    fn check(&self) -> crate::Result<()> {
        self.receiving().map_or(Ok(()), |r| r.check())
    }

    /// Cuts the block of `time` again from its [`block_record`](Self::block_record),
    /// when a recovered job recomputes a logged batch.
    fn replay(&self, time: Time, record: &[u8]) -> crate::Result<usize> {
        match self.receiving() {
            Some(r) => r.replay(time, record),
            None => Ok(self.cut(time)),
        }
    }

    /// Where the source is, for a checkpoint (empty: nothing to remember). Called right
    /// after each cut, so it is the position at that batch; it must not change anything.
    fn position(&self) -> crate::Result<Vec<u8>> {
        self.receiving()
            .map_or_else(|| Ok(Vec::new()), |r| r.position())
    }

    /// A checkpoint holding `position` is durable: what only older checkpoints needed
    /// (write-ahead-logged blocks before it) may go.
    fn committed(&self, position: &[u8]) -> crate::Result<()> {
        self.receiving().map_or(Ok(()), |r| r.committed(position))
    }

    /// Moves the source back to a checkpointed position.
    fn restore_position(&self, position: &[u8]) -> crate::Result<()> {
        self.receiving()
            .map_or(Ok(()), |r| r.restore_position(position))
    }

    /// Whether backpressure limits the source through
    /// [`set_cut_rate`](Self::set_cut_rate): a source that takes its records at the cut
    /// (a direct source) rather than receiving them.
    fn limits_cut_rate(&self) -> bool {
        false
    }

    /// Backpressure for a source that takes its records at the cut: each cut takes at
    /// most `rate` records per second of batch interval (0: unlimited). Receivers are
    /// limited by [`set_rate`](Self::set_rate) instead.
    fn set_cut_rate(&self, _rate: u64) {}

    /// Every output of the batch at `time` succeeded (or had succeeded before a crash,
    /// when recovery recomputes the batch for its state): a source may tell its input
    /// what it no longer needs (a direct source commits its offsets to the broker). An
    /// error stops the context.
    fn batch_completed(&self, _time: Time) -> crate::Result<()> {
        Ok(())
    }
}

/// Reads a block's records when its batch runs (on the batch's workers); an error fails
/// the batch, which stops the context with it.
pub type Loader<T> = Box<dyn FnOnce(&Batch<'_>) -> crate::Result<Parts<T>> + Send>;

/// A block of a slot: records cut already, or a loader that reads them when the batch
/// runs (a file source lists files at the cut and reads them then).
enum Block<T> {
    Ready(Parts<T>),
    Deferred(Loader<T>),
}

/// Blocks of one source waiting for their batch, already split into partitions.
pub struct Slot<T> {
    partitions: usize,
    blocks: Mutex<VecDeque<(Time, Block<T>)>>,
    origin: std::sync::OnceLock<Origin<T>>,
}

impl<T> Slot<T> {
    /// An empty slot for blocks of `partitions` partitions.
    pub fn new(partitions: usize) -> Self {
        Slot {
            partitions: partitions.max(1),
            blocks: Mutex::new(VecDeque::new()),
            origin: std::sync::OnceLock::new(),
        }
    }

    /// How the source's batches reach a cluster's processes (set once, when the source
    /// is made; unset: process 0 only, not sendable).
    pub fn set_origin(&self, origin: Origin<T>) {
        let _ = self.origin.set(origin);
    }

    /// Whether every process of a cluster cuts this source's batches itself.
    pub fn is_replicated(&self) -> bool {
        self.origin.get().is_some_and(Origin::is_replicated)
    }

    /// Files `records` as the block of `time`, split into partitions in order.
    pub fn put(&self, time: Time, records: Vec<T>) -> usize {
        self.put_parts(time, split_even(records, self.partitions))
    }

    /// Files the first `n` items of `records` as the block of `time`, split into
    /// partitions in order without an intermediate `Vec`.
    pub fn put_iter(&self, time: Time, n: usize, mut records: impl Iterator<Item = T>) -> usize {
        let p = self.partitions;
        let parts = (0..p)
            .map(|i| {
                // Sized up front: a flattened iterator's size hint would grow it by doubling.
                let k = n / p + usize::from(i < n % p);
                let mut part = Vec::with_capacity(k);
                part.extend(records.by_ref().take(k));
                part
            })
            .collect();
        self.put_parts(time, parts)
    }

    /// Files already partitioned records as the block of `time`.
    pub fn put_parts(&self, time: Time, parts: Parts<T>) -> usize {
        let n = parts.iter().map(Vec::len).sum();
        lock(&self.blocks).push_back((time, Block::Ready(parts)));
        n
    }

    /// Files a block of `time` whose records `load` reads when the batch runs.
    pub fn put_deferred(&self, time: Time, load: Loader<T>) {
        lock(&self.blocks).push_back((time, Block::Deferred(load)));
    }

    /// Removes the block of `time`, dropping blocks of earlier times nobody took.
    fn take_block(&self, time: Time) -> Option<Block<T>> {
        let mut blocks = lock(&self.blocks);
        while let Some((t, _)) = blocks.front() {
            if *t < time {
                blocks.pop_front();
            } else {
                break;
            }
        }
        match blocks.front() {
            Some((t, _)) if *t == time => blocks.pop_front().map(|(_, b)| b),
            _ => None,
        }
    }

    /// The records of `batch`, in partitions (a deferred block is read now), or the
    /// error of a block that could not be read.
    fn take(&self, batch: &Batch<'_>) -> crate::Result<Parts<T>> {
        let parts = match self.take_block(batch.time()) {
            Some(Block::Ready(parts)) => parts,
            Some(Block::Deferred(load)) => load(batch)?,
            None => (0..self.partitions).map(|_| Vec::new()).collect(),
        };
        #[cfg(feature = "cluster")]
        if let Some(rounds) = batch.cluster() {
            return match self.origin.get() {
                Some(origin) => origin.distribute(parts, &rounds),
                None => Origin::default().distribute(parts, &rounds),
            };
        }
        Ok(parts)
    }
}

/// The typed side of a source, used by generated code to take a batch's records.
pub struct SourceHandle<T> {
    slot: Arc<Slot<T>>,
}

impl<T> Clone for SourceHandle<T> {
    fn clone(&self) -> Self {
        SourceHandle {
            slot: self.slot.clone(),
        }
    }
}

impl<T> SourceHandle<T> {
    /// A handle on `slot`.
    pub fn new(slot: Arc<Slot<T>>) -> Self {
        SourceHandle { slot }
    }

    /// The records of `batch`, in partitions, in arrival order. A block that cannot be
    /// read (an object store that fails after its retries) is empty here, with an error
    /// logged; [`try_take`](Self::try_take), which generated code calls, returns the error.
    pub fn take(&self, batch: &Batch<'_>) -> Parts<T> {
        match self.slot.take(batch) {
            Ok(parts) => parts,
            Err(e) => {
                tracing::error!(time = batch.time().millis(), error = %e, "a source's block could not be read; it is empty");
                (0..self.slot.partitions).map(|_| Vec::new()).collect()
            }
        }
    }

    /// The records of `batch`, in partitions, in arrival order, or why reading them
    /// failed (what generated jobs call: the error fails the batch).
    pub fn try_take(&self, batch: &Batch<'_>) -> crate::Result<Parts<T>> {
        self.slot.take(batch)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn take_returns_the_block_of_its_time_and_drops_stale_ones() {
        let exec = crate::Executor::new(1).unwrap();
        let take =
            |slot: &Slot<i32>, t: u64| slot.take(&Batch::new(Time(t), Time(0), &exec)).unwrap();
        let slot = Slot::new(1);
        slot.put(Time(1000), vec![1]);
        slot.put(Time(2000), vec![2]);
        slot.put_deferred(
            Time(3000),
            Box::new(|b: &Batch<'_>| Ok(vec![vec![b.time().millis() as i32]])),
        );
        assert_eq!(take(&slot, 2000), vec![vec![2]]);
        assert_eq!(take(&slot, 2500), vec![Vec::<i32>::new()]);
        assert_eq!(take(&slot, 3000), vec![vec![3000]]);
        let two = Slot::new(2);
        two.put_iter(Time(1), 3, [1, 2, 3, 4].into_iter());
        assert_eq!(take(&two, 1), vec![vec![1, 2], vec![3]]);
    }
}
