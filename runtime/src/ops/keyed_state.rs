//! Per-partition keyed state: one map per hash partition, updated in parallel with the
//! partition's shuffled records. State lives where the shuffle sends its keys, so it never
//! moves between batches and results do not depend on the parallelism.

use crate::Batch;
use crate::combine::{hash_key, partition_of};
use std::collections::HashMap;
use std::hash::Hash;

/// The map type of keyed state (deterministic hashing).
pub type KeyMap<K, V> = HashMap<K, V, rustc_hash::FxBuildHasher>;

/// Runs `f` on each partition's input together with that partition's state, in parallel.
pub fn for_partitions<C, S, R, F>(
    batch: &Batch<'_>,
    inputs: Vec<C>,
    states: &mut [S],
    f: F,
) -> Vec<R>
where
    C: Send,
    S: Send,
    R: Send,
    F: Fn(C, &mut S) -> R + Sync + Send,
{
    debug_assert_eq!(inputs.len(), states.len());
    let work: Vec<(C, &mut S)> = inputs.into_iter().zip(states.iter_mut()).collect();
    batch.map_owned(work, |(c, s)| f(c, s))
}

/// `n` empty per-partition maps with `initial` entries placed in the partitions that
/// own their keys.
pub fn partitioned<K: Hash + Eq, V>(n: usize, initial: Vec<(K, V)>) -> Vec<KeyMap<K, V>> {
    let n = n.max(1);
    let mut parts: Vec<KeyMap<K, V>> = (0..n).map(|_| KeyMap::default()).collect();
    for (k, v) in initial {
        parts[partition_of(hash_key(&k), n)].insert(k, v);
    }
    parts
}

/// Whether a partitioned state has `n` partitions; state made for another parallelism
/// is re-partitioned by key.
pub fn repartition<K: Hash + Eq, V>(parts: &mut Vec<KeyMap<K, V>>, n: usize) {
    if parts.len() != n {
        let all: Vec<(K, V)> = parts.drain(..).flatten().collect();
        *parts = partitioned(n, all);
    }
}
