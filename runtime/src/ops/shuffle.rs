//! The exchange of a shuffle: buckets written per input partition, read per output partition.

/// Transposes map-side output `[source partition][target partition]` into
/// `[target partition][source partition]`, moving the buckets (record `Vec`s or combined
/// tables) without copying records.
pub fn exchange<B>(written: Vec<Vec<B>>, n: usize) -> Vec<Vec<B>> {
    let mut out: Vec<Vec<B>> = (0..n).map(|_| Vec::with_capacity(written.len())).collect();
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
