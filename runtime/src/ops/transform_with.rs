//! `transform_with(other, f)`: a function over the whole batches of two streams, as
//! Spark's `transformWith((rdd1, rdd2) => ...)`. The closure receives both batches'
//! records in order (and, in the three-argument form, the batch time first) and returns
//! any iterable; the result is spread evenly over the partitions.

use crate::{Parts, Time, split_even};

/// Applies `f` to all records of both batches.
///
/// ```
/// let p = rill_runtime::ops::transform_with::transform_with(vec![1, 2], vec![10], 1, |a, b| {
///     a.into_iter().chain(b).rev()
/// });
/// assert_eq!(p, vec![vec![10, 2, 1]]);
/// ```
pub fn transform_with<T, U, V, I, F>(a: Vec<T>, b: Vec<U>, partitions: usize, f: F) -> Parts<V>
where
    I: IntoIterator<Item = V>,
    F: FnOnce(Vec<T>, Vec<U>) -> I,
{
    split_even(f(a, b).into_iter().collect(), partitions)
}

/// Applies `f` to the batch time and all records of both batches.
pub fn transform_with_time<T, U, V, I, F>(
    time: Time,
    a: Vec<T>,
    b: Vec<U>,
    partitions: usize,
    f: F,
) -> Parts<V>
where
    I: IntoIterator<Item = V>,
    F: FnOnce(Time, Vec<T>, Vec<U>) -> I,
{
    split_even(f(time, a, b).into_iter().collect(), partitions)
}
