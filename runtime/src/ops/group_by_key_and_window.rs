//! `group_by_key_and_window(len, slide)`: per key, the values of the window, as Spark's
//! `groupByKeyAndWindow` (`groupByKey().window(len, slide)` grouped again); a key with no
//! value in the window is absent. Each partition keeps the values of its keys for every
//! batch the window can still contain, grouped per batch.

use super::group_by_key::group;
use super::keyed_state::for_partitions;
use super::reduce_by_key_and_window::{load_batches, save_batches};
use super::window::WindowSpec;
use crate::checkpoint::durable::{Durable, Persist, load, save};
use crate::combine::Grouper;
use crate::{Batch, Parts, Time};
use std::collections::VecDeque;
use std::hash::Hash;

/// The state of one `group_by_key_and_window`.
pub struct GroupByKeyAndWindow<K, V> {
    spec: WindowSpec,
    parts: Vec<VecDeque<(Time, Vec<(K, Vec<V>)>)>>,
}

impl<K, V> GroupByKeyAndWindow<K, V>
where
    K: Hash + Eq + Clone + Send + Sync,
    V: Clone + Send + Sync,
{
    /// An empty window over `partitions` hash partitions.
    pub fn new(spec: WindowSpec, partitions: usize) -> Self {
        GroupByKeyAndWindow {
            spec,
            parts: (0..partitions.max(1)).map(|_| VecDeque::new()).collect(),
        }
    }

    /// Adds a batch's shuffled pairs; at a firing time returns every key of the window
    /// with its values, oldest batch first.
    ///
    /// ```
    /// use rill_runtime::ops::{group_by_key_and_window::GroupByKeyAndWindow, window::WindowSpec};
    /// use rill_runtime::{Batch, Executor, Time};
    /// use std::time::Duration;
    ///
    /// let s = Duration::from_secs;
    /// let spec = WindowSpec::new("group_by_key_and_window", s(2), s(1), s(1)).unwrap();
    /// let (exec, mut w) = (Executor::new(1).unwrap(), GroupByKeyAndWindow::new(spec, 1));
    /// let mut at = |t: u64, pairs: Vec<(&'static str, u32)>| {
    ///     let mut out = w.step(&Batch::new(Time(t), Time(0), &exec), vec![vec![pairs]]).unwrap();
    ///     out[0].sort();
    ///     out.remove(0)
    /// };
    /// assert_eq!(at(1000, vec![("a", 1)]), vec![("a", vec![1])]);
    /// assert_eq!(at(2000, vec![("a", 2), ("b", 3)]), vec![("a", vec![1, 2]), ("b", vec![3])]);
    /// assert_eq!(at(3000, vec![]), vec![("a", vec![2]), ("b", vec![3])]);
    /// ```
    pub fn step(
        &mut self,
        batch: &Batch<'_>,
        chunks: Vec<Vec<Vec<(K, V)>>>,
    ) -> Option<Parts<(K, Vec<V>)>> {
        let t = batch.time();
        let fires = self.spec.fires(t, batch.zero_time());
        let spec = self.spec;
        let out = for_partitions(batch, chunks, &mut self.parts, |chunks, kept| {
            let groups = group(chunks).into_groups();
            if !groups.is_empty() {
                kept.push_back((t, groups));
            }
            while kept.front().is_some_and(|(b, _)| !spec.contains(*b, t)) {
                kept.pop_front();
            }
            if !fires {
                return Vec::new();
            }
            let mut window = Grouper::new();
            for (_, groups) in kept.iter() {
                for (k, values) in groups {
                    for v in values {
                        window.push(k, v.clone());
                    }
                }
            }
            window
                .into_groups()
                .into_iter()
                .map(|(k, values)| (k.clone(), values))
                .collect()
        });
        fires.then_some(out)
    }
}

impl<K, V> Durable for GroupByKeyAndWindow<K, V>
where
    K: Hash + Eq + Clone + Send + Sync + Persist,
    V: Clone + Send + Sync + Persist,
{
    fn save(&self) -> crate::Result<Vec<u8>> {
        let parts: Vec<&VecDeque<(Time, Vec<(K, Vec<V>)>)>> = self.parts.iter().collect();
        save(&save_batches(&parts))
    }

    fn load(&mut self, bytes: &[u8]) -> crate::Result<()> {
        self.parts = load_batches(self.parts.len(), load(bytes)?);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Executor;
    use std::time::Duration;

    #[test]
    fn a_slide_of_two_batches_groups_the_last_four_and_state_survives_a_reload() {
        let s = Duration::from_secs;
        let spec = WindowSpec::new("group_by_key_and_window", s(4), s(2), s(1)).unwrap();
        let exec = Executor::new(1).unwrap();
        let mut w = GroupByKeyAndWindow::new(spec, 1);
        let mut fired = Vec::new();
        for i in 1..=6u64 {
            if i == 4 {
                let mut copy = GroupByKeyAndWindow::new(spec, 1);
                copy.load(&w.save().unwrap()).unwrap();
                w = copy;
            }
            let b = Batch::new(Time(i * 1000), Time(0), &exec);
            if let Some(parts) = w.step(&b, vec![vec![vec![("k".to_string(), i)]]]) {
                fired.push(parts.concat());
            }
        }
        let k = |v: Vec<u64>| vec![("k".to_string(), v)];
        assert_eq!(
            fired,
            vec![k(vec![1, 2]), k(vec![1, 2, 3, 4]), k(vec![3, 4, 5, 6])]
        );
    }
}
