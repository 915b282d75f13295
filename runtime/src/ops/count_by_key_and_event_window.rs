//! `count_by_key_and_event_window(len, slide[, emit])`: per key, the number of records
//! in each event-time window; the state of `reduce_by_key_and_event_window` over counts.

use super::reduce_by_key_and_event_window::ReduceByKeyAndEventWindow;

/// The state of one `count_by_key_and_event_window` over `(K, V)` records.
pub type CountByKeyAndEventWindow<K, V> = ReduceByKeyAndEventWindow<(K, V), K, u64>;

/// A keyed record counted as one.
#[inline]
pub fn one<K, V>(r: (K, V)) -> (K, u64) {
    (r.0, 1)
}

/// Two counts added.
#[inline]
pub fn add(a: u64, b: u64) -> u64 {
    a + b
}
