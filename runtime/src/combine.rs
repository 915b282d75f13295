//! Hash tables keyed by owned keys and probed with borrowed ones, and hash partitioning.
//!
//! [`Combiner`] is the map-side combine of `reduce_by_key` and `count_by_value` and the
//! reduce side of both: a key is looked up borrowed (`&str`) and made owned (`String`)
//! only when it is new in the table, so a word count allocates once per distinct word per
//! partition per batch, not once per word.

use crate::{Key, Record};
use hashbrown::HashTable;
use std::hash::{BuildHasher, Hash};
use std::sync::atomic::{AtomicUsize, Ordering};

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

const FILLED: &str = "a combiner slot always holds a value";

/// Folds `v` into a table slot with `f(old, v)`.
#[inline]
fn fold_slot<V>(slot: &mut Option<V>, v: V, f: impl FnOnce(V, V) -> V) {
    let old = slot.take().expect(FILLED);
    *slot = Some(f(old, v));
}

/// The size of the largest table a shuffle's map side made last batch, so the next
/// batch's tables start at that size instead of growing (and rehashing) up to it.
#[derive(Debug, Default)]
pub struct CapacityHint(AtomicUsize);

impl CapacityHint {
    fn get(&self) -> usize {
        self.0.load(Ordering::Relaxed)
    }

    fn record(&self, n: usize) {
        self.0.store(n, Ordering::Relaxed);
    }
}

/// Values combined per key with a reduce function: one destination partition's share
/// of a map-side combine, and what its reduce side merges.
pub struct Combined<K, V> {
    table: HashTable<(u64, K, Option<V>)>,
}

impl<K, V> Default for Combined<K, V> {
    fn default() -> Self {
        Combined::with_capacity(0)
    }
}

impl<K, V> Combined<K, V> {
    /// An empty table with room for `n` keys.
    pub fn with_capacity(n: usize) -> Self {
        Combined {
            table: HashTable::with_capacity(n),
        }
    }

    /// Number of distinct keys.
    pub fn len(&self) -> usize {
        self.table.len()
    }

    /// Whether there is no key.
    pub fn is_empty(&self) -> bool {
        self.table.is_empty()
    }

    /// Combines `v` into the value of `k` (whose hash is `h`) with `f(old, v)`; a key new
    /// to the table is made owned, an existing one is only compared.
    #[inline]
    pub fn insert_hashed<Q, F>(&mut self, h: u64, k: Q, v: V, f: F)
    where
        Q: Key<Owned = K>,
        F: FnOnce(V, V) -> V,
    {
        match self.table.find_mut(h, |e| k.eq_owned(&e.1)) {
            Some(e) => fold_slot(&mut e.2, v, f),
            None => {
                self.table
                    .insert_unique(h, (h, k.into_owned(), Some(v)), |e| e.0);
            }
        }
    }

    /// Combines `v` into the value of `k` (whose hash is `h`), keeping `k` as it is:
    /// for keys that borrow from the batch, which the reduce side makes owned once.
    #[inline]
    pub fn insert_as_is<F>(&mut self, h: u64, k: K, v: V, f: F)
    where
        K: Key,
        F: FnOnce(V, V) -> V,
    {
        match self.table.find_mut(h, |e| k.key_eq(&e.1)) {
            Some(e) => fold_slot(&mut e.2, v, f),
            None => {
                self.table.insert_unique(h, (h, k, Some(v)), |e| e.0);
            }
        }
    }

    /// Combines every key of `other` into this table.
    pub fn merge<F: Fn(V, V) -> V>(&mut self, other: Combined<K, V>, f: F)
    where
        K: Key,
    {
        for (h, k, v) in other.table {
            let v = v.expect(FILLED);
            match self.table.find_mut(h, |e| k.key_eq(&e.1)) {
                Some(e) => fold_slot(&mut e.2, v, &f),
                None => {
                    self.table.insert_unique(h, (h, k, Some(v)), |e| e.0);
                }
            }
        }
    }

    /// The combined pairs by reference, in no particular order.
    #[cfg(feature = "cluster")]
    pub(crate) fn pairs(&self) -> impl ExactSizeIterator<Item = (&K, &V)> {
        self.table
            .iter()
            .map(|(_, k, v)| (k, v.as_ref().expect(FILLED)))
    }

    /// Adds `k` (whose hash is `h`), known not to be in the table.
    #[cfg(feature = "cluster")]
    pub(crate) fn insert_unique(&mut self, h: u64, k: K, v: V) {
        self.table.insert_unique(h, (h, k, Some(v)), |e| e.0);
    }

    /// The combined pairs, in no particular order.
    pub fn into_pairs(self) -> Vec<(K, V)> {
        let mut out = Vec::with_capacity(self.table.len());
        out.extend(
            self.table
                .into_iter()
                .map(|(_, k, v)| (k, v.expect(FILLED))),
        );
        out
    }

    /// The combined pairs with their keys made owned, in no particular order.
    pub fn into_owned_pairs(self) -> Vec<(K::Owned, V)>
    where
        K: Record,
    {
        let mut out = Vec::with_capacity(self.table.len());
        out.extend(
            self.table
                .into_iter()
                .map(|(_, k, v)| (k.into_owned(), v.expect(FILLED))),
        );
        out
    }
}

/// A map-side combine: one [`Combined`] table per destination partition, so the reduce
/// side merges tables instead of re-inserting every pair.
pub struct Combiner<K, V> {
    parts: Vec<Combined<K, V>>,
}

impl<K, V> Default for Combiner<K, V> {
    fn default() -> Self {
        Combiner::new()
    }
}

impl<K, V> Combiner<K, V> {
    /// A combiner with a single table (a local combine, no shuffle).
    pub fn new() -> Self {
        Combiner {
            parts: vec![Combined::default()],
        }
    }

    /// A combiner for a shuffle to `n` partitions, sized after `hint`.
    pub fn partitioned(n: usize, hint: &CapacityHint) -> Self {
        let cap = hint.get();
        Combiner {
            parts: (0..n.max(1))
                .map(|_| Combined::with_capacity(cap))
                .collect(),
        }
    }

    /// Number of distinct keys.
    pub fn len(&self) -> usize {
        self.parts.iter().map(Combined::len).sum()
    }

    /// Whether no key was inserted.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Combines `v` into the value of `k` with `f(old, v)`; a new key is made owned.
    #[inline]
    pub fn insert<Q, F>(&mut self, k: Q, v: V, f: F)
    where
        Q: Key<Owned = K>,
        F: FnOnce(V, V) -> V,
    {
        let h = hash_key(&k);
        let p = if self.parts.len() == 1 {
            0
        } else {
            partition_of(h, self.parts.len())
        };
        self.parts[p].insert_hashed(h, k, v, f);
    }

    /// Combines `v` into the value of `k`, keeping `k` as it is (see
    /// [`Combined::insert_as_is`]).
    #[inline]
    pub fn insert_as_is<F>(&mut self, k: K, v: V, f: F)
    where
        K: Key,
        F: FnOnce(V, V) -> V,
    {
        let h = hash_key(&k);
        let p = if self.parts.len() == 1 {
            0
        } else {
            partition_of(h, self.parts.len())
        };
        self.parts[p].insert_as_is(h, k, v, f);
    }

    /// The combined pairs, in no particular order.
    pub fn into_pairs(self) -> Vec<(K, V)> {
        let mut out = Vec::with_capacity(self.len());
        for part in self.parts {
            out.extend(part.into_pairs());
        }
        out
    }

    /// The tables, one per destination partition; records their size in `hint`.
    pub fn into_buckets(self, hint: &CapacityHint) -> Vec<Combined<K, V>> {
        hint.record(self.parts.iter().map(Combined::len).max().unwrap_or(0));
        self.parts
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
        let hint = CapacityHint::default();
        let mut c: Combiner<u64, u64> = Combiner::partitioned(4, &hint);
        for k in 0..1000u64 {
            c.insert(k, 1, |a, b| a + b);
        }
        let buckets = c.into_buckets(&hint);
        assert_eq!(buckets.iter().map(Combined::len).sum::<usize>(), 1000);
        assert_eq!(hint.get(), buckets.iter().map(Combined::len).max().unwrap());
        for (p, b) in buckets.into_iter().enumerate() {
            assert!(b.len() > 150, "partition {p} has only {} keys", b.len());
            for (k, _) in b.into_pairs() {
                assert_eq!(partition_of(hash_key(&k), 4), p);
            }
        }
    }

    #[test]
    fn merge_combines_tables() {
        let mut a: Combined<String, u32> = Combined::default();
        let mut b: Combined<String, u32> = Combined::default();
        for w in ["x", "y"] {
            a.insert_hashed(hash_key(w), w, 1, |p, q| p + q);
        }
        for w in ["x", "z"] {
            b.insert_hashed(hash_key(w), w, 1, |p, q| p + q);
        }
        a.merge(b, |p, q| p + q);
        let mut pairs = a.into_pairs();
        pairs.sort();
        assert_eq!(
            pairs,
            vec![("x".into(), 2), ("y".into(), 1), ("z".into(), 1)]
        );
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
