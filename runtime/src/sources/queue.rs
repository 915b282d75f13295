//! `queue_stream(batches)`: one queued `Vec` per batch, as Spark's `queueStream` with
//! `oneAtATime = true`; once the queue is empty every batch is empty.

use super::{Slot, SourceControl, lock};
use crate::{Parts, Time, split_even};
use std::collections::VecDeque;
use std::sync::{Arc, Mutex};

/// A source that hands out one queued `Vec` per batch.
pub struct QueueSource<T> {
    queue: Mutex<VecDeque<Parts<T>>>,
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
        match lock(&self.queue).pop_front() {
            Some(parts) => self.slot.put_parts(time, parts),
            None => self.slot.put(time, Vec::new()),
        }
    }

    fn stop(&self) {}
}
