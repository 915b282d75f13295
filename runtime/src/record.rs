//! Records that can leave a stage: [`Record`] (an owned form) and [`Key`] (borrowed lookup).
//!
//! Inside a fused stage records may borrow from the batch (`&str` words of a `String`
//! line). Where a record leaves the stage for good (a shuffle key, a collected record) it
//! must own its data. `ToOwned` cannot say this (`<&str as ToOwned>::Owned` is `&str`),
//! so rill has its own small trait with an owned form, implemented for string slices,
//! `String`, numbers, tuples, `Option`, `Vec` and references to those, and by
//! `#[derive(Record)]` (from `rill`) for users' own types.

use std::hash::Hash;

/// A record with an owned form that can outlive the batch it was made in.
///
/// ```
/// use rill_runtime::Record;
/// let owned: (String, u64) = ("word", 3u64).into_owned();
/// assert_eq!(owned, ("word".to_string(), 3));
/// ```
#[diagnostic::on_unimplemented(
    message = "`{Self}` has no owned form rill knows of",
    label = "this record leaves its stage (a shuffle key, a collected or windowed record), so rill must make it owned",
    note = "make the record owned first (e.g. `.map(str::to_owned)`), or derive `rill::Record` for your own type"
)]
pub trait Record {
    /// The owned form: no borrows, can be sent to other threads and kept across batches.
    type Owned: Send + Sync + Clone + 'static;

    /// Converts into the owned form (a move where the record already owns its data).
    fn into_owned(self) -> Self::Owned;
}

/// A record usable as a key of a shuffle: hashable, and comparable with its owned form
/// without allocating.
///
/// Contract: `hash(k)` equals `hash(k.into_owned())` for the same `Hasher`, and
/// `k.eq_owned(&o)` is `k.into_owned() == o`. The implementations here and the derive
/// keep it.
#[diagnostic::on_unimplemented(
    message = "`{Self}` cannot be a key of a shuffle",
    label = "keys are hashed and made owned when they leave the stage",
    note = "a key must be a string, a number, a bool, a char, a tuple, an Option or a Vec of keys, or a type that derives `rill::Key`"
)]
pub trait Key: Record<Owned: Hash + Eq> + Hash + Eq {
    /// Whether this key equals the owned key `owned`.
    fn eq_owned(&self, owned: &Self::Owned) -> bool;

    /// Whether this key equals `other` (what a hash table compares).
    #[inline]
    fn key_eq(&self, other: &Self) -> bool {
        self == other
    }
}

macro_rules! owned_records {
    ($($t:ty),*) => {$(
        impl Record for $t {
            type Owned = $t;
            #[inline]
            fn into_owned(self) -> $t { self }
        }
    )*};
}
macro_rules! owned_keys {
    ($($t:ty),*) => {$(
        owned_records!($t);
        impl Key for $t {
            #[inline]
            fn eq_owned(&self, owned: &$t) -> bool { self == owned }
        }
    )*};
}

owned_keys!(
    u8,
    u16,
    u32,
    u64,
    u128,
    usize,
    i8,
    i16,
    i32,
    i64,
    i128,
    isize,
    bool,
    char,
    (),
    String
);
owned_records!(f32, f64, std::time::Duration, crate::Time);

impl Record for &str {
    type Owned = String;
    #[inline]
    fn into_owned(self) -> String {
        self.to_owned()
    }
}
impl Key for &str {
    #[inline]
    fn eq_owned(&self, owned: &String) -> bool {
        short_eq(self.as_bytes(), owned.as_bytes())
    }
    #[inline]
    fn key_eq(&self, other: &Self) -> bool {
        short_eq(self.as_bytes(), other.as_bytes())
    }
}

/// Byte equality that compares short strings (words) with two word-sized loads instead
/// of a call to `memcmp`; longer ones fall back to it.
#[inline]
pub fn short_eq(a: &[u8], b: &[u8]) -> bool {
    let n = a.len();
    if n != b.len() {
        return false;
    }
    let word = |s: &[u8], at: usize| u64::from_le_bytes(s[at..at + 8].try_into().unwrap_or([0; 8]));
    let half = |s: &[u8], at: usize| u32::from_le_bytes(s[at..at + 4].try_into().unwrap_or([0; 4]));
    match n {
        0 => true,
        1..=3 => a[0] == b[0] && a[n / 2] == b[n / 2] && a[n - 1] == b[n - 1],
        4..=7 => half(a, 0) == half(b, 0) && half(a, n - 4) == half(b, n - 4),
        8..=16 => word(a, 0) == word(b, 0) && word(a, n - 8) == word(b, n - 8),
        _ => a == b,
    }
}

impl<T: Record + Clone> Record for &T {
    type Owned = T::Owned;
    #[inline]
    fn into_owned(self) -> T::Owned {
        self.clone().into_owned()
    }
}
impl<T: Key + Clone> Key for &T {
    #[inline]
    fn eq_owned(&self, owned: &T::Owned) -> bool {
        (**self).eq_owned(owned)
    }
    #[inline]
    fn key_eq(&self, other: &Self) -> bool {
        (**self).key_eq(other)
    }
}

impl<T: Record> Record for Option<T> {
    type Owned = Option<T::Owned>;
    #[inline]
    fn into_owned(self) -> Self::Owned {
        self.map(Record::into_owned)
    }
}
impl<T: Key> Key for Option<T> {
    #[inline]
    fn eq_owned(&self, owned: &Self::Owned) -> bool {
        match (self, owned) {
            (Some(a), Some(b)) => a.eq_owned(b),
            (None, None) => true,
            _ => false,
        }
    }
}

impl<T: Record> Record for Vec<T> {
    type Owned = Vec<T::Owned>;
    fn into_owned(self) -> Self::Owned {
        self.into_iter().map(Record::into_owned).collect()
    }
}
impl<T: Key> Key for Vec<T> {
    fn eq_owned(&self, owned: &Self::Owned) -> bool {
        self.len() == owned.len() && self.iter().zip(owned).all(|(a, b)| a.eq_owned(b))
    }
}

macro_rules! tuples {
    ($(($($n:tt $t:ident),+))*) => {$(
        impl<$($t: Record),+> Record for ($($t,)+) {
            type Owned = ($($t::Owned,)+);
            #[inline]
            fn into_owned(self) -> Self::Owned { ($(self.$n.into_owned(),)+) }
        }
        impl<$($t: Key),+> Key for ($($t,)+) {
            #[inline]
            fn eq_owned(&self, owned: &Self::Owned) -> bool { true $(&& self.$n.eq_owned(&owned.$n))+ }
        }
    )*};
}
tuples! {
    (0 A)
    (0 A, 1 B)
    (0 A, 1 B, 2 C)
    (0 A, 1 B, 2 C, 3 D)
    (0 A, 1 B, 2 C, 3 D, 4 E)
    (0 A, 1 B, 2 C, 3 D, 4 E, 5 F)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::hash::BuildHasher;

    fn same_hash<K: Key + Clone>(k: K) -> bool {
        let h = rustc_hash::FxBuildHasher;
        h.hash_one(&k) == h.hash_one(k.into_owned())
    }

    #[test]
    fn borrowed_and_owned_keys_hash_alike() {
        assert!(same_hash("word"));
        assert!(same_hash(("word", 3u32)));
        assert!(same_hash(Some("x")));
        assert!(same_hash(vec!["a", "b"]));
        assert!(same_hash(&7u64));
        let s = String::from("y");
        assert!(same_hash(&s));
    }

    #[test]
    fn short_eq_is_byte_equality() {
        let words = [
            "",
            "a",
            "ab",
            "abc",
            "abcd",
            "abcde",
            "w12345",
            "w1234567",
            "w12345678",
            "sixteen-bytes-ab",
            "seventeen-bytes-a",
            "a longer string of words",
        ];
        for a in words {
            for b in words {
                assert_eq!(short_eq(a.as_bytes(), b.as_bytes()), a == b, "{a:?} {b:?}");
            }
            let mut c = a.as_bytes().to_vec();
            for i in 0..c.len() {
                c[i] ^= 1;
                assert!(!short_eq(a.as_bytes(), &c), "{a:?} differs at {i}");
                c[i] ^= 1;
            }
        }
    }

    #[test]
    fn matches_is_equality_with_owned_form() {
        assert!("a".eq_owned(&"a".to_string()));
        assert!(!"a".eq_owned(&"b".to_string()));
        assert!(("a", 1).eq_owned(&("a".to_string(), 1)));
        assert!(!("a", 1).eq_owned(&("a".to_string(), 2)));
        assert!(None::<&str>.eq_owned(&None));
        assert!(!Some("a").eq_owned(&None));
    }
}
