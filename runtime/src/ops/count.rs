//! `count()`: one record per batch, the number of records (`0` for an empty batch, as
//! Spark's `count` unions a zero so an empty batch still yields `[0]`).

use crate::Parts;

/// Sums per-partition counts into the single-record result.
pub fn merge(partials: Vec<u64>) -> Parts<u64> {
    vec![vec![partials.into_iter().sum()]]
}

#[cfg(test)]
mod tests {
    #[test]
    fn empty_batch_counts_zero() {
        assert_eq!(super::merge(vec![]), vec![vec![0]]);
        assert_eq!(super::merge(vec![2, 3]), vec![vec![5]]);
    }
}
