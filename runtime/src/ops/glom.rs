//! `glom()`: every partition becomes one record holding its records, as Spark's
//! `DStream.glom` (an array per partition, empty partitions included).

use crate::Parts;

/// Each partition of `parts` as a one-record partition holding its records.
///
/// ```
/// let p = rill_runtime::ops::glom::glom(vec![vec![1, 2], vec![], vec![3]]);
/// assert_eq!(p, vec![vec![vec![1, 2]], vec![vec![]], vec![vec![3]]]);
/// ```
pub fn glom<T>(parts: Parts<T>) -> Parts<Vec<T>> {
    parts.into_iter().map(|p| vec![p]).collect()
}
