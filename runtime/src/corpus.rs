//! A deterministic text corpus for benchmarks and examples: lines of 10 words drawn from
//! a Zipf(s) distribution over a vocabulary `w0 .. w(V-1)`, from a fixed seed. Nothing is
//! downloaded and nothing is stored in git.
//!
//! ```
//! let corpus = rill_runtime::corpus::Corpus::new(100_000, 1.1, 42);
//! let lines = corpus.lines(3);
//! assert_eq!(lines.len(), 3);
//! assert!(lines.iter().all(|l| l.split(' ').count() == 10));
//! assert_eq!(lines, rill_runtime::corpus::Corpus::new(100_000, 1.1, 42).lines(3));
//! ```

/// Words per generated line.
pub const WORDS_PER_LINE: usize = 10;

/// A Zipf-distributed word generator.
#[derive(Clone, Debug)]
pub struct Corpus {
    cdf: Vec<f64>,
    state: u64,
}

impl Corpus {
    /// A generator over `vocabulary` words with exponent `s`, seeded with `seed`.
    pub fn new(vocabulary: usize, s: f64, seed: u64) -> Corpus {
        let vocabulary = vocabulary.max(1);
        let mut cdf = Vec::with_capacity(vocabulary);
        let mut total = 0.0;
        for rank in 1..=vocabulary {
            total += 1.0 / (rank as f64).powf(s);
            cdf.push(total);
        }
        for c in &mut cdf {
            *c /= total;
        }
        Corpus {
            cdf,
            state: seed ^ 0x9E37_79B9_7F4A_7C15,
        }
    }

    /// The next pseudo-random number (splitmix64).
    fn next_u64(&mut self) -> u64 {
        self.state = self.state.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.state;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// The rank (0-based) of the next word.
    pub fn next_rank(&mut self) -> usize {
        let u = (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64;
        self.cdf.partition_point(|c| *c < u).min(self.cdf.len() - 1)
    }

    /// Appends the next line (10 words, no newline) to `out`.
    pub fn push_line(&mut self, out: &mut String) {
        for i in 0..WORDS_PER_LINE {
            if i > 0 {
                out.push(' ');
            }
            out.push('w');
            push_number(out, self.next_rank());
        }
    }

    /// The next `n` lines.
    pub fn lines(&self, n: usize) -> Vec<String> {
        let mut next = self.clone();
        (0..n)
            .map(|_| {
                let mut l = String::with_capacity(64);
                next.push_line(&mut l);
                l
            })
            .collect()
    }

    /// Continues generating: the next `n` lines, advancing this generator.
    pub fn next_lines(&mut self, n: usize) -> Vec<String> {
        (0..n)
            .map(|_| {
                let mut l = String::with_capacity(64);
                self.push_line(&mut l);
                l
            })
            .collect()
    }
}

fn push_number(out: &mut String, mut n: usize) {
    let mut digits = [0u8; 20];
    let mut i = digits.len();
    loop {
        i -= 1;
        digits[i] = b'0' + (n % 10) as u8;
        n /= 10;
        if n == 0 {
            break;
        }
    }
    for d in &digits[i..] {
        out.push(*d as char);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn zipf_head_is_heavy_and_words_are_in_range() {
        let mut c = Corpus::new(100_000, 1.1, 7);
        let mut counts = vec![0u32; 100_000];
        for _ in 0..200_000 {
            counts[c.next_rank()] += 1;
        }
        // P(rank 1) = 1 / sum(k^-1.1, k = 1..100000), about 0.135.
        assert!((25_000..29_000).contains(&counts[0]), "{}", counts[0]);
        assert!(counts[0] > counts[1] && counts[1] > counts[9]);
        let line = Corpus::new(100_000, 1.1, 7).lines(1).remove(0);
        assert!(
            line.split(' ')
                .all(|w| w.starts_with('w') && w[1..].parse::<usize>().unwrap() < 100_000)
        );
    }
}
