//! The random draws of the `nexmark` crate's events, made as `rand` 0.8 makes them.
//!
//! The crate seeds a `rand` 0.8 `SmallRng` with each event's id (Xoshiro256++ on 64-bit
//! targets, whose `seed_from_u64` fills the seed with PCG32) and draws through
//! `Rng::gen_range`, `SliceRandom::choose` and `Rng::gen::<f32>()`. [`Draw`] runs the
//! same generator (written out here, word for word `SmallRng`'s, because its state must be
//! reachable to draw the letters of several events at once) and consumes it exactly as
//! those calls do (`rand` 0.8.5's `UniformInt::sample_single_inclusive`: a widening
//! multiply of one `u32` or `u64` word by the range, rejected above a zone), so it draws
//! the same numbers; but constant ranges have their zone computed at compile time,
//! and strings are written a byte at a time into buffers of their final size (and by
//! `lanes`, several events' at once). The tests below check each draw against `rand`'s
//! own on many seeds.

/// `SmallRng` of `rand` 0.8 on 64-bit targets: Xoshiro256++.
#[derive(Clone, Debug)]
pub(crate) struct Xoshiro(pub(super) [u64; 4]);

impl Xoshiro {
    /// `SmallRng::seed_from_u64`, which is `rand_core` 0.6's default: the 32 bytes of
    /// the seed from eight PCG32 outputs, little-endian, then Xoshiro256++'s
    /// `from_seed` (which replaces an all-zero seed by `seed_from_u64(0)`, its own:
    /// SplitMix64).
    #[inline]
    fn seed(mut state: u64) -> Self {
        const MUL: u64 = 6_364_136_223_846_793_005;
        const INC: u64 = 11_634_580_027_462_260_723;
        let mut pcg32 = || {
            state = state.wrapping_mul(MUL).wrapping_add(INC);
            let xorshifted = (((state >> 18) ^ state) >> 27) as u32;
            u64::from(xorshifted.rotate_right((state >> 59) as u32))
        };
        let mut s = [0; 4];
        for word in &mut s {
            *word = pcg32() | pcg32() << 32;
        }
        if s == [0; 4] {
            return Self::split_mix(0);
        }
        Xoshiro(s)
    }

    /// Xoshiro256++'s own `seed_from_u64`: four SplitMix64 outputs.
    #[cold]
    fn split_mix(mut state: u64) -> Self {
        const PHI: u64 = 0x9e37_79b9_7f4a_7c15;
        let mut s = [0; 4];
        for word in &mut s {
            state = state.wrapping_add(PHI);
            let mut z = state;
            z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
            z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
            *word = z ^ (z >> 31);
        }
        Xoshiro(s)
    }

    /// `RngCore::next_u64`.
    #[inline(always)]
    fn next_u64(&mut self) -> u64 {
        let s = &mut self.0;
        let out = s[0].wrapping_add(s[3]).rotate_left(23).wrapping_add(s[0]);
        let t = s[1] << 17;
        s[2] ^= s[0];
        s[3] ^= s[1];
        s[1] ^= s[2];
        s[0] ^= s[3];
        s[2] ^= t;
        s[3] = s[3].rotate_left(45);
        out
    }

    /// `RngCore::next_u32`: the upper half of a word.
    #[inline(always)]
    fn next_u32(&mut self) -> u32 {
        (self.next_u64() >> 32) as u32
    }
}

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
pub(super) const LETTERS: u32 = 26;
/// Its zone.
pub(super) const LETTER_ZONE: u32 = zone_u8(LETTERS);

/// One `gen_range(b'a'..=b'z')` of `rng`.
#[inline(always)]
fn letter(rng: &mut Xoshiro) -> u8 {
    loop {
        let m = u64::from(rng.next_u32()) * u64::from(LETTERS);
        if m as u32 <= LETTER_ZONE {
            return b'a' + (m >> 32) as u8;
        }
    }
}

/// One event's random numbers: a `SmallRng` seeded like the crate's, drawn like `rand`.
#[derive(Clone, Debug)]
pub(crate) struct Draw(pub(super) Xoshiro);

impl Draw {
    /// The generator of the event (or channel) with this id.
    #[inline]
    pub(crate) fn new(seed: u64) -> Self {
        Draw(Xoshiro::seed(seed))
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

    /// `gen_range(0..range)` for `usize`, drawn in `u64` (64-bit targets only: the
    /// fast generator is used on no other).
    #[inline]
    pub(crate) fn below(&mut self, range: usize) -> usize {
        self.below_u64(range as u64) as usize
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
        letter(&mut self.0)
    }

    /// `n` letters appended to `out`.
    #[inline]
    pub(crate) fn push_letters(&mut self, out: &mut Vec<u8>, n: usize) {
        let start = out.len();
        out.resize(start + n, 0);
        self.fill_letters(&mut out[start..]);
    }

    /// `out` filled with letters, in order.
    #[inline]
    pub(crate) fn fill_letters(&mut self, out: &mut [u8]) {
        // A copy of the generator's state in registers for the loop (through `self` it
        // would be stored and loaded again at every letter).
        let mut rng = self.0.clone();
        for byte in out {
            *byte = letter(&mut rng);
        }
        self.0 = rng;
    }

    /// The crate's `gen_string(n)`: `n` letters.
    #[inline]
    pub(crate) fn string(&mut self, n: usize) -> String {
        let mut out = vec![0; n];
        self.fill_letters(&mut out);
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
        round(10.0_f32.powf(self.unit_f32() * 6.0) * 100.0) as usize
    }

    /// The length of the crate's `gen_next_extra`: letters padding an event of
    /// `current` bytes to about `average` bytes (between 4/5 and 6/5 of the difference;
    /// none if above). The letters are the next draws ([`Pending`]).
    #[inline]
    pub(crate) fn extra_len(&mut self, current: usize, average: usize) -> usize {
        if current > average {
            return 0;
        }
        let wanted = average - current;
        let delta = (wanted + 2) / 5;
        wanted - delta + if delta == 0 { 0 } else { self.below(2 * delta) }
    }
}

/// The last string of an event, still to draw: the event's generator and a buffer of the
/// string's length.
pub(crate) struct Pending {
    /// The generator, as it is after the event's other draws.
    pub(crate) draw: Draw,
    /// The letters, filled by [`Pending::fill`] or `lanes::fill_lanes`.
    pub(crate) letters: Vec<u8>,
}

impl Pending {
    /// `len` letters to draw from `draw`.
    #[inline]
    pub(crate) fn new(draw: Draw, len: usize) -> Self {
        Pending {
            draw,
            letters: vec![0; len],
        }
    }

    /// The letters drawn, on their own.
    #[inline]
    pub(crate) fn fill(mut self) -> String {
        self.draw.fill_letters(&mut self.letters);
        ascii(self.letters)
    }
}

/// `x.round() as u64`, without a call to `roundf` (x86-64's baseline has no rounding
/// instruction): below 2^23, the whole part, plus one if the fraction (exact) is a half
/// or more; from 2^23 every `f32` is whole. Negative numbers and NaN give 0, as `as u64`
/// does.
#[inline]
pub(crate) fn round(x: f32) -> u64 {
    if x.is_nan() || x >= 8_388_608.0 {
        return x as u64;
    }
    let whole = x as u64;
    whole + u64::from(x - whole as f32 >= 0.5)
}

/// The `String` of bytes known to be ASCII (letters, digits and the crate's
/// punctuation): the check is a pass over the bytes, cheaper than the draws.
#[inline]
pub(crate) fn ascii(bytes: Vec<u8>) -> String {
    String::from_utf8(bytes).expect("generated strings are ASCII")
}

#[cfg(test)]
pub(super) mod tests {
    use super::*;
    use rand::rngs::SmallRng;
    use rand::seq::SliceRandom;
    use rand::{Rng, RngCore, SeedableRng};

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
            |r| {
                (0..67)
                    .map(|_| r.gen_range(b'a'..=b'z') as char)
                    .collect::<String>()
            },
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
        agree(
            |d| d.below_u32(10_000) as i32,
            |r| r.gen_range(0..10_000i32),
        );
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
    fn rounding_is_roundfs() {
        let check = |x: f32| assert_eq!(round(x), x.round() as u64, "{x:e} ({:#x})", x.to_bits());
        // Every 101st bit pattern, both signs, NaNs and infinities.
        for bits in (0..=u32::MAX).step_by(101) {
            check(f32::from_bits(bits));
        }
        // Halves and their neighbours up to 2^24, and whole numbers.
        for k in 0..1u32 << 16 {
            for x in [k as f32 + 0.5, k as f32, (k << 8) as f32 + 0.5] {
                check(x);
                check(x.next_up());
                check(x.next_down());
            }
        }
        for x in [
            0.0,
            -0.0,
            0.49999997,
            0.5,
            8_388_607.5,
            8_388_608.0,
            1e30,
            -0.5,
        ] {
            check(x);
        }
    }

    #[test]
    fn the_all_zero_seeds_replacement_is_xoshiros() {
        let mut r = small_rng([0; 4]);
        let mut x = Xoshiro::split_mix(0);
        for _ in 0..10 {
            assert_eq!(x.next_u64(), r.next_u64());
        }
    }

    #[test]
    fn the_generator_is_small_rngs() {
        for seed in seeds() {
            let (mut x, mut r) = (Xoshiro::seed(seed), SmallRng::seed_from_u64(seed));
            for _ in 0..100 {
                assert_eq!(x.next_u64(), r.next_u64(), "seed {seed}");
                assert_eq!(x.next_u32(), r.next_u32(), "seed {seed}");
            }
        }
    }

    #[test]
    fn extras_are_the_crates() {
        for (current, average) in [(32, 100), (64, 200), (168, 500), (99, 100), (100, 100)] {
            agree(
                |d| {
                    let mut letters = vec![0; d.extra_len(current, average)];
                    d.fill_letters(&mut letters);
                    ascii(letters)
                },
                |r| {
                    // The crate's `gen_next_extra`.
                    if current > average {
                        return String::new();
                    }
                    let wanted = average - current;
                    let delta = (wanted + 2) / 5;
                    let size = wanted - delta
                        + if delta == 0 {
                            0
                        } else {
                            r.gen_range(0..2 * delta)
                        };
                    (0..size)
                        .map(|_| r.gen_range(b'a'..=b'z') as char)
                        .collect()
                },
            );
        }
    }

    /// A state whose next word makes `gen_range(b'a'..=b'z')` reject it: `s0` 0, so the
    /// word is `s3` rotated, and its upper half `v` with `26 v mod 2^32` above the zone.
    pub(in crate::generator) fn rejecting_state(k: u32) -> [u64; 4] {
        // 13 is odd, so invertible modulo 2^32 (Newton's iteration).
        let mut inverse: u32 = 13;
        for _ in 0..5 {
            inverse = inverse.wrapping_mul(2u32.wrapping_sub(13u32.wrapping_mul(inverse)));
        }
        // 26 v = 2 (13 v) = 2^32 - 2 - 2k (mod 2^32) for v = (2^31 - 1 - k) / 13.
        let v = (u32::MAX / 2 - k).wrapping_mul(inverse);
        assert!((u64::from(v) * 26) as u32 > LETTER_ZONE);
        let word = u64::from(v) << 32;
        [
            0,
            0x1234_5678_9abc_def1 ^ u64::from(k),
            0x0fed_cba9_8765_4321,
            word.rotate_right(23),
        ]
    }

    /// `SmallRng` in a given state.
    pub(in crate::generator) fn small_rng(state: [u64; 4]) -> SmallRng {
        let mut seed = [0u8; 32];
        for (chunk, word) in seed.chunks_mut(8).zip(state) {
            chunk.copy_from_slice(&word.to_le_bytes());
        }
        SmallRng::from_seed(seed)
    }

    #[test]
    fn rejections_are_rands() {
        // k = 10 is the smallest rejected value: the zone's edge.
        for k in 0..=10 {
            let state = rejecting_state(k);
            let (mut d, mut r) = (Draw(Xoshiro(state)), small_rng(state));
            let mine: Vec<u8> = (0..50).map(|_| d.letter()).collect();
            let rands: Vec<u8> = (0..50).map(|_| r.gen_range(b'a'..=b'z')).collect();
            assert_eq!(mine, rands, "k {k}");
        }
        // Half the words are rejected for a range of 2 drawn in u64.
        agree(|d| d.below(2), |r| r.gen_range(0..2usize));
    }
}
