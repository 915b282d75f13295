//! `reduce_by_key(f)`: the reduce side, after the map side combined each partition.

use crate::Key;
use crate::combine::Combiner;

/// Reduces the shuffled, already map-side-combined pairs of one partition per key.
pub fn reduce_side<K, V, F>(chunks: Vec<Vec<(K, V)>>, f: F) -> Vec<(K, V)>
where
    K: Key<Owned = K>,
    F: Fn(V, V) -> V,
{
    let mut c = Combiner::new();
    for chunk in chunks {
        for (k, v) in chunk {
            c.insert(k, v, &f);
        }
    }
    c.into_pairs()
}

#[cfg(test)]
mod tests {
    #[test]
    fn merges_partial_sums() {
        let mut r = super::reduce_side(
            vec![
                vec![("a".to_string(), 2u64)],
                vec![("a".to_string(), 3), ("b".to_string(), 1)],
            ],
            |a, b| a + b,
        );
        r.sort();
        assert_eq!(r, vec![("a".to_string(), 5), ("b".to_string(), 1)]);
    }
}
