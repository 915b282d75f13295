//! `running_reduce_by_key(f)`: the seed's rolling sum, per key and cumulative,
//!
//! ```text
//! S(t) = d_0 ⊕ d_1 ⊕ ... ⊕ d_t
//! ```
//!
//! where `⊕` is `f` and `d_i` are the key's values up to batch `t`. Every batch emits
//! `(key, S(t))` for every key seen so far. The map side combines each batch with `f`, so
//! the state holds one value per key.

use super::keyed_state::partitioned;
use super::keyed_state::{KeyMap, for_partitions};
use super::reduce_by_key::reduce_side;
use crate::checkpoint::durable::{Durable, Persist, load, save};
use crate::combine::Combined;
use crate::{Batch, Key, Parts};

/// The state of one `running_reduce_by_key`.
pub struct RunningReduceByKey<K, V> {
    parts: Vec<KeyMap<K, V>>,
}

impl<K, V> RunningReduceByKey<K, V>
where
    K: Key<Owned = K> + Clone + Send + Sync,
    V: Clone + Send + Sync,
{
    /// Empty state over `partitions` hash partitions.
    pub fn new(partitions: usize) -> Self {
        RunningReduceByKey {
            parts: (0..partitions.max(1)).map(|_| KeyMap::default()).collect(),
        }
    }

    /// Folds a batch's shuffled pairs into the running values; returns them all.
    pub fn step<Q: Key<Owned = K> + Send, F>(
        &mut self,
        batch: &Batch<'_>,
        chunks: Vec<Vec<Combined<Q, V>>>,
        f: F,
    ) -> Parts<(K, V)>
    where
        F: Fn(V, V) -> V + Sync + Send,
    {
        for_partitions(batch, chunks, &mut self.parts, |chunks, state| {
            for (k, v) in reduce_side(chunks, &f) {
                let v = match state.remove(&k) {
                    Some(acc) => f(acc, v),
                    None => v,
                };
                state.insert(k, v);
            }
            state.iter().map(|(k, v)| (k.clone(), v.clone())).collect()
        })
    }
}
impl<K, V> Durable for RunningReduceByKey<K, V>
where
    K: std::hash::Hash + Eq + Persist,
    V: Persist,
{
    fn save(&self) -> crate::Result<Vec<u8>> {
        let all: Vec<(&K, &V)> = self.parts.iter().flatten().collect();
        save(&all)
    }

    fn load(&mut self, bytes: &[u8]) -> crate::Result<()> {
        let all: Vec<(K, V)> = load(bytes)?;
        self.parts = partitioned(self.parts.len(), all);
        Ok(())
    }
}
