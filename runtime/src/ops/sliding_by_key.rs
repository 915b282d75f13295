//! `sliding_by_key(w)`: the seed's count-based sliding window, per key over its last `w`
//! values,
//!
//! ```text
//! W(t) = { d_t, d_(t-1), ..., d_(t-w+1) }
//! ```
//!
//! Every batch emits `(key, values)` for each key that received values in the batch, with
//! its last `w` values oldest first (fewer while the key has seen fewer than `w`).

use super::group_by_key::group;
use super::keyed_state::partitioned;
use super::keyed_state::{KeyMap, for_partitions};
use crate::checkpoint::durable::{Durable, Persist, load, save};
use crate::{Batch, Parts};
use std::collections::VecDeque;
use std::hash::Hash;

/// The state of one `sliding_by_key`.
pub struct SlidingByKey<K, V> {
    w: usize,
    parts: Vec<KeyMap<K, VecDeque<V>>>,
}

impl<K, V> SlidingByKey<K, V>
where
    K: Hash + Eq + Clone + Send + Sync,
    V: Clone + Send + Sync,
{
    /// Windows of the last `w` values (at least 1) over `partitions` hash partitions.
    pub fn new(w: usize, partitions: usize) -> Self {
        SlidingByKey {
            w: w.max(1),
            parts: (0..partitions.max(1)).map(|_| KeyMap::default()).collect(),
        }
    }

    /// Adds a batch's shuffled pairs in arrival order; returns the updated keys' windows.
    pub fn step(&mut self, batch: &Batch<'_>, chunks: Vec<Vec<Vec<(K, V)>>>) -> Parts<(K, Vec<V>)> {
        let w = self.w;
        for_partitions(batch, chunks, &mut self.parts, |chunks, state| {
            let mut out = Vec::new();
            for (k, values) in group(chunks).into_groups() {
                let window = state.entry(k.clone()).or_default();
                window.extend(values);
                while window.len() > w {
                    window.pop_front();
                }
                out.push((k, window.iter().cloned().collect()));
            }
            out
        })
    }
}
impl<K, V> Durable for SlidingByKey<K, V>
where
    K: Hash + Eq + Persist,
    V: Persist,
{
    fn save(&self) -> crate::Result<Vec<u8>> {
        let all: Vec<(&K, &VecDeque<V>)> = self.parts.iter().flatten().collect();
        save(&all)
    }

    fn load(&mut self, bytes: &[u8]) -> crate::Result<()> {
        let all: Vec<(K, VecDeque<V>)> = load(bytes)?;
        self.parts = partitioned(self.parts.len(), all);
        Ok(())
    }
}
