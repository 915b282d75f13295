//! `update_state_by_key(f[, initial])`: keyed state updated every batch, as Spark's
//! `StateDStream`. `f` gets a key's new values (possibly none) and its previous state
//! (possibly none) and returns the new state, or `None` to remove the key. It is called
//! for every key with state or new values; the stream is the complete state every batch.

use super::group_by_key::group;
use super::keyed_state::{KeyMap, for_partitions, partitioned};
use crate::checkpoint::durable::{Durable, Persist, load, save};
use crate::{Batch, Parts, Time};
use std::hash::Hash;
use std::marker::PhantomData;

/// The state of one `update_state_by_key`.
pub struct UpdateStateByKey<K, V, S> {
    parts: Vec<KeyMap<K, S>>,
    _values: PhantomData<fn(V)>,
}

impl<K, V, S> UpdateStateByKey<K, V, S>
where
    K: Hash + Eq + Clone + Send + Sync,
    V: Send,
    S: Clone + Send + Sync,
{
    /// State over `partitions` hash partitions, starting from `initial`.
    pub fn new(partitions: usize, initial: Vec<(K, S)>) -> Self {
        UpdateStateByKey {
            parts: partitioned(partitions, initial),
            _values: PhantomData,
        }
    }

    /// Applies a batch's shuffled pairs; returns the complete state.
    pub fn step<F>(
        &mut self,
        batch: &Batch<'_>,
        chunks: Vec<Vec<Vec<(K, V)>>>,
        f: F,
    ) -> Parts<(K, S)>
    where
        F: Fn(&K, Vec<V>, Option<S>, Time) -> Option<S> + Sync + Send,
    {
        let t = batch.time();
        for_partitions(batch, chunks, &mut self.parts, |chunks, state| {
            let mut next = KeyMap::with_capacity_and_hasher(state.len(), Default::default());
            for (k, values) in group(chunks).into_groups() {
                let prev = state.remove(&k);
                if let Some(s) = f(&k, values, prev, t) {
                    next.insert(k, s);
                }
            }
            for (k, s) in state.drain() {
                if let Some(s) = f(&k, Vec::new(), Some(s), t) {
                    next.insert(k, s);
                }
            }
            *state = next;
            state.iter().map(|(k, s)| (k.clone(), s.clone())).collect()
        })
    }
}
impl<K, V, S> Durable for UpdateStateByKey<K, V, S>
where
    K: Hash + Eq + Persist,
    S: Persist,
{
    fn save(&self) -> crate::Result<Vec<u8>> {
        let all: Vec<(&K, &S)> = self.parts.iter().flatten().collect();
        save(&all)
    }

    fn load(&mut self, bytes: &[u8]) -> crate::Result<()> {
        let all: Vec<(K, S)> = load(bytes)?;
        self.parts = partitioned(self.parts.len(), all);
        Ok(())
    }
}
