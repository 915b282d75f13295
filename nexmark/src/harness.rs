//! What the tests, the example and the benchmark share: a context, and an output that
//! keeps what a query emitted.

use rill::prelude::*;
use std::sync::{Arc, Mutex, MutexGuard};

/// A manual-clock context with 1 s batches and `parallelism` partitions: a batch runs
/// when `advance` is called, as fast as it can.
pub fn manual_context(parallelism: usize) -> rill::Result<StreamingContext> {
    StreamingContext::builder()
        .batch_interval(Duration::from_secs(1))
        .parallelism(parallelism)
        .manual_clock()
        .build()
}

/// Every batch a query emitted, with its time, in batch order.
pub struct Emitted<T> {
    batches: Arc<Mutex<Vec<(Time, Vec<T>)>>>,
}

impl<T> Default for Emitted<T> {
    fn default() -> Self {
        Emitted {
            batches: Arc::new(Mutex::new(Vec::new())),
        }
    }
}

impl<T: Send + 'static> Emitted<T> {
    /// The output to hand a query: keeps each batch.
    pub fn sink(&self) -> impl Fn(Time, Vec<T>) + Send + Sync + 'static {
        let batches = self.batches.clone();
        move |time, records| lock(&batches).push((time, records))
    }

    /// Takes what was emitted so far.
    pub fn take(&self) -> Vec<(Time, Vec<T>)> {
        std::mem::take(&mut *lock(&self.batches))
    }
}

/// Locks `m`, also after a panic elsewhere (the data is only appended to).
fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}
