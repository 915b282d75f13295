//! `collect()`: keeps every batch's records (made owned) for the caller to `take()`.

use crate::Record;
use crate::sync::lock;
use std::sync::{Arc, Condvar, Mutex};
use std::time::{Duration, Instant};

/// A handle to every batch's output of a stream, one `Vec` per batch in batch order.
///
/// Cloning the handle shares the same store.
pub struct Collected<T> {
    shared: Arc<(Mutex<Vec<Vec<T>>>, Condvar)>,
}

impl<T> Clone for Collected<T> {
    fn clone(&self) -> Self {
        Collected {
            shared: self.shared.clone(),
        }
    }
}

impl<T> Default for Collected<T> {
    fn default() -> Self {
        Collected {
            shared: Arc::new((Mutex::new(Vec::new()), Condvar::new())),
        }
    }
}

impl<T> Collected<T> {
    /// An empty store.
    pub fn new() -> Self {
        Self::default()
    }

    /// Appends one batch's records, made owned.
    pub fn push<R: Record<Owned = T>>(&self, records: Vec<R>) {
        let batch = records.into_iter().map(Record::into_owned).collect();
        lock(&self.shared.0).push(batch);
        self.shared.1.notify_all();
    }

    /// Removes and returns the batches collected so far, oldest first.
    pub fn take(&self) -> Vec<Vec<T>> {
        std::mem::take(&mut *lock(&self.shared.0))
    }

    /// Number of batches collected and not yet taken.
    pub fn len(&self) -> usize {
        lock(&self.shared.0).len()
    }

    /// Whether no batch is waiting to be taken.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Waits until at least `n` batches wait to be taken or `timeout` passes; returns
    /// whether they did (useful with the system clock).
    pub fn wait_for(&self, n: usize, timeout: Duration) -> bool {
        let deadline = Instant::now() + timeout;
        let mut batches = lock(&self.shared.0);
        while batches.len() < n {
            let now = Instant::now();
            if now >= deadline {
                return false;
            }
            batches = match self.shared.1.wait_timeout(batches, deadline - now) {
                Ok((g, _)) => g,
                Err(e) => e.into_inner().0,
            };
        }
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn push_makes_owned_and_take_drains() {
        let c: Collected<String> = Collected::new();
        c.push(vec!["a", "b"]);
        c.push(Vec::<&str>::new());
        assert!(c.wait_for(2, Duration::from_millis(1)));
        assert_eq!(c.take(), vec![vec!["a".to_string(), "b".into()], vec![]]);
        assert!(c.is_empty());
        assert!(!c.wait_for(1, Duration::from_millis(10)));
    }
}
