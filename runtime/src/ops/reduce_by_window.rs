//! `reduce_by_window(f, len, slide)`: all records of the window reduced with `f`, as
//! Spark's `reduce(f).window(len, slide).reduce(f)`; nothing for an empty window. One
//! partial result per batch is kept, never the records.

use super::window::WindowSpec;
use crate::checkpoint::durable::{Durable, Persist, load, save};
use crate::{Batch, Parts, Time};
use std::collections::VecDeque;

/// The state of one `reduce_by_window`.
pub struct ReduceByWindow<T> {
    spec: WindowSpec,
    partials: VecDeque<(Time, T)>,
}

impl<T: Clone> ReduceByWindow<T> {
    /// An empty window.
    pub fn new(spec: WindowSpec) -> Self {
        ReduceByWindow {
            spec,
            partials: VecDeque::new(),
        }
    }

    /// Adds a batch's per-partition partial results; at a firing time returns the window's
    /// reduction (partials combined in time order).
    pub fn step<F: Fn(T, T) -> T>(
        &mut self,
        batch: &Batch<'_>,
        partials: Vec<Option<T>>,
        f: F,
    ) -> Option<Parts<T>> {
        let t = batch.time();
        if let Some(r) = partials.into_iter().flatten().reduce(&f) {
            self.partials.push_back((t, r));
        }
        while self
            .partials
            .front()
            .is_some_and(|(b, _)| !self.spec.contains(*b, t))
        {
            self.partials.pop_front();
        }
        if !self.spec.fires(t, batch.zero_time()) {
            return None;
        }
        let total = self.partials.iter().map(|(_, v)| v.clone()).reduce(&f);
        Some(vec![total.into_iter().collect()])
    }
}
impl<T: Persist> Durable for ReduceByWindow<T> {
    fn save(&self) -> crate::Result<Vec<u8>> {
        save(&self.partials)
    }

    fn load(&mut self, bytes: &[u8]) -> crate::Result<()> {
        self.partials = load(bytes)?;
        Ok(())
    }
}
