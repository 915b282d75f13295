//! `reduce_by_key_and_window(f, len, slide)`: per key, the values of the window reduced
//! with `f`, as Spark's `reduceByKey(f).window(len, slide).reduceByKey(f)`; a key with no
//! value in the window is absent. Each partition keeps one partial aggregate per key per
//! batch of the window, never the records.

use super::keyed_state::for_partitions;
use super::reduce_by_key::reduce_side;
use super::window::WindowSpec;
use crate::checkpoint::durable::{Durable, Persist, load, save, split_by_key};
use crate::combine::{Combined, Combiner};
use crate::{Batch, Key, Parts, Time};
use std::collections::VecDeque;

/// The state of one `reduce_by_key_and_window` (no inverse function).
pub struct ReduceByKeyAndWindow<K, V> {
    spec: WindowSpec,
    parts: Vec<VecDeque<(Time, Vec<(K, V)>)>>,
}

impl<K, V> ReduceByKeyAndWindow<K, V>
where
    K: Key<Owned = K> + Clone + Send + Sync,
    V: Clone + Send + Sync,
{
    /// An empty window over `partitions` hash partitions.
    pub fn new(spec: WindowSpec, partitions: usize) -> Self {
        ReduceByKeyAndWindow {
            spec,
            parts: (0..partitions.max(1)).map(|_| VecDeque::new()).collect(),
        }
    }

    /// Adds a batch's shuffled pairs; at a firing time returns the window's reduction.
    pub fn step<Q: Key<Owned = K> + Send, F>(
        &mut self,
        batch: &Batch<'_>,
        chunks: Vec<Vec<Combined<Q, V>>>,
        f: F,
    ) -> Option<Parts<(K, V)>>
    where
        F: Fn(V, V) -> V + Sync + Send,
    {
        let t = batch.time();
        let fires = self.spec.fires(t, batch.zero_time());
        let spec = self.spec;
        let out = for_partitions(batch, chunks, &mut self.parts, |chunks, kept| {
            kept.push_back((t, reduce_side(chunks, &f)));
            while kept.front().is_some_and(|(b, _)| !spec.contains(*b, t)) {
                kept.pop_front();
            }
            if !fires {
                return Vec::new();
            }
            let mut c = Combiner::new();
            for (_, pairs) in kept.iter() {
                for (k, v) in pairs {
                    c.insert(k.clone(), v.clone(), &f);
                }
            }
            c.into_pairs()
        });
        fires.then_some(out)
    }
}
/// Per-batch partial aggregates of every partition, merged per batch time.
pub(crate) fn save_batches<K: Clone, V: Clone>(
    parts: &[&VecDeque<(Time, Vec<(K, V)>)>],
) -> Vec<(Time, Vec<(K, V)>)> {
    let mut merged: Vec<(Time, Vec<(K, V)>)> = Vec::new();
    for part in parts {
        for (t, pairs) in part.iter() {
            match merged.iter_mut().find(|(m, _)| m == t) {
                Some((_, all)) => all.extend(pairs.iter().cloned()),
                None => merged.push((*t, pairs.clone())),
            }
        }
    }
    merged.sort_by_key(|(t, _)| *t);
    merged
}

/// The inverse of [`save_batches`] for `n` partitions: every partition gets every time.
pub(crate) fn load_batches<K: std::hash::Hash, V>(
    n: usize,
    batches: Vec<(Time, Vec<(K, V)>)>,
) -> Vec<VecDeque<(Time, Vec<(K, V)>)>> {
    let mut parts: Vec<VecDeque<(Time, Vec<(K, V)>)>> =
        (0..n.max(1)).map(|_| VecDeque::new()).collect();
    for (t, pairs) in batches {
        for (p, split) in split_by_key(parts.len(), pairs).into_iter().enumerate() {
            parts[p].push_back((t, split));
        }
    }
    parts
}

impl<K, V> Durable for ReduceByKeyAndWindow<K, V>
where
    K: Key<Owned = K> + Clone + Send + Sync + Persist,
    V: Clone + Send + Sync + Persist,
{
    fn save(&self) -> crate::Result<Vec<u8>> {
        let parts: Vec<&VecDeque<(Time, Vec<(K, V)>)>> = self.parts.iter().collect();
        save(&save_batches(&parts))
    }

    fn load(&mut self, bytes: &[u8]) -> crate::Result<()> {
        self.parts = load_batches(self.parts.len(), load(bytes)?);
        Ok(())
    }
}
