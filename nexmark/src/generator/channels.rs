//! The `nexmark` crate's 10,000 channels and their urls, which a bid not on a hot
//! channel picks among (the crate's own table, `CHANNEL_URL_MAP`, is private to it):
//! rebuilt once, the same way, and checked by the event tests, which pick every one.

use super::draw::{Draw, ascii};
use std::sync::OnceLock;

/// How many channels the crate makes (`CHANNEL_NUMBER`).
pub(crate) const CHANNELS: usize = 10_000;

/// The crate's `CHANNEL_URL_MAP`: `("channel-{i}", url)` for `i` in `0..10_000`.
pub(crate) fn channel_urls() -> &'static Channels {
    static MAP: OnceLock<Channels> = OnceLock::new();
    MAP.get_or_init(|| {
        let mut map = Channels {
            text: String::new(),
            bounds: vec![0],
        };
        for (channel, url) in (0..CHANNELS).map(channel_url) {
            for part in [channel, url] {
                map.text.push_str(&part);
                map.bounds.push(map.text.len() as u32);
            }
        }
        map
    })
}

/// The channels and their urls in one string, each channel followed by its url: a bid
/// picks one at random, and the two strings it copies are then side by side in memory
/// (as separate `String`s they cost a bid a cache miss or two more).
pub(crate) struct Channels {
    /// Every channel and url, in order.
    text: String,
    /// Where each starts in `text`, and the end: channel `i` is between bounds `2 i` and
    /// `2 i + 1`, its url between `2 i + 1` and `2 i + 2`.
    bounds: Vec<u32>,
}

impl Channels {
    /// How many channels.
    pub(crate) fn len(&self) -> usize {
        self.bounds.len() / 2
    }

    /// A byte of channel `i` and one of its url: read so that their cache lines are on
    /// their way when [`get`](Self::get) copies them.
    #[inline]
    pub(crate) fn touch(&self, i: usize) -> u8 {
        let bytes = self.text.as_bytes();
        let (start, end) = (self.bounds[2 * i] as usize, self.bounds[2 * i + 2] as usize);
        bytes[start] ^ bytes[end - 1]
    }

    /// Channel `i` and its url.
    #[inline]
    pub(crate) fn get(&self, i: usize) -> (String, String) {
        let b = &self.bounds[2 * i..2 * i + 3];
        let (start, middle, end) = (b[0] as usize, b[1] as usize, b[2] as usize);
        (
            self.text[start..middle].to_owned(),
            self.text[middle..end].to_owned(),
        )
    }
}

/// Channel `i` and its url: the base url of seed `i`, with `&channel_id=` and `i`'s bits
/// reversed (as an `i32`, made positive) unless a draw of `0..10` is 0.
fn channel_url(i: usize) -> (String, String) {
    let mut url = base_url(i as u64);
    if Draw::new(i as u64).below_u32(10) > 0 {
        url.push_str("&channel_id=");
        url.push_str(&i64::abs(i64::from((i as i32).reverse_bits())).to_string());
    }
    (format!("channel-{i}"), url)
}

/// The crate's `get_base_url`: three path segments of 3 or 4 characters, each a letter
/// or, one time in 13, `_`.
pub(crate) fn base_url(seed: u64) -> String {
    let mut draw = Draw::new(seed);
    let mut url = b"https://www.nexmark.com".to_vec();
    for _ in 0..3 {
        url.extend_from_slice(b"/");
        let len = 3 + draw.below(5 - 3);
        for _ in 0..len {
            // `gen_range(0..13)` of an `i32`, then a letter.
            let c = if draw.below_u32(13) == 0 {
                b'_'
            } else {
                draw.letter()
            };
            url.push(c);
        }
    }
    url.extend_from_slice(b"/item.htm?query=1");
    ascii(url)
}

#[cfg(test)]
mod tests {
    use super::*;
    use nexmark::config::NexmarkConfig;

    #[test]
    fn the_hot_urls_are_the_crates_base_urls() {
        // The crate's defaults hold `get_base_url(0..4)`.
        let hot: Vec<String> = (0..4).map(base_url).collect();
        assert_eq!(hot, NexmarkConfig::default().hot_urls);
        let map = channel_urls();
        assert_eq!(map.len(), CHANNELS);
        for i in [0, 1, 7, 1000, CHANNELS - 1] {
            assert_eq!(map.get(i), channel_url(i));
        }
        assert_eq!(map.get(7).0, "channel-7");
        assert!(map.get(1).1.starts_with(&hot[1]));
    }
}
