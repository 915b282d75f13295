//! [`Line`]: one line of text received by a socket source, borrowed from the block of
//! text it arrived in instead of copied into a `String` of its own.
//!
//! A receiver reads bytes into a block of text, one buffer shared (`Arc`) by every line
//! of the block; a `Line` is that buffer and where the line is in it. It dereferences to
//! `str`, so the closures of a pipeline use it as they used the `String` it replaces
//! (`line.split(' ')`, `line.to_string()`, `line.parse()`, `&line` where a `&str` is
//! expected). Where a line leaves its stage for good (a shuffle key or value, `collect()`)
//! it becomes a `String` ([`Record::Owned`](crate::Record::Owned)).

use crate::record::{Key, Record, short_eq};
use std::borrow::Borrow;
use std::fmt;
use std::hash::{Hash, Hasher};
use std::ops::Deref;
use std::sync::Arc;

/// A line of text from a socket source: a range of a block of text shared by the lines
/// received with it. Dereferences to `str`; compares, hashes, orders and prints as
/// that `str`.
///
/// ```
/// use rill_runtime::sources::Line;
/// let line = Line::from("a b");
/// let words: Vec<&str> = line.split(' ').collect();
/// assert_eq!(words, ["a", "b"]);
/// assert_eq!(line, "a b");
/// assert_eq!(line.to_string(), "a b");
/// let owned: String = line.into();
/// assert_eq!(owned, "a b");
/// ```
#[derive(Clone)]
pub struct Line {
    text: Arc<String>,
    start: usize,
    end: usize,
}

impl Line {
    /// The line `text[start..end]` of a shared block of text; `None` if the range is not
    /// within `text` or not on character boundaries.
    pub fn of(text: &Arc<String>, start: usize, end: usize) -> Option<Line> {
        text.get(start..end).map(|_| Line {
            text: text.clone(),
            start,
            end,
        })
    }

    /// The line as a `str` (as `String::as_str`).
    #[inline]
    pub fn as_str(&self) -> &str {
        // The range was checked when the line was made and the text never changes.
        self.text.get(self.start..self.end).unwrap_or_default()
    }

    /// The line as an owned `String`: the block's buffer itself when this line is all
    /// of it and no other line shares it, else a copy.
    pub fn into_string(self) -> String {
        if self.start == 0 && self.end == self.text.len() {
            match Arc::try_unwrap(self.text) {
                Ok(s) => s,
                Err(shared) => shared[self.start..self.end].to_owned(),
            }
        } else {
            self.as_str().to_owned()
        }
    }

    /// The line's bytes, owned (as `String::into_bytes`).
    pub fn into_bytes(self) -> Vec<u8> {
        self.into_string().into_bytes()
    }
}

impl Deref for Line {
    type Target = str;
    #[inline]
    fn deref(&self) -> &str {
        self.as_str()
    }
}

impl AsRef<str> for Line {
    fn as_ref(&self) -> &str {
        self.as_str()
    }
}

impl AsRef<[u8]> for Line {
    fn as_ref(&self) -> &[u8] {
        self.as_str().as_bytes()
    }
}

impl Borrow<str> for Line {
    fn borrow(&self) -> &str {
        self.as_str()
    }
}

impl Default for Line {
    fn default() -> Self {
        Line::from(String::new())
    }
}

impl From<String> for Line {
    /// A line that is the whole of `s` (no copy).
    fn from(s: String) -> Self {
        let end = s.len();
        Line {
            text: Arc::new(s),
            start: 0,
            end,
        }
    }
}

impl From<&str> for Line {
    fn from(s: &str) -> Self {
        Line::from(s.to_owned())
    }
}

impl From<Line> for String {
    fn from(l: Line) -> String {
        l.into_string()
    }
}

impl fmt::Display for Line {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self.as_str(), f)
    }
}

impl fmt::Debug for Line {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(self.as_str(), f)
    }
}

impl PartialEq for Line {
    #[inline]
    fn eq(&self, other: &Line) -> bool {
        short_eq(self.as_bytes(), other.as_bytes())
    }
}

impl Eq for Line {}

impl PartialOrd for Line {
    fn partial_cmp(&self, other: &Line) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for Line {
    fn cmp(&self, other: &Line) -> std::cmp::Ordering {
        self.as_str().cmp(other.as_str())
    }
}

impl Hash for Line {
    /// As the `str` hashes (and so as the `String` it becomes).
    #[inline]
    fn hash<H: Hasher>(&self, state: &mut H) {
        self.as_str().hash(state)
    }
}

macro_rules! eq_with {
    ($($t:ty),*) => {$(
        impl PartialEq<$t> for Line {
            fn eq(&self, other: &$t) -> bool {
                self.as_str() == AsRef::<str>::as_ref(other)
            }
        }
        impl PartialEq<Line> for $t {
            fn eq(&self, other: &Line) -> bool {
                AsRef::<str>::as_ref(self) == other.as_str()
            }
        }
    )*};
}
eq_with!(str, &str, String);

impl Record for Line {
    type Owned = String;
    #[inline]
    fn into_owned(self) -> String {
        self.into_string()
    }
}

impl Key for Line {
    #[inline]
    fn eq_owned(&self, owned: &String) -> bool {
        short_eq(self.as_bytes(), owned.as_bytes())
    }
}

impl serde::Serialize for Line {
    /// As a `str`: a logged or checkpointed line reads back as a `String` too.
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

impl<'de> serde::Deserialize<'de> for Line {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Line, D::Error> {
        String::deserialize(d).map(Line::from)
    }
}

/// Lines gathered into one block of text as they are received: the text and where each
/// line ends. [`finish`](Self::finish) shares the text among the block's [`Line`]s.
#[derive(Default)]
pub(crate) struct LineBlock {
    text: String,
    ends: Vec<usize>,
}

impl LineBlock {
    /// Lines in the block.
    pub(crate) fn len(&self) -> usize {
        self.ends.len()
    }

    /// Whether the block holds no line.
    #[cfg(test)]
    pub(crate) fn is_empty(&self) -> bool {
        self.ends.is_empty()
    }

    /// Appends a line, reserving room for about `expect` more bytes of text when the
    /// block's buffer is full (the rest of the chunk being split).
    pub(crate) fn push(&mut self, line: &str, expect: usize) {
        if self.text.capacity() - self.text.len() < line.len() {
            self.text.reserve(line.len().max(expect.min(MAX_RESERVE)));
        }
        self.text.push_str(line);
        self.ends.push(self.text.len());
    }

    /// The block's lines, sharing one buffer; the block is left empty. A buffer that
    /// reserved much more than its lines took is shrunk first, so a buffered block holds
    /// about its text.
    pub(crate) fn finish(&mut self) -> Vec<Line> {
        if self.ends.is_empty() {
            // Nothing to share (a poll turn that read no line): no buffer to allocate.
            return Vec::new();
        }
        let ends = std::mem::take(&mut self.ends);
        let mut text = std::mem::take(&mut self.text);
        if text.capacity() > text.len() + text.len() / 2 + 4096 {
            text.shrink_to_fit();
        }
        let text = Arc::new(text);
        let mut start = 0;
        ends.into_iter()
            .map(|end| {
                let line = Line {
                    text: text.clone(),
                    start,
                    end,
                };
                start = end;
                line
            })
            .collect()
    }
}

/// The most text a block reserves ahead at once.
const MAX_RESERVE: usize = 1 << 20;

/// Logged lines (a write-ahead-log block) as lines sharing one buffer.
pub(crate) fn lines_of(strings: Vec<String>) -> Vec<Line> {
    let mut block = LineBlock {
        text: String::with_capacity(strings.iter().map(String::len).sum()),
        ends: Vec::with_capacity(strings.len()),
    };
    for s in &strings {
        block.push(s, 0);
    }
    block.finish()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::hash::BuildHasher;

    #[test]
    fn a_block_shares_one_buffer_and_lines_read_back() {
        let mut b = LineBlock::default();
        b.push("a b", 10);
        b.push("", 10);
        b.push("\u{e9}t\u{e9}", 10);
        assert_eq!(b.len(), 3);
        let lines = b.finish();
        assert!(b.is_empty());
        assert_eq!(lines, ["a b", "", "\u{e9}t\u{e9}"]);
        assert!(Arc::ptr_eq(&lines[0].text, &lines[2].text));
        assert_eq!(lines[2].clone().into_string(), "\u{e9}t\u{e9}");
        assert_eq!(format!("{:?} {}", lines[0], lines[0]), "\"a b\" a b");
    }

    #[test]
    fn a_line_hashes_and_compares_as_its_string() {
        let h = rustc_hash::FxBuildHasher;
        let l = lines_of(vec!["x".into(), "word".into()]).remove(1);
        assert_eq!(h.hash_one(&l), h.hash_one("word".to_string()));
        assert_eq!(h.hash_one(&l), h.hash_one(l.clone().into_owned()));
        assert!(l.eq_owned(&"word".to_string()));
        assert!(!l.eq_owned(&"wore".to_string()));
        assert_eq!(
            Line::from("a").cmp(&Line::from("b")),
            std::cmp::Ordering::Less
        );
        assert_eq!("word", l);
        assert_eq!(String::from("word"), l);
    }

    #[test]
    fn a_line_survives_a_round_trip_through_the_log_encoding() {
        let l = Line::from("caf\u{e9}");
        let bytes = crate::checkpoint::store::to_bytes(&vec![l.clone()]).unwrap();
        let as_strings: Vec<String> = crate::checkpoint::store::from_bytes(&bytes).unwrap();
        assert_eq!(as_strings, ["caf\u{e9}"]);
        let back: Vec<Line> = crate::checkpoint::store::from_bytes(&bytes).unwrap();
        assert_eq!(back, [l]);
    }

    #[test]
    fn out_of_range_or_split_characters_make_no_line() {
        let t = Arc::new("\u{e9}a".to_string());
        assert!(Line::of(&t, 0, 2).is_some());
        assert!(Line::of(&t, 1, 2).is_none());
        assert!(Line::of(&t, 0, 9).is_none());
        let whole = Line::from("whole".to_string());
        assert_eq!(whole.into_string(), "whole");
    }
}
