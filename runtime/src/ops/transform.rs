//! `transform(f)`: a function over the whole batch, as Spark's `transform(rdd => ...)`.
//! The closure receives the batch's records in order (and, in the two-argument form,
//! the batch time) and returns any iterable; the result is spread evenly over the
//! partitions.

use crate::{Parts, Time, split_even};

/// Applies `f` to all records of the batch.
pub fn transform<T, U, I, F>(records: Vec<T>, partitions: usize, f: F) -> Parts<U>
where
    I: IntoIterator<Item = U>,
    F: FnOnce(Vec<T>) -> I,
{
    split_even(f(records).into_iter().collect(), partitions)
}

/// Applies `f` to the batch time and all records of the batch.
pub fn transform_with_time<T, U, I, F>(
    time: Time,
    records: Vec<T>,
    partitions: usize,
    f: F,
) -> Parts<U>
where
    I: IntoIterator<Item = U>,
    F: FnOnce(Time, Vec<T>) -> I,
{
    split_even(f(time, records).into_iter().collect(), partitions)
}

#[cfg(test)]
mod tests {
    #[test]
    fn sorts_a_whole_batch() {
        let p = super::transform(vec![3, 1, 2], 2, |mut v| {
            v.sort();
            v
        });
        assert_eq!(p, vec![vec![1, 2], vec![3]]);
    }
}
