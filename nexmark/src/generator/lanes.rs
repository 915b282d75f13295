//! The `extra` letters of many events drawn side by side: most of an event's letters
//! (a bid's 54 to 81, an auction's 266 to 397 after 120 others) are its last draws, each
//! event from its own generator, so the letters of [`LANES`] events can be drawn in lock
//! step, one generator per lane of a SIMD register.
//!
//! On x86-64 CPUs with AVX2 (detected at run time) [`fill_all`] keeps four events in
//! four lanes and draws eight letters of each at a time; an event with fewer than eight
//! letters left finishes one letter at a time ([`Draw::fill_letters`]) and its lane takes
//! the next event. Elsewhere every event is filled one letter at a time. The letters are
//! the same either way (tests below): each lane runs Xoshiro256++ and takes a letter from
//! the upper half of each word by the same multiply; a block of eight in which any lane's
//! word would be rejected is drawn again one letter at a time.

#[cfg(doc)]
use super::draw::Draw;
use super::draw::Pending;

/// How many events' letters are drawn side by side (four 64-bit generators in a 256-bit
/// register).
pub(crate) const LANES: usize = 4;

/// Fills the letters of every event of `events`, each the same as its
/// [`Pending::fill`], and leaves each generator past them.
pub(crate) fn fill_all(events: &mut [Pending]) {
    #[cfg(target_arch = "x86_64")]
    if std::arch::is_x86_feature_detected!("avx2") {
        // SAFETY: the CPU has AVX2, the one feature `avx2::fill_all` is compiled for.
        #[allow(unsafe_code)]
        unsafe {
            avx2::fill_all(events)
        };
        return;
    }
    for p in events {
        p.draw.fill_letters(&mut p.letters);
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

    /// The four lanes' words of a vector.
    #[inline]
    #[target_feature(enable = "avx2")]
    fn words(v: __m256i) -> [u64; LANES] {
        [
            _mm256_extract_epi64::<0>(v) as u64,
            _mm256_extract_epi64::<1>(v) as u64,
            _mm256_extract_epi64::<2>(v) as u64,
            _mm256_extract_epi64::<3>(v) as u64,
        ]
    }

    /// A vector of the four lanes' words.
    #[inline]
    #[target_feature(enable = "avx2")]
    fn vector(w: [u64; LANES]) -> __m256i {
        _mm256_set_epi64x(w[3] as i64, w[2] as i64, w[1] as i64, w[0] as i64)
    }

    /// The lanes: which event each draws (`None` once there is none left), how many of
    /// its letters are drawn, and the generators' states by word (`s[k][lane]`).
    struct Lanes {
        event: [Option<usize>; LANES],
        done: [usize; LANES],
        s: [[u64; LANES]; 4],
    }

    impl Lanes {
        /// Lane `l`'s generator is handed back to its event, which finishes one letter at
        /// a time, and the lane takes the next event with eight letters or more from
        /// `next` on (filling the shorter ones on the way); returns the new `next`.
        fn refill(&mut self, l: usize, events: &mut [Pending], mut next: usize) -> usize {
            if let Some(e) = self.event[l].take() {
                let p = &mut events[e];
                p.draw.0.0 = [self.s[0][l], self.s[1][l], self.s[2][l], self.s[3][l]];
                p.draw.fill_letters(&mut p.letters[self.done[l]..]);
            }
            while next < events.len() {
                let p = &mut events[next];
                next += 1;
                if p.letters.len() >= 8 {
                    self.event[l] = Some(next - 1);
                    self.done[l] = 0;
                    for (k, word) in p.draw.0.0.iter().enumerate() {
                        self.s[k][l] = *word;
                    }
                    return next;
                }
                p.draw.fill_letters(&mut p.letters);
            }
            next
        }
    }

    /// Fills every event's letters, four events at a time.
    #[target_feature(enable = "avx2")]
    pub(super) fn fill_all(events: &mut [Pending]) {
        let mut lanes = Lanes {
            event: [None; LANES],
            done: [0; LANES],
            s: [[0; LANES]; 4],
        };
        let mut next = 0;
        for l in 0..LANES {
            next = lanes.refill(l, events, next);
        }
        let range = _mm256_set1_epi64x(i64::from(LETTERS));
        let low = _mm256_set1_epi64x(i64::from(u32::MAX));
        let zone = _mm256_set1_epi64x(i64::from(LETTER_ZONE));
        let a = _mm256_set1_epi8(b'a' as i8);
        while lanes.event.iter().any(Option::is_some) {
            // Blocks of eight while every lane drawing has eight letters left (an idle
            // lane's generator runs on, unread).
            let blocks = (0..LANES)
                .filter_map(|l| lanes.event[l].map(|e| events[e].letters.len() - lanes.done[l]))
                .min()
                .unwrap_or(0)
                / 8;
            let [w0, w1, w2, w3] = lanes.s;
            let (mut s0, mut s1, mut s2, mut s3) = (vector(w0), vector(w1), vector(w2), vector(w3));
            let mut rejected_block = false;
            for _ in 0..blocks {
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
                    (s0, s1, s2, s3) = before;
                    rejected_block = true;
                    break;
                }
                let bytes = words(_mm256_add_epi8(letters, a));
                for ((event, done), b) in lanes.event.iter().zip(&mut lanes.done).zip(bytes) {
                    if let Some(e) = *event {
                        events[e].letters[*done..*done + 8].copy_from_slice(&b.to_le_bytes());
                        *done += 8;
                    }
                }
            }
            lanes.s = [words(s0), words(s1), words(s2), words(s3)];
            for l in 0..LANES {
                let Some(e) = lanes.event[l] else { continue };
                if rejected_block {
                    // Rare (22 words in 2^32): this block's letters one at a time.
                    let p = &mut events[e];
                    p.draw.0.0 = [lanes.s[0][l], lanes.s[1][l], lanes.s[2][l], lanes.s[3][l]];
                    let at = lanes.done[l];
                    p.draw.fill_letters(&mut p.letters[at..at + 8]);
                    lanes.done[l] = at + 8;
                    for (k, word) in p.draw.0.0.iter().enumerate() {
                        lanes.s[k][l] = *word;
                    }
                }
                if events[e].letters.len() - lanes.done[l] < 8 {
                    next = lanes.refill(l, events, next);
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::generator::draw::tests::{rejecting_state, small_rng};
    use crate::generator::draw::{Draw, Xoshiro};
    use rand::Rng;

    /// The strings of `lanes` filled side by side.
    fn fill_together(lanes: &mut [Pending]) -> Vec<String> {
        fill_all(lanes);
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
                    let together = fill_together(&mut lanes);
                    let alone: Vec<String> = (0..LANES)
                        .map(|l| Pending::new(draw(l), lens[l]).fill())
                        .collect();
                    assert_eq!(together, alone, "first {first}, {lens:?}, {rejecting:?}");
                    assert_eq!(together, rand_letters(&draw, &lens));
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

    /// Each lane's letters as `rand` draws them from the lane's generator.
    fn rand_letters(draw: &impl Fn(usize) -> Draw, lens: &[usize; LANES]) -> Vec<String> {
        (0..LANES)
            .map(|l| {
                let mut r = small_rng(draw(l).0.0);
                (0..lens[l])
                    .map(|_| r.gen_range(b'a'..=b'z') as char)
                    .collect()
            })
            .collect()
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
            let together = fill_together(&mut lanes);
            assert_eq!(
                together,
                rand_letters(&draw, &lens),
                "lane {lane}, word {at}"
            );
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

    #[test]
    fn many_events_of_every_length_are_each_their_own() {
        // Lengths 0 to 89 and some of 300 and more; some events with a rejected word
        // (the first, or a later one).
        let lens: Vec<usize> = (0..300)
            .map(|i| i * 37 % 90 + if i % 11 == 0 { 300 } else { 0 })
            .collect();
        let draw = |i: usize| {
            if i % 25 == 7 {
                let mut state = rejecting_state((i / 25 % 11) as u32);
                for _ in 0..i % 40 {
                    state = step_back(state);
                }
                Draw(Xoshiro(state))
            } else {
                Draw::new(i as u64 * 7919)
            }
        };
        let mut events: Vec<Pending> = (0..lens.len())
            .map(|i| Pending::new(draw(i), lens[i]))
            .collect();
        let together = fill_together(&mut events);
        for (i, (p, letters)) in events.iter().zip(&together).enumerate() {
            let mut d = draw(i);
            let mut alone = vec![0; lens[i]];
            d.fill_letters(&mut alone);
            assert_eq!(letters.as_bytes(), &alone[..], "event {i}");
            assert_eq!(p.draw.0.0, d.0.0, "event {i}'s generator");
        }
    }
}
