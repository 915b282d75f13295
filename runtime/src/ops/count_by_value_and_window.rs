//! `count_by_value_and_window(len, slide)`: `(record, count in the window)`, as Spark's
//! `map((_, 1L)).reduceByKeyAndWindow(_ + _, _ - _, len, slide)` with the filter
//! `count != 0`, so records that left the window vanish. The map side combines with
//! [`count_by_value`](super::count_by_value); the window is an
//! [`InvWindow`](super::reduce_by_key_and_window_inv::InvWindow).

/// Subtracts counts.
#[inline]
pub fn sub(a: u64, b: u64) -> u64 {
    a.saturating_sub(b)
}

/// Keeps non-zero counts.
#[inline]
pub fn nonzero<K>(_: &K, c: &u64) -> bool {
    *c != 0
}
