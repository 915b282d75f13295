//! What every receiver source shares: the bounded buffer of blocks, the slot the
//! scheduler cuts them into, the stop flag, and the receiving thread.

use super::line_reader::{Block, block_channel};
use super::{Slot, SourceStats, lock};
use crate::Time;
use crossbeam_channel::{Receiver, Sender};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;

/// The shared half of a receiver source.
pub(crate) struct Receiving {
    tx: Sender<Block>,
    rx: Receiver<Block>,
    slot: Arc<Slot<String>>,
    stop: Arc<AtomicBool>,
    thread: Mutex<Option<JoinHandle<()>>>,
    stats: Arc<SourceStats>,
}

impl Receiving {
    /// A receiver whose batches have `partitions` partitions.
    pub(crate) fn new(stats: Arc<SourceStats>, partitions: usize) -> Self {
        let (tx, rx) = block_channel();
        Receiving {
            tx,
            rx,
            slot: Arc::new(Slot::new(partitions)),
            stop: Arc::new(AtomicBool::new(false)),
            thread: Mutex::new(None),
            stats,
        }
    }

    /// The slot the generated job takes batches from.
    pub(crate) fn slot(&self) -> Arc<Slot<String>> {
        self.slot.clone()
    }

    /// Starts the receiving thread `name` running `body(blocks, stop, stats)`.
    pub(crate) fn spawn<F>(&self, name: String, body: F) -> crate::Result<()>
    where
        F: FnOnce(Sender<Block>, Arc<AtomicBool>, Arc<SourceStats>) + Send + 'static,
    {
        let (tx, stop, stats) = (self.tx.clone(), self.stop.clone(), self.stats.clone());
        let handle = std::thread::Builder::new()
            .name(name)
            .spawn(move || body(tx, stop, stats))
            .map_err(|e| crate::Error::io("cannot start a receiver thread", e))?;
        *lock(&self.thread) = Some(handle);
        Ok(())
    }

    /// Cuts the blocks received so far into the batch of `time`.
    pub(crate) fn cut(&self, time: Time) -> usize {
        let n = self.rx.len();
        let blocks: Vec<Block> = self.rx.try_iter().take(n).collect();
        let lines = blocks.iter().map(Vec::len).sum();
        self.slot
            .put_iter(time, lines, blocks.into_iter().flatten())
    }

    /// Stops receiving and joins the thread.
    pub(crate) fn stop(&self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(h) = lock(&self.thread).take() {
            let _ = h.join();
        }
    }
}
