//! `repartition(n)`: records spread round-robin over `n` partitions (a shuffle without keys).

/// The map side: deals records round-robin into `n` buckets, each input partition
/// starting at a different bucket so small partitions still spread.
pub struct RoundRobin<T> {
    buckets: Vec<Vec<T>>,
    next: usize,
}

impl<T> RoundRobin<T> {
    /// `n` buckets (at least one), dealing from bucket `start % n`.
    pub fn new(n: usize, start: usize) -> Self {
        let n = n.max(1);
        RoundRobin {
            buckets: (0..n).map(|_| Vec::new()).collect(),
            next: start % n,
        }
    }

    /// Deals one record.
    #[inline]
    pub fn push(&mut self, x: T) {
        self.buckets[self.next].push(x);
        self.next += 1;
        if self.next == self.buckets.len() {
            self.next = 0;
        }
    }

    /// The buckets.
    pub fn finish(self) -> Vec<Vec<T>> {
        self.buckets
    }
}

/// The read side: the records dealt to one partition, from every input partition.
pub fn read_side<T>(chunks: Vec<Vec<T>>) -> Vec<T> {
    crate::concat(chunks)
}

#[cfg(test)]
mod tests {
    #[test]
    fn deals_round_robin() {
        let mut r = super::RoundRobin::new(3, 1);
        for x in 0..5 {
            r.push(x);
        }
        assert_eq!(r.finish(), vec![vec![2], vec![0, 3], vec![1, 4]]);
    }
}
