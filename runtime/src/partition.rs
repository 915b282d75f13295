//! What a materialized partition can be: an owned `Vec`, or an `Arc<Vec>` shared between
//! overlapping windows (so `window()` never copies a batch per slide).

use crate::Parts;
use std::sync::Arc;

/// A partition's records, borrowed.
pub trait Partition<T>: Sync {
    /// The records in order.
    fn records(&self) -> &[T];
    /// The records, owned (moved where possible, else cloned).
    fn into_records(self) -> Vec<T>
    where
        T: Clone;
}

impl<T: Sync> Partition<T> for Vec<T> {
    fn records(&self) -> &[T] {
        self
    }
    fn into_records(self) -> Vec<T> {
        self
    }
}

impl<T: Sync + Send> Partition<T> for Arc<Vec<T>> {
    fn records(&self) -> &[T] {
        self
    }
    fn into_records(self) -> Vec<T>
    where
        T: Clone,
    {
        Arc::unwrap_or_clone(self)
    }
}

/// Owned partitions from any partitions.
pub fn into_parts<T: Clone, P: Partition<T>>(parts: Vec<P>) -> Parts<T> {
    parts.into_iter().map(Partition::into_records).collect()
}

/// All records in partition order, owned.
pub fn concat_parts<T: Clone, P: Partition<T>>(parts: Vec<P>) -> Vec<T> {
    let mut out = Vec::with_capacity(parts.iter().map(|p| p.records().len()).sum());
    for p in parts {
        out.extend(p.into_records());
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shared_partitions_are_cloned_only_when_shared() {
        let a = Arc::new(vec![1, 2]);
        let kept = a.clone();
        assert_eq!(concat_parts(vec![a, Arc::new(vec![3])]), vec![1, 2, 3]);
        assert_eq!(kept.records(), &[1, 2]);
        assert_eq!(into_parts(vec![vec![1], vec![]]), vec![vec![1], vec![]]);
    }
}
