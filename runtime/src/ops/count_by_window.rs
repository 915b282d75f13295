//! `count_by_window(len, slide)`: the number of records in the window, as Spark's
//! `map(_ => 1L).reduceByWindow(_ + _, _ - _, len, slide)`: nothing before the first
//! record reaches a window, then one count per firing, `0` for an empty window.

use super::window::WindowSpec;
use crate::checkpoint::durable::{Durable, load, save};
use crate::{Batch, Parts, Time};
use std::collections::VecDeque;

/// The state of one `count_by_window`.
pub struct CountByWindow {
    spec: WindowSpec,
    counts: VecDeque<(Time, u64)>,
    seen: bool,
}

impl CountByWindow {
    /// An empty window.
    pub fn new(spec: WindowSpec) -> Self {
        CountByWindow {
            spec,
            counts: VecDeque::new(),
            seen: false,
        }
    }

    /// Adds the per-partition counts of a batch; at a firing time returns the count.
    pub fn step(&mut self, batch: &Batch<'_>, partials: Vec<u64>) -> Option<Parts<u64>> {
        let t = batch.time();
        self.counts.push_back((t, partials.into_iter().sum()));
        while self
            .counts
            .front()
            .is_some_and(|(b, _)| !self.spec.contains(*b, t))
        {
            self.counts.pop_front();
        }
        if !self.spec.fires(t, batch.zero_time()) {
            return None;
        }
        let total: u64 = self.counts.iter().map(|(_, c)| c).sum();
        self.seen |= total > 0;
        Some(vec![if self.seen { vec![total] } else { Vec::new() }])
    }
}
impl Durable for CountByWindow {
    fn save(&self) -> crate::Result<Vec<u8>> {
        save(&(&self.counts, self.seen))
    }

    fn load(&mut self, bytes: &[u8]) -> crate::Result<()> {
        (self.counts, self.seen) = load(bytes)?;
        Ok(())
    }
}
