//! `map_partitions(f)`: a function over each partition's records, as Spark's
//! `DStream.mapPartitions`; the partitions run in parallel and keep their places.

use crate::{Batch, Parts};

/// `f` applied to the records of every partition of `parts`, in order.
///
/// ```
/// use rill_runtime::{Batch, Executor, Time};
/// let exec = Executor::new(2).unwrap();
/// let batch = Batch::new(Time(1000), Time(0), &exec);
/// let sums = rill_runtime::ops::map_partitions::map_partitions(&batch, vec![vec![1, 2], vec![3]], |it| {
///     std::iter::once(it.sum::<i32>())
/// });
/// assert_eq!(sums, vec![vec![3], vec![3]]);
/// ```
pub fn map_partitions<T, U, I, F>(batch: &Batch<'_>, parts: Parts<T>, f: F) -> Parts<U>
where
    T: Send,
    U: Send,
    I: IntoIterator<Item = U>,
    F: Fn(std::vec::IntoIter<T>) -> I + Sync + Send,
{
    batch.map_owned(parts, |p| f(p.into_iter()).into_iter().collect())
}
