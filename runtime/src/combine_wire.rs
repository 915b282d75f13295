//! A map-side combine's table on the wire (feature `cluster`): its `(key, value)` pairs,
//! read back into a table whose keys hash as they did (the key hash is `hash_key`'s,
//! the same on every process).

use crate::combine::{Combined, hash_key};
use serde::de::{Deserialize, Deserializer};
use serde::ser::{Serialize, Serializer};
use std::hash::Hash;

impl<K: Serialize, V: Serialize> Serialize for Combined<K, V> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_seq(self.pairs())
    }
}

impl<'de, K, V> Deserialize<'de> for Combined<K, V>
where
    K: Deserialize<'de> + Hash + Eq,
    V: Deserialize<'de>,
{
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let pairs: Vec<(K, V)> = Vec::deserialize(d)?;
        let mut table = Combined::with_capacity(pairs.len());
        for (k, v) in pairs {
            table.insert_unique(hash_key(&k), k, v);
        }
        Ok(table)
    }
}

#[cfg(test)]
mod tests {
    use crate::combine::{Combined, hash_key};

    #[test]
    fn a_table_crosses_the_wire_with_borrowed_keys() {
        let mut t: Combined<&str, u64> = Combined::default();
        for w in ["a", "b", "a"] {
            t.insert_as_is(hash_key(w), w, 1, |a, b| a + b);
        }
        let bytes = bincode::serde::encode_to_vec(&t, bincode::config::standard()).unwrap();
        let (back, _): (Combined<&str, u64>, _) =
            bincode::serde::borrow_decode_from_slice(&bytes, bincode::config::standard()).unwrap();
        let mut pairs = back.into_pairs();
        pairs.sort();
        assert_eq!(pairs, vec![("a", 2), ("b", 1)]);
        // Merging with a local table finds the same keys.
        let mut local: Combined<&str, u64> = Combined::default();
        local.insert_as_is(hash_key("a"), "a", 5, |a, b| a + b);
        let (again, _): (Combined<&str, u64>, _) =
            bincode::serde::borrow_decode_from_slice(&bytes, bincode::config::standard()).unwrap();
        local.merge(again, |a, b| a + b);
        let mut merged = local.into_pairs();
        merged.sort();
        assert_eq!(merged, vec![("a", 7), ("b", 1)]);
    }
}
