//! `count_by_event_window(len, slide[, emit])`: the number of records in each
//! event-time window; the state of `reduce_by_event_window` over counts.

use super::reduce_by_event_window::ReduceByEventWindow;

/// The state of one `count_by_event_window` over records `T`.
pub type CountByEventWindow<T> = ReduceByEventWindow<T, u64>;

/// A record counted as one.
#[inline]
pub fn one<T>(_: &T) -> u64 {
    1
}
