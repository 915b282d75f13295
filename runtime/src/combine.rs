//! Hash tables keyed by owned keys and probed with borrowed ones, and hash partitioning.
//!
//! [`Combiner`] is the map-side combine of `reduce_by_key` and `count_by_value` and the
//! reduce side of both: a key is looked up borrowed (`&str`) and made owned (`String`)
//! only when it is new in the table, so a word count allocates once per distinct word per
//! partition per batch, not once per word.

use crate::Key;
use hashbrown::HashTable;
use std::hash::{BuildHasher, Hash};

/// The hasher of every shuffle: deterministic across runs and processes.
pub type KeyHasher = rustc_hash::FxBuildHasher;

/// Hash of a key, equal for a borrowed key and its owned form.
#[inline]
pub fn hash_key<K: Hash + ?Sized>(k: &K) -> u64 {
    KeyHasher::default().hash_one(k)
}

/// The partition (of `n`) that owns a key with hash `h`. Uses the high bits, which the
/// hash tables do not use for their buckets, so one partition's keys spread evenly.
#[inline]
pub fn partition_of(h: u64, n: usize) -> usize {
    (((h >> 32) * n as u64) >> 32) as usize
}

/// A hash table that combines values per key with a reduce function.
pub struct Combiner<K, V> {
    table: HashTable<(u64, K, Option<V>)>,
}

impl<K, V> Default for Combiner<K, V> {
    fn default() -> Self {
        Combiner::new()
    }
}

impl<K, V> Combiner<K, V> {
    /// An empty combiner.
    pub fn new() -> Self {
        Combiner {
            table: HashTable::new(),
        }
    }

    /// Number of distinct keys.
    pub fn len(&self) -> usize {
        self.table.len()
    }

    /// Whether no key was inserted.
    pub fn is_empty(&self) -> bool {
        self.table.is_empty()
    }

    /// Combines `v` into the value of `k` with `f(old, v)`; a new key is made owned.
    #[inline]
    pub fn insert<Q, F>(&mut self, k: Q, v: V, f: F)
    where
        Q: Key<Owned = K>,
        F: FnOnce(V, V) -> V,
    {
        let h = hash_key(&k);
        match self.table.find_mut(h, |e| k.eq_owned(&e.1)) {
            Some(e) => {
                let old = e.2.take().expect("combiner slot always holds a value");
                e.2 = Some(f(old, v));
            }
            None => {
                self.table
                    .insert_unique(h, (h, k.into_owned(), Some(v)), |e| e.0);
            }
        }
    }

    /// The combined pairs, in no particular order.
    pub fn into_pairs(self) -> Vec<(K, V)> {
        self.table
            .into_iter()
            .map(|(_, k, v)| (k, v.expect("combiner slot always holds a value")))
            .collect()
    }

    /// The combined pairs split into `n` hash partitions.
    pub fn into_buckets(self, n: usize) -> Vec<Vec<(K, V)>> {
        let mut out: Vec<Vec<(K, V)>> = (0..n).map(|_| Vec::new()).collect();
        for (h, k, v) in self.table {
            out[partition_of(h, n)].push((k, v.expect("combiner slot always holds a value")));
        }
        out
    }
}

/// Records routed to the `n` hash partitions of a shuffle, keys made owned.
pub struct Buckets<T> {
    buckets: Vec<Vec<T>>,
}

impl<K: Hash, V> Buckets<(K, V)> {
    /// `n` empty buckets.
    pub fn new(n: usize) -> Self {
        Buckets {
            buckets: (0..n.max(1)).map(|_| Vec::new()).collect(),
        }
    }

    /// Routes `(k, v)` to the partition owning `k`, making `k` owned.
    #[inline]
    pub fn push<Q: Key<Owned = K>>(&mut self, k: Q, v: V) {
        let p = partition_of(hash_key(&k), self.buckets.len());
        self.buckets[p].push((k.into_owned(), v));
    }

    /// The buckets, one per partition.
    pub fn finish(self) -> Vec<Vec<(K, V)>> {
        self.buckets
    }
}

/// Groups values by key, keeping the order in which values arrived.
pub struct Grouper<K, V> {
    table: HashTable<(u64, K, Vec<V>)>,
}

impl<K: Hash + Eq, V> Default for Grouper<K, V> {
    fn default() -> Self {
        Grouper::new()
    }
}

impl<K: Hash + Eq, V> Grouper<K, V> {
    /// An empty grouper.
    pub fn new() -> Self {
        Grouper {
            table: HashTable::new(),
        }
    }

    /// Appends `v` to the group of `k`.
    #[inline]
    pub fn push(&mut self, k: K, v: V) {
        let h = hash_key(&k);
        match self.table.find_mut(h, |e| e.1 == k) {
            Some(e) => e.2.push(v),
            None => {
                self.table.insert_unique(h, (h, k, vec![v]), |e| e.0);
            }
        }
    }

    /// The group of `k`, if any.
    pub fn get(&self, k: &K) -> Option<&Vec<V>> {
        self.table.find(hash_key(k), |e| e.1 == *k).map(|e| &e.2)
    }

    /// Removes and returns the group of `k`, if any.
    pub fn remove(&mut self, k: &K) -> Option<Vec<V>> {
        self.table
            .find_entry(hash_key(k), |e| e.1 == *k)
            .ok()
            .map(|e| e.remove().0.2)
    }

    /// The groups, in no particular order.
    pub fn into_groups(self) -> Vec<(K, Vec<V>)> {
        self.table.into_iter().map(|(_, k, v)| (k, v)).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn combiner_allocates_owned_keys_once_and_reduces() {
        let text = String::from("a b a c a b");
        let mut c: Combiner<String, u64> = Combiner::new();
        for w in text.split(' ') {
            c.insert(w, 1, |a, b| a + b);
        }
        let mut pairs = c.into_pairs();
        pairs.sort();
        assert_eq!(
            pairs,
            vec![("a".into(), 3), ("b".into(), 2), ("c".into(), 1)]
        );
    }

    #[test]
    fn buckets_agree_with_partition_of() {
        let mut c: Combiner<u64, u64> = Combiner::new();
        for k in 0..1000u64 {
            c.insert(k, 1, |a, b| a + b);
        }
        let buckets = c.into_buckets(4);
        assert_eq!(buckets.iter().map(Vec::len).sum::<usize>(), 1000);
        for (p, b) in buckets.iter().enumerate() {
            assert!(b.len() > 150, "partition {p} has only {} keys", b.len());
            for (k, _) in b {
                assert_eq!(partition_of(hash_key(k), 4), p);
            }
        }
    }

    #[test]
    fn grouper_keeps_arrival_order() {
        let mut g: Grouper<String, u32> = Grouper::new();
        g.push("x".into(), 1);
        g.push("y".into(), 2);
        g.push("x".into(), 3);
        assert_eq!(g.get(&"x".to_string()), Some(&vec![1, 3]));
        assert_eq!(g.remove(&"y".to_string()), Some(vec![2]));
        assert_eq!(g.get(&"y".to_string()), None);
        assert_eq!(g.into_groups().len(), 1);
    }
}
