//! `combine_by_key(create, merge_value, merge_combiners)`: per key, its values of the
//! batch combined into a combiner, as Spark's `combineByKey` with its map-side combine:
//! each map partition's values of a key make one combiner (`create` for the first,
//! `merge_value` for the rest), and the combiners of a key are merged with
//! `merge_combiners`. Both run on the reduce side, over the exchanged pairs, one map
//! partition's share at a time.

use super::keyed_state::KeyMap;
use std::hash::Hash;

/// Combines the shuffled pairs of one partition: `chunks` holds one `Vec` per map
/// partition.
///
/// ```
/// use rill_runtime::ops::combine_by_key::combine_side;
///
/// let chunks = vec![vec![("a", 1), ("b", 4), ("a", 3)], vec![("a", 5)]];
/// let sum_and_count = |v| (v, 1);
/// let add = |(s, n), v| (s + v, n + 1);
/// let merge = |(s1, n1), (s2, n2)| (s1 + s2, n1 + n2);
/// let mut got = combine_side(chunks, sum_and_count, add, merge);
/// got.sort();
/// assert_eq!(got, vec![("a", (9, 3)), ("b", (4, 1))]);
/// ```
pub fn combine_side<K, V, C, F, G, H>(
    chunks: Vec<Vec<(K, V)>>,
    create: F,
    merge_value: G,
    merge_combiners: H,
) -> Vec<(K, C)>
where
    K: Hash + Eq,
    F: Fn(V) -> C,
    G: Fn(C, V) -> C,
    H: Fn(C, C) -> C,
{
    let mut all: Option<KeyMap<K, Option<C>>> = None;
    for chunk in chunks.into_iter().filter(|c| !c.is_empty()) {
        let mut part = KeyMap::default();
        for (k, v) in chunk {
            fold(&mut part, k, v, &create, &merge_value);
        }
        match &mut all {
            None => all = Some(part),
            Some(all) => {
                for (k, c) in part {
                    fold(all, k, c.expect(FILLED), |c| c, &merge_combiners);
                }
            }
        }
    }
    all.into_iter()
        .flatten()
        .map(|(k, c)| (k, c.expect(FILLED)))
        .collect()
}

const FILLED: &str = "a combiner slot holds a value between folds";

/// Folds `x` into the combiner of `k`: `new(x)` for a key new to `map`, else `add(c, x)`.
fn fold<K: Hash + Eq, X, C>(
    map: &mut KeyMap<K, Option<C>>,
    k: K,
    x: X,
    new: impl FnOnce(X) -> C,
    add: impl FnOnce(C, X) -> C,
) {
    let slot = map.entry(k).or_default();
    *slot = Some(match slot.take() {
        Some(c) => add(c, x),
        None => new(x),
    });
}

#[cfg(test)]
mod tests {
    use super::combine_side;

    #[test]
    fn creates_once_per_key_and_map_partition_and_merges_across_them() {
        // Combiners record how they were made: `c` created, `+` a value, `|` a merge.
        let chunks = vec![
            vec![("a", 'x'), ("a", 'y')],
            vec![],
            vec![("a", 'z'), ("b", 'w')],
        ];
        let mut got = combine_side(
            chunks,
            |v| format!("c{v}"),
            |c, v| format!("{c}+{v}"),
            |a, b| format!("{a}|{b}"),
        );
        got.sort();
        assert_eq!(
            got,
            vec![("a", "cx+y|cz".to_string()), ("b", "cw".to_string())]
        );
        assert!(
            combine_side(
                Vec::<Vec<(u8, u8)>>::new(),
                |v| v,
                |a, b| a + b,
                |a, b| a + b
            )
            .is_empty()
        );
    }
}
