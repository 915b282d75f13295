//! The exchange of a shuffle: buckets written per input partition, read per output partition.

/// Transposes map-side output `[source partition][target partition]` into
/// `[target partition][source partition]`, moving the buckets without copying records.
pub fn exchange<T>(written: Vec<Vec<Vec<T>>>, n: usize) -> Vec<Vec<Vec<T>>> {
    let mut out: Vec<Vec<Vec<T>>> = (0..n).map(|_| Vec::with_capacity(written.len())).collect();
    for buckets in written {
        debug_assert_eq!(buckets.len(), n);
        for (dst, b) in buckets.into_iter().enumerate() {
            out[dst].push(b);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    #[test]
    fn exchange_transposes() {
        let w = vec![vec![vec![1], vec![2]], vec![vec![3], vec![4, 5]]];
        assert_eq!(
            super::exchange(w, 2),
            vec![vec![vec![1], vec![3]], vec![vec![2], vec![4, 5]]]
        );
    }
}
