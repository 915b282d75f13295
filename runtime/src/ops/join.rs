//! `join`, `left_outer_join`, `right_outer_join`, `full_outer_join` of two keyed streams,
//! per hash partition (both sides were shuffled with the same partitioning).

use super::group_by_key::group;
use std::hash::Hash;

/// Which rows of a join survive when one side has no value for a key.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum JoinKind {
    /// Only keys on both sides.
    Inner,
    /// Every left value; `None` where the right has no value.
    LeftOuter,
    /// Every right value; `None` where the left has no value.
    RightOuter,
    /// Every value of both sides.
    FullOuter,
}

/// Joins one partition: every pair `(v, w)` of values under the same key, with `None`
/// for a missing side where `kind` keeps it.
pub fn join_side<K, V, W>(
    kind: JoinKind,
    left: Vec<Vec<(K, V)>>,
    right: Vec<Vec<(K, W)>>,
) -> Vec<(K, (Option<V>, Option<W>))>
where
    K: Hash + Eq + Clone,
    V: Clone,
    W: Clone,
{
    let mut rg = group(right);
    let mut out = Vec::new();
    for (k, vs) in group(left).into_groups() {
        match rg.remove(&k) {
            Some(ws) => {
                for v in &vs {
                    for w in &ws {
                        out.push((k.clone(), (Some(v.clone()), Some(w.clone()))));
                    }
                }
            }
            None if matches!(kind, JoinKind::LeftOuter | JoinKind::FullOuter) => {
                out.extend(vs.into_iter().map(|v| (k.clone(), (Some(v), None))));
            }
            None => {}
        }
    }
    if matches!(kind, JoinKind::RightOuter | JoinKind::FullOuter) {
        for (k, ws) in rg.into_groups() {
            out.extend(ws.into_iter().map(|w| (k.clone(), (None, Some(w)))));
        }
    }
    out
}

/// `join`: `(k, (v, w))`.
pub fn inner<K, V, W>(left: Vec<Vec<(K, V)>>, right: Vec<Vec<(K, W)>>) -> Vec<(K, (V, W))>
where
    K: Hash + Eq + Clone,
    V: Clone,
    W: Clone,
{
    join_side(JoinKind::Inner, left, right)
        .into_iter()
        .filter_map(|(k, (v, w))| Some((k, (v?, w?))))
        .collect()
}

/// `left_outer_join`: `(k, (v, Option<w>))`.
pub fn left_outer<K, V, W>(
    left: Vec<Vec<(K, V)>>,
    right: Vec<Vec<(K, W)>>,
) -> Vec<(K, (V, Option<W>))>
where
    K: Hash + Eq + Clone,
    V: Clone,
    W: Clone,
{
    join_side(JoinKind::LeftOuter, left, right)
        .into_iter()
        .filter_map(|(k, (v, w))| Some((k, (v?, w))))
        .collect()
}

/// `right_outer_join`: `(k, (Option<v>, w))`.
pub fn right_outer<K, V, W>(
    left: Vec<Vec<(K, V)>>,
    right: Vec<Vec<(K, W)>>,
) -> Vec<(K, (Option<V>, W))>
where
    K: Hash + Eq + Clone,
    V: Clone,
    W: Clone,
{
    join_side(JoinKind::RightOuter, left, right)
        .into_iter()
        .filter_map(|(k, (v, w))| Some((k, (v, w?))))
        .collect()
}

/// `full_outer_join`: `(k, (Option<v>, Option<w>))`.
pub fn full_outer<K, V, W>(
    left: Vec<Vec<(K, V)>>,
    right: Vec<Vec<(K, W)>>,
) -> Vec<(K, (Option<V>, Option<W>))>
where
    K: Hash + Eq + Clone,
    V: Clone,
    W: Clone,
{
    join_side(JoinKind::FullOuter, left, right)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn l() -> Vec<Vec<(&'static str, u32)>> {
        vec![vec![("a", 1), ("b", 2)], vec![("a", 3)]]
    }
    fn r() -> Vec<Vec<(&'static str, char)>> {
        vec![vec![("a", 'x'), ("c", 'z')]]
    }

    #[test]
    fn inner_is_the_cartesian_product_per_key() {
        let mut j = inner(l(), r());
        j.sort();
        assert_eq!(j, vec![("a", (1, 'x')), ("a", (3, 'x'))]);
    }

    #[test]
    fn outer_joins_keep_the_unmatched_side() {
        let mut lo = left_outer(l(), r());
        lo.sort();
        assert_eq!(
            lo,
            vec![
                ("a", (1, Some('x'))),
                ("a", (3, Some('x'))),
                ("b", (2, None))
            ]
        );
        let mut ro = right_outer(l(), r());
        ro.sort();
        assert_eq!(
            ro,
            vec![
                ("a", (Some(1), 'x')),
                ("a", (Some(3), 'x')),
                ("c", (None, 'z'))
            ]
        );
        let mut fo = full_outer(l(), r());
        fo.sort();
        assert_eq!(fo.len(), 4);
        assert!(fo.contains(&("b", (Some(2), None))));
        assert!(fo.contains(&("c", (None, Some('z')))));
    }
}
