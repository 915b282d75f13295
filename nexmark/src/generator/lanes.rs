//! The `extra` letters of several events drawn side by side: most of an event's letters
//! (a bid's 54 to 81, an auction's 266 to 397 after 120 others) are its last draws, each
//! event from its own generator, so the letters of [`LANES`] events can be drawn in lock
//! step, one generator per lane of a SIMD register.
//!
//! On x86-64 CPUs with AVX2 (detected at run time) the lanes share the length the events
//! have in common, eight letters at a time; each event's remaining letters, and every
//! letter elsewhere, are drawn one at a time ([`Draw::fill_letters`]). The letters are
//! the same either way (tests below): each lane runs Xoshiro256++ and takes a letter from
//! the upper half of each word by the same multiply; a block of eight in which any lane's
//! word would be rejected is drawn again one lane at a time.

#[cfg(doc)]
use super::draw::Draw;
use super::draw::Pending;

/// How many events' letters are drawn side by side (four 64-bit generators in a 256-bit
/// register).
pub(crate) const LANES: usize = 4;

/// Fills the letters of [`LANES`] events, each the same as its [`Pending::fill`], and
/// leaves each generator past them.
pub(crate) fn fill_lanes(mut lanes: [&mut Pending; LANES]) {
    let mut drawn = 0;
    #[cfg(target_arch = "x86_64")]
    if std::arch::is_x86_feature_detected!("avx2") {
        // SAFETY: the CPU has AVX2, the one feature `avx2::fill` is compiled for.
        #[allow(unsafe_code)]
        {
            drawn = unsafe { avx2::fill(&mut lanes) };
        }
    }
    for p in lanes {
        p.draw.fill_letters(&mut p.letters[drawn..]);
    }
}

#[cfg(target_arch = "x86_64")]
mod avx2 {
    use super::LANES;
    use crate::generator::draw::{LETTER_ZONE, LETTERS, Pending};
    use std::arch::x86_64::*;

    /// `x` rotated left by `K` bits in each lane (`L` is `64 - K`).
    #[inline]
    #[target_feature(enable = "avx2")]
    fn rotl<const K: i32, const L: i32>(x: __m256i) -> __m256i {
        _mm256_or_si256(_mm256_slli_epi64::<K>(x), _mm256_srli_epi64::<L>(x))
    }

    /// Draws the letters the lanes share, eight at a time, as far as no word is
    /// rejected, and returns how many: every lane's generator is then past them.
    #[target_feature(enable = "avx2")]
    pub(super) fn fill(lanes: &mut [&mut Pending; LANES]) -> usize {
        let common = lanes.iter().map(|p| p.letters.len()).min().unwrap_or(0);
        let word = |k: usize| {
            let w = |l: usize| lanes[l].draw.0.0[k] as i64;
            _mm256_set_epi64x(w(3), w(2), w(1), w(0))
        };
        let (mut s0, mut s1, mut s2, mut s3) = (word(0), word(1), word(2), word(3));
        let range = _mm256_set1_epi64x(i64::from(LETTERS));
        let low = _mm256_set1_epi64x(i64::from(u32::MAX));
        let zone = _mm256_set1_epi64x(i64::from(LETTER_ZONE));
        let a = _mm256_set1_epi8(b'a' as i8);
        let mut done = 0;
        while done + 8 <= common {
            let before = (s0, s1, s2, s3);
            let (mut letters, mut rejected) = (_mm256_setzero_si256(), _mm256_setzero_si256());
            for _ in 0..8 {
                // Xoshiro256++'s next word, then its state.
                let out = _mm256_add_epi64(rotl::<23, 41>(_mm256_add_epi64(s0, s3)), s0);
                let t = _mm256_slli_epi64::<17>(s1);
                s2 = _mm256_xor_si256(s2, s0);
                s3 = _mm256_xor_si256(s3, s1);
                s1 = _mm256_xor_si256(s1, s2);
                s0 = _mm256_xor_si256(s0, s3);
                s2 = _mm256_xor_si256(s2, t);
                s3 = rotl::<45, 19>(s3);
                // The upper half times 26: the letter above bit 32, the rejection below.
                let m = _mm256_mul_epu32(_mm256_srli_epi64::<32>(out), range);
                let reject = _mm256_cmpgt_epi64(_mm256_and_si256(m, low), zone);
                rejected = _mm256_or_si256(rejected, reject);
                // Each letter into the top byte, the earlier ones shifted down.
                let letter = _mm256_slli_epi64::<56>(_mm256_srli_epi64::<32>(m));
                letters = _mm256_or_si256(_mm256_srli_epi64::<8>(letters), letter);
            }
            if _mm256_movemask_epi8(rejected) != 0 {
                // Drawn again one lane at a time, from before the block.
                (s0, s1, s2, s3) = before;
                break;
            }
            let letters = _mm256_add_epi8(letters, a);
            let bytes = [
                _mm256_extract_epi64::<0>(letters),
                _mm256_extract_epi64::<1>(letters),
                _mm256_extract_epi64::<2>(letters),
                _mm256_extract_epi64::<3>(letters),
            ];
            for (p, b) in lanes.iter_mut().zip(bytes) {
                p.letters[done..done + 8].copy_from_slice(&b.to_le_bytes());
            }
            done += 8;
        }
        let states = [s0, s1, s2, s3];
        for (l, p) in lanes.iter_mut().enumerate() {
            for (k, s) in states.iter().enumerate() {
                let mut words = [0i64; 4];
                words[0] = _mm256_extract_epi64::<0>(*s);
                words[1] = _mm256_extract_epi64::<1>(*s);
                words[2] = _mm256_extract_epi64::<2>(*s);
                words[3] = _mm256_extract_epi64::<3>(*s);
                p.draw.0.0[k] = words[l] as u64;
            }
        }
        done
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::generator::draw::tests::{rejecting_state, small_rng};
    use crate::generator::draw::{Draw, Xoshiro};
    use rand::Rng;

    /// The strings of `lanes` filled side by side.
    fn fill_all(lanes: &mut [Pending; LANES]) -> Vec<String> {
        fill_lanes(lanes.each_mut());
        lanes
            .iter_mut()
            .map(|p| String::from_utf8(std::mem::take(&mut p.letters)).expect("ASCII"))
            .collect()
    }

    #[test]
    fn lanes_draw_each_events_letters() {
        let lengths = [
            [54, 81, 60, 67],
            [54, 0, 67, 1],
            [100; LANES],
            [8, 9, 16, 7],
        ];
        for first in [0u64, 1_000_000_007, u64::MAX - 99] {
            for lens in lengths {
                // A lane whose first word is rejected, or none.
                for rejecting in [None, Some(0), Some(3)] {
                    let draw = |l: usize| {
                        if rejecting == Some(l) {
                            Draw(Xoshiro(rejecting_state(l as u32)))
                        } else {
                            Draw::new(first + l as u64)
                        }
                    };
                    let mut lanes: [Pending; LANES] =
                        std::array::from_fn(|l| Pending::new(draw(l), lens[l]));
                    let together = fill_all(&mut lanes);
                    let alone: Vec<String> = (0..LANES)
                        .map(|l| Pending::new(draw(l), lens[l]).fill())
                        .collect();
                    assert_eq!(together, alone, "first {first}, {lens:?}, {rejecting:?}");
                    let rands: Vec<String> = (0..LANES)
                        .map(|l| {
                            let mut r = small_rng(draw(l).0.0);
                            (0..lens[l])
                                .map(|_| r.gen_range(b'a'..=b'z') as char)
                                .collect()
                        })
                        .collect();
                    assert_eq!(together, rands);
                    // The generators are left where each fill leaves them.
                    for (l, p) in lanes.iter().enumerate() {
                        let mut d = draw(l);
                        d.fill_letters(&mut vec![0; lens[l]]);
                        assert_eq!(p.draw.0.0, d.0.0, "lane {l}");
                    }
                }
            }
        }
    }

    /// The state one Xoshiro256++ step before `s`.
    fn step_back([a, b, c, d]: [u64; 4]) -> [u64; 4] {
        // Forward: (s0 ^ s3 ^ s1, s1 ^ s2 ^ s0, s2 ^ s0 ^ s1 << 17, rotl(s3 ^ s1, 45)).
        let x = d.rotate_right(45); // s3 ^ s1
        let s0 = a ^ x;
        let y = b ^ c; // s1 ^ s1 << 17
        let s1 = y ^ y << 17 ^ y << 34 ^ y << 51;
        [s0, s1, b ^ s1 ^ s0, x ^ s1]
    }

    #[test]
    fn a_rejection_in_a_later_block_is_drawn_again() {
        for (lane, at) in [(2, 11), (0, 8), (3, 23), (1, 15)] {
            // Lane `lane`'s word `at` is rejected: a rejecting state stepped back `at` times.
            let mut state = rejecting_state(lane as u32);
            for _ in 0..at {
                state = step_back(state);
            }
            let lens = [40, 33, 64, 41];
            let draw = |l: usize| {
                if l == lane {
                    Draw(Xoshiro(state))
                } else {
                    Draw::new(l as u64 * 1_000_003)
                }
            };
            let mut lanes: [Pending; LANES] =
                std::array::from_fn(|l| Pending::new(draw(l), lens[l]));
            let together = fill_all(&mut lanes);
            let rands: Vec<String> = (0..LANES)
                .map(|l| {
                    let mut r = small_rng(draw(l).0.0);
                    (0..lens[l])
                        .map(|_| r.gen_range(b'a'..=b'z') as char)
                        .collect()
                })
                .collect();
            assert_eq!(together, rands, "lane {lane}, word {at}");
            // The rejected word is where it was put.
            let mut x = Xoshiro(state);
            let mut d = Draw(Xoshiro(state));
            for _ in 0..at {
                d.letter();
            }
            for _ in 0..at {
                step_forward(&mut x);
            }
            assert_eq!(x.0, rejecting_state(lane as u32));
        }
    }

    fn step_forward(x: &mut Xoshiro) {
        let mut d = Draw(x.clone());
        d.below_u64(u64::MAX);
        *x = d.0;
    }
}
