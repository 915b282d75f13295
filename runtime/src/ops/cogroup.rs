//! `cogroup(other)`: `(k, (values of this, values of other))` for every key on either side.

use super::group_by_key::group;
use std::hash::Hash;

/// Cogroups one partition of two shuffled streams.
pub fn cogroup_side<K: Hash + Eq, V, W>(
    left: Vec<Vec<(K, V)>>,
    right: Vec<Vec<(K, W)>>,
) -> Vec<(K, (Vec<V>, Vec<W>))> {
    let mut rg = group(right);
    let mut out = Vec::new();
    for (k, vs) in group(left).into_groups() {
        let ws = rg.remove(&k).unwrap_or_default();
        out.push((k, (vs, ws)));
    }
    out.extend(
        rg.into_groups()
            .into_iter()
            .map(|(k, ws)| (k, (Vec::new(), ws))),
    );
    out
}

#[cfg(test)]
mod tests {
    #[test]
    fn every_key_of_either_side() {
        let mut c = super::cogroup_side(
            vec![vec![(1, 'a'), (1, 'b'), (2, 'c')]],
            vec![vec![(1, 10), (3, 30)]],
        );
        c.sort();
        assert_eq!(
            c,
            vec![
                (1, (vec!['a', 'b'], vec![10])),
                (2, (vec!['c'], vec![])),
                (3, (vec![], vec![30]))
            ]
        );
    }
}
