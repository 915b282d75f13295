//! Input sources: what each batch's records come from.
//!
//! Every source owns a [`Slot`] of blocks stamped with batch times. The scheduler *cuts*
//! each source at every tick of the batch clock (a receiver's records that arrived so
//! far, the next queue entry, the files new in a directory) and the generated job
//! *takes* the block of its batch time from the [`SourceHandle`].

mod file;
mod line_reader;
mod listen;
mod queue;
mod socket;

pub use file::FileSource;
pub use listen::ListenSource;
pub use queue::QueueSource;
pub use socket::SocketSource;

use crate::{Batch, Parts, Time, split_even};
use std::collections::VecDeque;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

/// Counters a source shares with its context.
#[derive(Default, Debug)]
pub struct SourceStats {
    malformed: AtomicU64,
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
}

/// The type-erased control side of a source, held by the context.
pub trait SourceControl: Send + Sync {
    /// A one-line description for logs and `explain()`.
    fn describe(&self) -> String;
    /// Starts receiving (binds, connects, spawns receiver threads); called by `start()`.
    fn start(&self) -> crate::Result<()>;
    /// Stamps what has arrived since the previous cut as the block of `time`; returns
    /// the number of records in it.
    fn cut(&self, time: Time) -> usize;
    /// Stops receiving and joins receiver threads.
    fn stop(&self);
    /// The local address a listening source is bound to, once started.
    fn local_addr(&self) -> Option<SocketAddr> {
        None
    }
}

/// Blocks of one source waiting for their batch.
pub struct Slot<T> {
    blocks: Mutex<VecDeque<(Time, Vec<T>)>>,
}

impl<T> Default for Slot<T> {
    fn default() -> Self {
        Slot {
            blocks: Mutex::new(VecDeque::new()),
        }
    }
}

impl<T> Slot<T> {
    /// Files `records` as the block of `time`.
    pub fn put(&self, time: Time, records: Vec<T>) -> usize {
        let n = records.len();
        lock(&self.blocks).push_back((time, records));
        n
    }

    /// Removes the block of `time`, dropping blocks of earlier times nobody took.
    fn take(&self, time: Time) -> Vec<T> {
        let mut blocks = lock(&self.blocks);
        while let Some((t, _)) = blocks.front() {
            if *t < time {
                blocks.pop_front();
            } else {
                break;
            }
        }
        match blocks.front() {
            Some((t, _)) if *t == time => blocks.pop_front().map(|(_, r)| r).unwrap_or_default(),
            _ => Vec::new(),
        }
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

    /// The records of `batch`, split into the batch's partitions in arrival order.
    pub fn take(&self, batch: &Batch<'_>) -> Parts<T> {
        split_even(self.slot.take(batch.time()), batch.partitions())
    }
}

/// Locks a mutex, recovering the data if a panicking thread poisoned it (a panic in a
/// user function is reported as an error; the runtime's own state stays consistent).
pub(crate) fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn take_returns_the_block_of_its_time_and_drops_stale_ones() {
        let slot = Slot::default();
        slot.put(Time(1000), vec![1]);
        slot.put(Time(2000), vec![2]);
        slot.put(Time(3000), vec![3]);
        assert_eq!(slot.take(Time(2000)), vec![2]);
        assert_eq!(slot.take(Time(2500)), Vec::<i32>::new());
        assert_eq!(slot.take(Time(3000)), vec![3]);
    }
}
