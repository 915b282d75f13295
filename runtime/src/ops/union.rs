//! `union(other)`: this stream's partitions followed by the other's, as Spark's union.

use crate::Parts;

/// The partitions of `a` then those of `b` (records keep their order).
pub fn union<T>(mut a: Parts<T>, b: Parts<T>) -> Parts<T> {
    a.extend(b);
    a
}

#[cfg(test)]
mod tests {
    #[test]
    fn first_then_second() {
        assert_eq!(
            super::union(vec![vec![1], vec![2]], vec![vec![3]]),
            vec![vec![1], vec![2], vec![3]]
        );
    }
}
