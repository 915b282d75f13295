//! `queue_stream(batches)`: queued `Vec`s handed out as batches, as Spark's
//! `queueStream`. The queue is fixed (a `Vec` of batches, one per batch) or a [`Queue`]
//! the program pushes to while the job runs, handing out one entry per batch (Spark's
//! `oneAtATime = true`, the default) or all entries queued at each batch time, in queue
//! order (`oneAtATime = false`). An empty queue gives empty batches.
//!
//! The position a checkpoint keeps is the number of entries taken; a restarted program
//! that queues the same entries again resumes after them. What was pushed is in the
//! program's memory only, as in Spark, where a queue stream cannot be recovered at all.

use super::{Slot, SourceControl};
use crate::sync::lock;
use crate::{Parts, Time, split_even};
use std::collections::VecDeque;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

/// A queue of batches a program pushes to while its job runs, for `queue_stream(queue)`.
///
/// ```
/// use rill_runtime::sources::Queue;
/// let q = Queue::new();
/// q.push(vec!["a", "b"]);
/// q.push(vec![]);
/// assert_eq!(q.len(), 2);
/// let all = Queue::<u8>::new().one_at_a_time(false); // every queued entry per batch
/// assert!(all.is_empty());
/// ```
pub struct Queue<T> {
    entries: Arc<Mutex<VecDeque<Vec<T>>>>,
    one_at_a_time: bool,
}

impl<T> Clone for Queue<T> {
    fn clone(&self) -> Self {
        Queue {
            entries: self.entries.clone(),
            one_at_a_time: self.one_at_a_time,
        }
    }
}

impl<T> Default for Queue<T> {
    fn default() -> Self {
        Queue {
            entries: Arc::default(),
            one_at_a_time: true,
        }
    }
}

impl<T> Queue<T> {
    /// An empty queue handing out one entry per batch.
    pub fn new() -> Queue<T> {
        Queue::default()
    }

    /// One entry per batch (`true`, the default) or every entry queued at the batch time
    /// (`false`), as Spark's `oneAtATime`.
    pub fn one_at_a_time(mut self, one: bool) -> Queue<T> {
        self.one_at_a_time = one;
        self
    }

    /// Queues the records of a batch.
    pub fn push(&self, records: Vec<T>) {
        lock(&self.entries).push_back(records);
    }

    /// Entries queued and not yet taken.
    pub fn len(&self) -> usize {
        lock(&self.entries).len()
    }

    /// Whether no entry is queued.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// What `queue_stream` takes: a `Vec` of batches or a [`Queue`].
pub trait IntoQueue<T> {
    /// The queue's entries, split for `partitions` partitions where they are fixed.
    fn into_entries(self, partitions: usize) -> Entries<T>;
}

impl<T> IntoQueue<T> for Vec<Vec<T>> {
    fn into_entries(self, partitions: usize) -> Entries<T> {
        // Split now, so a batch costs nothing to hand out.
        let split = self
            .into_iter()
            .map(|b| split_even(b, partitions))
            .collect();
        Entries::Fixed(Mutex::new(split))
    }
}

impl<T> IntoQueue<T> for Queue<T> {
    fn into_entries(self, _partitions: usize) -> Entries<T> {
        Entries::Shared(self)
    }
}

/// The entries of a queue source.
pub enum Entries<T> {
    /// Given up front, already split into partitions.
    Fixed(Mutex<VecDeque<Parts<T>>>),
    /// Pushed by the program while the job runs.
    Shared(Queue<T>),
}

/// A source that hands out queued `Vec`s as batches.
pub struct QueueSource<T> {
    entries: Entries<T>,
    /// Entries taken so far (the checkpointed position).
    taken: AtomicU64,
    slot: Arc<Slot<T>>,
}

impl<T: Send + 'static> QueueSource<T> {
    /// A source over `queue` for batches of `partitions` partitions; returns the source
    /// and its slot.
    pub fn new(queue: impl IntoQueue<T>, partitions: usize) -> (Arc<Self>, Arc<Slot<T>>) {
        let slot = Arc::new(Slot::new(partitions));
        // Every process of a cluster fills its own queue the same way and cuts it.
        slot.set_origin(super::Origin::replicated());
        let src = QueueSource {
            entries: queue.into_entries(partitions),
            taken: AtomicU64::new(0),
            slot: slot.clone(),
        };
        (Arc::new(src), slot)
    }

    /// Takes up to `n` entries from the front (all that are queued for `usize::MAX`).
    fn take_front(&self, n: usize) -> usize {
        let taken = match &self.entries {
            Entries::Fixed(q) => {
                let mut q = lock(q);
                let n = n.min(q.len());
                q.drain(..n).count()
            }
            Entries::Shared(q) => {
                let mut q = lock(&q.entries);
                let n = n.min(q.len());
                q.drain(..n).count()
            }
        };
        self.taken.fetch_add(taken as u64, Ordering::Relaxed);
        taken
    }
}

impl<T: Send + 'static> SourceControl for QueueSource<T> {
    fn describe(&self) -> String {
        match &self.entries {
            Entries::Fixed(q) => format!("queue_stream ({} batches queued)", lock(q).len()),
            Entries::Shared(_) => "queue_stream (a queue pushed to while running)".into(),
        }
    }

    fn start(&self) -> crate::Result<()> {
        Ok(())
    }

    fn cut(&self, time: Time) -> usize {
        match &self.entries {
            Entries::Fixed(q) => {
                let front = lock(q).pop_front();
                match front {
                    Some(parts) => {
                        self.taken.fetch_add(1, Ordering::Relaxed);
                        self.slot.put_parts(time, parts)
                    }
                    None => self.slot.put(time, Vec::new()),
                }
            }
            Entries::Shared(q) => {
                let records: Vec<T> = {
                    let mut entries = lock(&q.entries);
                    let n = if q.one_at_a_time { 1 } else { entries.len() };
                    let n = n.min(entries.len());
                    self.taken.fetch_add(n as u64, Ordering::Relaxed);
                    entries.drain(..n).flatten().collect()
                };
                self.slot.put(time, records)
            }
        }
    }

    fn stop(&self) {}

    fn position(&self) -> crate::Result<Vec<u8>> {
        crate::checkpoint::store::to_bytes(&self.taken.load(Ordering::Relaxed))
    }

    fn restore_position(&self, position: &[u8]) -> crate::Result<()> {
        let taken: u64 = crate::checkpoint::store::from_bytes(position)?;
        self.taken.store(0, Ordering::Relaxed);
        self.take_front(usize::try_from(taken).unwrap_or(usize::MAX));
        self.taken.store(taken, Ordering::Relaxed);
        Ok(())
    }
}
