//! Boxed operators for unfused plans: each narrow operator of a `stream! { ctx, unfused;
//! ... }` pipeline is called through a `Box<dyn Fn>` made once per partition, the way an
//! interpreter calls operators. The first argument of each constructor is the partition
//! the operator reads; it only fixes the record type, so closures need no annotations.

use crate::Partition;

/// Defeats devirtualization, so an unfused plan really dispatches dynamically.
#[inline(always)]
pub fn opaque<T>(x: T) -> T {
    std::hint::black_box(x)
}

/// `map(f)` as a boxed function of a record.
pub fn map<'f, T, U, P: Partition<T>>(
    _: &P,
    f: impl Fn(T) -> U + Sync + 'f,
) -> Box<dyn Fn(T) -> U + Sync + 'f> {
    opaque(Box::new(f))
}

/// `filter(p)` as a boxed predicate.
pub fn filter<'f, T, P: Partition<T>>(
    _: &P,
    f: impl Fn(&T) -> bool + Sync + 'f,
) -> Box<dyn Fn(&T) -> bool + Sync + 'f> {
    opaque(Box::new(f))
}

/// `filter_map(f)` as a boxed function of a record.
pub fn filter_map<'f, T, U, P: Partition<T>>(
    _: &P,
    f: impl Fn(T) -> Option<U> + Sync + 'f,
) -> Box<dyn Fn(T) -> Option<U> + Sync + 'f> {
    opaque(Box::new(f))
}

/// `flat_map(f)` as a boxed function from a borrowed record of the partition.
pub fn flat_map<'a, T: 'a, I, P: Partition<T>>(
    _: &'a P,
    f: impl Fn(&'a T) -> I + Sync + 'a,
) -> Box<dyn Fn(&'a T) -> I + Sync + 'a> {
    opaque(Box::new(f))
}

/// `map_values(f)` as a boxed function of a value.
pub fn map_values<'f, K, V, W, P: Partition<(K, V)>>(
    _: &P,
    f: impl Fn(V) -> W + Sync + 'f,
) -> Box<dyn Fn(V) -> W + Sync + 'f> {
    opaque(Box::new(f))
}

/// `flat_map_values(f)` as a boxed function of a value.
pub fn flat_map_values<'f, K, V, I, P: Partition<(K, V)>>(
    _: &P,
    f: impl Fn(V) -> I + Sync + 'f,
) -> Box<dyn Fn(V) -> I + Sync + 'f> {
    opaque(Box::new(f))
}

/// A reduce function of the values of a keyed partition, boxed.
pub fn reduce_values<'f, K, V, P: Partition<(K, V)>>(
    _: &P,
    f: impl Fn(V, V) -> V + Sync + 'f,
) -> Box<dyn Fn(V, V) -> V + Sync + 'f> {
    opaque(Box::new(f))
}
