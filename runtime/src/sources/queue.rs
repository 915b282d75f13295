//! `queue_stream(batches)`: one queued `Vec` per batch, as Spark's `queueStream` with
//! `oneAtATime = true`; once the queue is empty every batch is empty.

use super::{Slot, SourceControl, lock};
use crate::Time;
use std::collections::VecDeque;
use std::sync::{Arc, Mutex};

/// A source that hands out one queued `Vec` per batch.
pub struct QueueSource<T> {
    queue: Mutex<VecDeque<Vec<T>>>,
    slot: Arc<Slot<T>>,
}

impl<T: Send + 'static> QueueSource<T> {
    /// A queue of batches; returns the source and its slot.
    pub fn new(batches: Vec<Vec<T>>) -> (Arc<Self>, Arc<Slot<T>>) {
        let slot = Arc::new(Slot::default());
        let src = QueueSource {
            queue: Mutex::new(batches.into()),
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
        let next = lock(&self.queue).pop_front().unwrap_or_default();
        self.slot.put(time, next)
    }

    fn stop(&self) {}
}
