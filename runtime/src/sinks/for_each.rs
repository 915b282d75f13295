//! `for_each_batch(|time, records| ...)`: the generic output, Spark's `foreachRDD`.
//! Runs on the driver thread once per batch, in batch order, with the batch's records.

use crate::Time;

/// Calls `f` with the batch time and the batch's records.
#[inline]
pub fn for_each_batch<T, F: FnOnce(Time, Vec<T>)>(time: Time, records: Vec<T>, f: F) {
    f(time, records)
}
