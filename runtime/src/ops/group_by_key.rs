//! `group_by_key()`: `(key, values)` per key; values in arrival order within a partition.

use crate::combine::Grouper;
use std::hash::Hash;

/// Groups the shuffled pairs of one partition by key.
pub fn group_side<K: Hash + Eq, V>(chunks: Vec<Vec<(K, V)>>) -> Vec<(K, Vec<V>)> {
    group(chunks).into_groups()
}

pub(crate) fn group<K: Hash + Eq, V>(chunks: Vec<Vec<(K, V)>>) -> Grouper<K, V> {
    let mut g = Grouper::new();
    for chunk in chunks {
        for (k, v) in chunk {
            g.push(k, v);
        }
    }
    g
}

#[cfg(test)]
mod tests {
    #[test]
    fn groups_values() {
        let mut r = super::group_side(vec![vec![(1, 'a'), (2, 'b')], vec![(1, 'c')]]);
        r.sort();
        assert_eq!(r, vec![(1, vec!['a', 'c']), (2, vec!['b'])]);
    }
}
