//! `queue_stream(batches)`: one queued `Vec` per batch, as Spark's `queueStream` with
//! `oneAtATime = true`; once the queue is empty every batch is empty.

use super::{Slot, SourceControl};
use crate::sync::lock;
use crate::{Parts, Time, split_even};
use std::collections::VecDeque;
use std::sync::{Arc, Mutex};

/// A source that hands out one queued `Vec` per batch.
pub struct QueueSource<T> {
    queue: Mutex<VecDeque<Parts<T>>>,
    taken: std::sync::atomic::AtomicU64,
    slot: Arc<Slot<T>>,
}

impl<T: Send + 'static> QueueSource<T> {
    /// A queue of batches, each split into `partitions` partitions now, so a batch
    /// costs nothing to hand out; returns the source and its slot.
    pub fn new(batches: Vec<Vec<T>>, partitions: usize) -> (Arc<Self>, Arc<Slot<T>>) {
        let slot = Arc::new(Slot::new(partitions));
        let queue = batches
            .into_iter()
            .map(|b| split_even(b, partitions))
            .collect();
        let src = QueueSource {
            queue: Mutex::new(queue),
            taken: Default::default(),
            slot: slot.clone(),
        };
        (Arc::new(src), slot)
    }
}

impl<T: Send + 'static> SourceControl for QueueSource<T> {
    fn describe(&self) -> String {
        format!("queue_stream ({} batches queued)", lock(&self.queue).len())
    }

    fn start(&self) -> crate::Result<()> {
        Ok(())
    }

    fn cut(&self, time: Time) -> usize {
        self.taken
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        match lock(&self.queue).pop_front() {
            Some(parts) => self.slot.put_parts(time, parts),
            None => self.slot.put(time, Vec::new()),
        }
    }

    fn stop(&self) {}

    fn position(&self) -> crate::Result<Vec<u8>> {
        crate::checkpoint::store::to_bytes(&self.taken.load(std::sync::atomic::Ordering::Relaxed))
    }

    fn restore_position(&self, position: &[u8]) -> crate::Result<()> {
        let taken: u64 = crate::checkpoint::store::from_bytes(position)?;
        let mut queue = lock(&self.queue);
        for _ in 0..taken {
            queue.pop_front();
        }
        self.taken
            .store(taken, std::sync::atomic::Ordering::Relaxed);
        Ok(())
    }
}
