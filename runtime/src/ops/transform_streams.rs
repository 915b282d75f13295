//! `transform([a, b, ...], f)`: a function over the batches of several streams, as
//! Spark's `StreamingContext.transform(Seq(s1, s2, ...), f)`. The closure receives one
//! `Vec` of records per stream, in the order given (and, in the two-argument form, the
//! batch time first), and returns any iterable; the result is spread evenly over the
//! partitions.

use crate::{Parts, Time, split_even};

/// Applies `f` to the records of every stream's batch.
///
/// ```
/// let p = rill_runtime::ops::transform_streams::transform_streams(
///     vec![vec![1, 2], vec![], vec![3]],
///     1,
///     |batches| batches.iter().map(|b| b.len()).collect::<Vec<_>>(),
/// );
/// assert_eq!(p, vec![vec![2, 0, 1]]);
/// ```
pub fn transform_streams<T, U, I, F>(batches: Vec<Vec<T>>, partitions: usize, f: F) -> Parts<U>
where
    I: IntoIterator<Item = U>,
    F: FnOnce(Vec<Vec<T>>) -> I,
{
    split_even(f(batches).into_iter().collect(), partitions)
}

/// Applies `f` to the batch time and the records of every stream's batch.
pub fn transform_streams_with_time<T, U, I, F>(
    time: Time,
    batches: Vec<Vec<T>>,
    partitions: usize,
    f: F,
) -> Parts<U>
where
    I: IntoIterator<Item = U>,
    F: FnOnce(Time, Vec<Vec<T>>) -> I,
{
    split_even(f(time, batches).into_iter().collect(), partitions)
}
