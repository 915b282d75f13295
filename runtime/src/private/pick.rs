//! What generated code calls to pick a record type by the type of a value, at compile
//! time: the socket sources register as [`Line`]s in `stream!` (while they stay
//! `Source<String>` values, so `Box<dyn Source<String>>` keeps working), and `collect()`
//! straight from such a source keeps `String`s, as it did before lines were shared.
//! Not a stable API.
//!
//! Both are method calls on `&&Tag<S>`, `S` the source value's type (dtolnay's
//! "autoref specialization"): an impl for `&Tag<S>` with a bound (the preferred case) is
//! found before the impl for every `Tag<S>` one auto-dereference later (the general
//! case). Generated code imports both traits anonymously and calls the method; the
//! value it returns says what to do. The tag is of the source value, whose type
//! constructor is known where the pick is made (a record type may not be inferred yet
//! there, and a bare inference variable would match the preferred impl).
//!
//! ```
//! use rill_runtime::private::pick::{AnySource as _, PreferredSource as _, Tag};
//! use rill_runtime::sources::{Line, queue_stream, socket_listen_stream};
//! use rill_runtime::StreamingContext;
//!
//! let ctx = StreamingContext::manual(std::time::Duration::from_secs(1));
//! let lines = socket_listen_stream("127.0.0.1:0");
//! let handle = (&&Tag::of(&lines)).rill_source_kind().register(&ctx, lines);
//! let _: &rill_runtime::sources::SourceHandle<Line> = &handle;
//! let queue = queue_stream(vec![vec![1u8]]);
//! let handle = (&&Tag::of(&queue)).rill_source_kind().register(&ctx, queue);
//! let _: &rill_runtime::sources::SourceHandle<u8> = &handle;
//! ```

use crate::StreamingContext;
use crate::sources::{Line, Preferred, Source, SourceHandle};
use std::marker::PhantomData;

/// A value's type, without the value.
pub struct Tag<T>(PhantomData<fn() -> T>);

impl<T> Tag<T> {
    /// The tag of `value`'s type.
    pub fn of(_value: &T) -> Tag<T> {
        Tag(PhantomData)
    }
}

/// Registers a source value as its [`Preferred`] record type.
pub struct PreferredKind;

impl PreferredKind {
    /// Registers `value` with `ctx` as a source of its preferred records.
    pub fn register<S: Preferred>(
        self,
        ctx: &StreamingContext,
        value: S,
    ) -> SourceHandle<S::Record> {
        crate::private::source::<S::Record, S>(ctx, value)
    }
}

/// Registers a source value as the one [`Source`] it implements.
pub struct AnyKind;

impl AnyKind {
    /// Registers `value` with `ctx` as a source of `T`.
    pub fn register<T: Send + 'static, S: Source<T>>(
        self,
        ctx: &StreamingContext,
        value: S,
    ) -> SourceHandle<T> {
        crate::private::source::<T, S>(ctx, value)
    }
}

/// The preferred case of a source statement (found first).
pub trait PreferredSource {
    /// How to register the value.
    fn rill_source_kind(&self) -> PreferredKind {
        PreferredKind
    }
}

impl<S: Preferred> PreferredSource for &Tag<S> {}

/// The general case of a source statement.
pub trait AnySource {
    /// How to register the value.
    fn rill_source_kind(&self) -> AnyKind {
        AnyKind
    }
}

impl<S> AnySource for Tag<S> {}

/// `collect()` of a socket source's lines: each made a `String`.
pub struct LinesAsStrings;

impl LinesAsStrings {
    /// The lines of a batch as `String`s.
    pub fn collected(self, lines: Vec<Line>) -> Vec<String> {
        lines.into_iter().map(Line::into_string).collect()
    }
}

/// `collect()` of any other records: as they are.
pub struct AsIs;

impl AsIs {
    /// The records of a batch, unchanged.
    pub fn collected<T>(self, records: T) -> T {
        records
    }
}

/// The lines case of `collect()` of a source (found first).
pub trait CollectLines {
    /// What to collect.
    fn rill_collect_kind(&self) -> LinesAsStrings {
        LinesAsStrings
    }
}

impl<S: Preferred<Record = Line>> CollectLines for &Tag<S> {}

/// The general case of `collect()` of a source.
pub trait CollectAny {
    /// What to collect.
    fn rill_collect_kind(&self) -> AsIs {
        AsIs
    }
}

impl<T> CollectAny for Tag<T> {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    // The borrows are the pattern generated code uses, whatever the type.
    #[allow(clippy::needless_borrow)]
    fn lines_are_collected_as_strings_and_other_records_as_they_are() {
        let socket = crate::sources::socket_listen_stream("127.0.0.1:0");
        let lines = vec![Line::from("a"), Line::from("b")];
        let out = (&&Tag::of(&socket)).rill_collect_kind().collected(lines);
        let _: &Vec<String> = &out;
        assert_eq!(out, ["a", "b"]);
        let queue = crate::sources::queue_stream(vec![vec!["a"]]);
        let out = (&&Tag::of(&queue)).rill_collect_kind().collected(vec!["a"]);
        let _: &Vec<&str> = &out;
    }
}
