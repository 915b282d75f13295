//! The random draws of the `nexmark` crate's events, made as `rand` 0.8 makes them.
//!
//! The crate seeds a `rand` 0.8 `SmallRng` (Xoshiro256++ on 64-bit targets) with each
//! event's id and draws through `Rng::gen_range`, `SliceRandom::choose` and
//! `Rng::gen::<f32>()`. [`Draw`] keeps the same generator and consumes it exactly as
//! those calls do (`rand` 0.8.5's `UniformInt::sample_single_inclusive`: a widening
//! multiply of one `u32` or `u64` word by the range, rejected above a zone), so it draws
//! the same numbers, but with the zone of a constant range computed at compile time and
//! strings written a byte at a time into a buffer of their final size. The tests below
//! check each draw against `rand`'s own on many seeds and ranges.

use rand::rngs::SmallRng;
use rand::{RngCore, SeedableRng};

/// The zone of `rand`'s `sample_single_inclusive` for a `u32` range that is not a type
/// of 8 or 16 bits: the range shifted to the top bit, minus one.
const fn zone_u32(range: u32) -> u32 {
    (range << range.leading_zeros()).wrapping_sub(1)
}

/// The zone of `rand`'s `sample_single_inclusive` for a `u8` range (drawn in `u32`): the
/// largest multiple of the range that fits, minus one, computed with a modulus.
const fn zone_u8(range: u32) -> u32 {
    u32::MAX - (u32::MAX - range + 1) % range
}

/// The letters of `gen_range(b'a'..=b'z')`: 26 values.
const LETTERS: u32 = 26;
/// Its zone.
const LETTER_ZONE: u32 = zone_u8(LETTERS);

/// One event's random numbers: a `SmallRng` seeded like the crate's, drawn like `rand`.
pub(crate) struct Draw(SmallRng);

impl Draw {
    /// The generator of the event (or channel) with this id.
    #[inline]
    pub(crate) fn new(seed: u64) -> Self {
        Draw(SmallRng::seed_from_u64(seed))
    }

    /// `gen_range(0..range)` for `u32` (and `i32`, drawn the same way).
    ///
    /// # Panics
    /// If `range` is 0, as `rand` does.
    #[inline]
    pub(crate) fn below_u32(&mut self, range: u32) -> u32 {
        assert!(range > 0, "cannot sample empty range");
        let zone = zone_u32(range);
        loop {
            let m = u64::from(self.0.next_u32()) * u64::from(range);
            if m as u32 <= zone {
                return (m >> 32) as u32;
            }
        }
    }

    /// `gen_range(0..range)` for `u64`.
    ///
    /// # Panics
    /// If `range` is 0, as `rand` does.
    #[inline]
    pub(crate) fn below_u64(&mut self, range: u64) -> u64 {
        assert!(range > 0, "cannot sample empty range");
        let zone = (range << range.leading_zeros()).wrapping_sub(1);
        loop {
            let m = u128::from(self.0.next_u64()) * u128::from(range);
            if m as u64 <= zone {
                return (m >> 64) as u64;
            }
        }
    }

    /// `gen_range(0..range)` for `usize`: drawn in `u64` on 64-bit targets, in `u32`
    /// where `usize` has 32 bits, as `rand` does.
    #[inline]
    pub(crate) fn below(&mut self, range: usize) -> usize {
        if usize::BITS <= 32 {
            self.below_u32(range as u32) as usize
        } else {
            self.below_u64(range as u64) as usize
        }
    }

    /// The index `SliceRandom::choose` picks in a slice of `len` (not 0) elements:
    /// `gen_range(0..len as u32)` when `len` fits in `u32`, else in `usize`.
    #[inline]
    pub(crate) fn index(&mut self, len: usize) -> usize {
        if len <= u32::MAX as usize {
            self.below_u32(len as u32) as usize
        } else {
            self.below(len)
        }
    }

    /// One `gen_range(b'a'..=b'z')`.
    #[inline]
    pub(crate) fn letter(&mut self) -> u8 {
        loop {
            let m = u64::from(self.0.next_u32()) * u64::from(LETTERS);
            if m as u32 <= LETTER_ZONE {
                return b'a' + (m >> 32) as u8;
            }
        }
    }

    /// `n` letters appended to `out`.
    #[inline]
    pub(crate) fn push_letters(&mut self, out: &mut Vec<u8>, n: usize) {
        out.reserve(n);
        for _ in 0..n {
            let letter = self.letter();
            out.push(letter);
        }
    }

    /// The crate's `gen_string(n)`: `n` letters.
    #[inline]
    pub(crate) fn string(&mut self, n: usize) -> String {
        let mut out = Vec::with_capacity(n);
        self.push_letters(&mut out, n);
        ascii(out)
    }

    /// `rng.gen::<f32>()`: the top 24 bits of a `u32` over 2^24.
    #[inline]
    pub(crate) fn unit_f32(&mut self) -> f32 {
        const SCALE: f32 = 1.0 / (1u32 << 24) as f32;
        SCALE * (self.0.next_u32() >> 8) as f32
    }

    /// The crate's `gen_price`: `10^(6u) * 100` cents rounded, `u` uniform in [0, 1),
    /// computed in `f32` with `powf` as the crate does.
    #[inline]
    pub(crate) fn price(&mut self) -> usize {
        (10.0_f32.powf(self.unit_f32() * 6.0) * 100.0).round() as usize
    }

    /// The crate's `gen_next_extra`: letters padding an event of `current` bytes to
    /// about `average` bytes (between 4/5 and 6/5 of the difference; none if above).
    #[inline]
    pub(crate) fn extra(&mut self, current: usize, average: usize) -> String {
        if current > average {
            return String::new();
        }
        let wanted = average - current;
        let delta = (wanted + 2) / 5;
        let size = wanted - delta
            + if delta == 0 {
                0
            } else {
                self.below(2 * delta)
            };
        self.string(size)
    }
}

/// The `String` of bytes known to be ASCII (letters, digits and the crate's
/// punctuation): the check is a pass over the bytes, cheaper than the draws.
#[inline]
pub(crate) fn ascii(bytes: Vec<u8>) -> String {
    String::from_utf8(bytes).expect("generated strings are ASCII")
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::Rng;
    use rand::seq::SliceRandom;

    /// Seeds like event ids: small, around powers of ten, and large.
    fn seeds() -> impl Iterator<Item = u64> {
        (0..2000u64)
            .chain((0..200).map(|i| 1_000_000_007 + i * 7919))
            .chain((0..200).map(|i| u64::MAX - i * 104_729))
    }

    /// Each draw is checked on a pair of generators with the same seed, several times
    /// in a row so that the generators' states must also agree after it.
    fn agree<T: PartialEq + std::fmt::Debug>(
        mine: impl Fn(&mut Draw) -> T,
        rands: impl Fn(&mut SmallRng) -> T,
    ) {
        for seed in seeds() {
            let (mut d, mut r) = (Draw::new(seed), SmallRng::seed_from_u64(seed));
            for i in 0..8 {
                assert_eq!(mine(&mut d), rands(&mut r), "seed {seed}, draw {i}");
            }
        }
    }

    #[test]
    fn letters_and_strings_are_rands() {
        agree(|d| d.letter(), |r| r.gen_range(b'a'..=b'z'));
        agree(
            |d| d.string(67),
            |r| (0..67).map(|_| r.gen_range(b'a'..=b'z') as char).collect::<String>(),
        );
    }

    #[test]
    fn ranges_are_rands() {
        let ranges: [u64; 16] = [
            1,
            2,
            3,
            4,
            5,
            13,
            26,
            100,
            110,
            1010,
            9999,
            10_000,
            1 << 31,
            (1 << 32) + 1,
            u64::MAX / 3,
            u64::MAX,
        ];
        for &n in &ranges {
            agree(|d| d.below(n as usize), |r| r.gen_range(0..n as usize));
            agree(|d| d.below_u64(n), |r| r.gen_range(0..n));
            if n <= u64::from(u32::MAX) {
                agree(|d| d.below_u32(n as u32), |r| r.gen_range(0..n as u32));
            }
        }
        // The credit card's digits: an i32 range, drawn as u32.
        agree(|d| d.below_u32(10_000) as i32, |r| r.gen_range(0..10_000i32));
    }

    #[test]
    fn choose_float_and_price_are_rands() {
        for len in [1usize, 4, 6, 9, 10, 11, 10_000] {
            let items: Vec<usize> = (0..len).collect();
            agree(|d| d.index(len), |r| *items.choose(r).expect("not empty"));
        }
        agree(|d| d.unit_f32().to_bits(), |r| r.r#gen::<f32>().to_bits());
        agree(
            |d| d.price(),
            |r| (10.0_f32.powf(r.r#gen::<f32>() * 6.0) * 100.0).round() as usize,
        );
    }

    #[test]
    fn rejections_are_rands() {
        // Seeds whose first word falls in a rejected zone: rare for letters (22 values
        // of 2^32), half the time for a range of 2 drawn in u64. Search some seeds
        // where the first draw is rejected and check both agree there too.
        let mut found = 0;
        for seed in 0..200_000u64 {
            let first = SmallRng::seed_from_u64(seed).next_u64();
            if (first << 1) > u64::MAX / 2 {
                found += 1;
                let (mut d, mut r) = (Draw::new(seed), SmallRng::seed_from_u64(seed));
                assert_eq!(d.below(2), r.gen_range(0..2usize), "seed {seed}");
                assert_eq!(d.next_word(), r.next_u64(), "seed {seed}");
            }
        }
        assert!(found > 1000);
    }

    impl Draw {
        fn next_word(&mut self) -> u64 {
            self.0.next_u64()
        }
    }
}
