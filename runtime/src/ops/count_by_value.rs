//! `count_by_value()`: `(record, count)` per distinct record, as Spark's
//! `map((_, 1L)).reduceByKey(_ + _)`. The map side inserts each record with [`one`] into a
//! combiner with [`add`]; the reduce side is [`reduce_side`](crate::ops::reduce_by_key::reduce_side).

/// The count of one record.
pub const fn one() -> u64 {
    1
}

/// Adds two counts.
#[inline]
pub fn add(a: u64, b: u64) -> u64 {
    a + b
}
