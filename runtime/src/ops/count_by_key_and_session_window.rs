//! `count_by_key_and_session_window(gap[, emit])`: per key, the number of records in
//! each session; the state of `reduce_by_key_and_session_window` over counts.

use super::reduce_by_key_and_session_window::ReduceByKeyAndSessionWindow;

/// The state of one `count_by_key_and_session_window` over `(K, V)` records.
pub type CountByKeyAndSessionWindow<K, V> = ReduceByKeyAndSessionWindow<K, V, u64>;

/// A value counted as one.
#[inline]
pub fn one<V>(_: V) -> u64 {
    1
}
