//! `reduce_by_key(f)`: the reduce side, after the map side combined each partition into
//! one table per destination: the tables are merged into the largest.

use crate::Key;
use crate::combine::Combined;

/// Merges the map-side tables of one partition; returns `(key, value)` per key, keys
/// made owned (once per key: map sides may keep keys borrowed from the batch).
pub fn reduce_side<Q, V, F>(mut chunks: Vec<Combined<Q, V>>, f: F) -> Vec<(Q::Owned, V)>
where
    Q: Key,
    F: Fn(V, V) -> V,
{
    let Some(largest) = (0..chunks.len()).max_by_key(|i| chunks[*i].len()) else {
        return Vec::new();
    };
    let mut base = chunks.swap_remove(largest);
    for other in chunks {
        base.merge(other, &f);
    }
    base.into_owned_pairs()
}

#[cfg(test)]
mod tests {
    use crate::combine::{Combined, hash_key};

    fn table(pairs: &[(&str, u64)]) -> Combined<String, u64> {
        let mut t = Combined::default();
        for (k, v) in pairs {
            t.insert_hashed(hash_key(k), *k, *v, |a, b| a + b);
        }
        t
    }

    #[test]
    fn merges_partial_sums() {
        let mut r = super::reduce_side(
            vec![table(&[("a", 2)]), table(&[("a", 3), ("b", 1)])],
            |a, b| a + b,
        );
        r.sort();
        assert_eq!(r, vec![("a".to_string(), 5), ("b".to_string(), 1)]);
        assert!(super::reduce_side(Vec::<Combined<String, u64>>::new(), |a, b| a + b).is_empty());
    }
}
