//! The sources: what users write, and the runtime function that makes each.

use proc_macro2::TokenStream;
use quote::quote;

/// Every source.
#[allow(missing_docs)]
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Source {
    Queue,
    SocketText,
    SocketListen,
    TextFile,
    Receiver,
    Replayable,
}

/// One row of the source table.
pub struct SourceSpec {
    /// The name users write.
    pub name: &'static str,
    /// Which source.
    pub source: Source,
    /// Its arguments, described for error messages.
    pub args: &'static [&'static str],
}

/// The source table.
pub static SOURCES: &[SourceSpec] = &[
    SourceSpec {
        name: "queue_stream",
        source: Source::Queue,
        args: &["a `Vec` of batches, each a `Vec` of records, or a `rill::source::Queue`"],
    },
    SourceSpec {
        name: "socket_text_stream",
        source: Source::SocketText,
        args: &["the host", "the port"],
    },
    SourceSpec {
        name: "socket_listen_stream",
        source: Source::SocketListen,
        args: &["the address to listen on"],
    },
    SourceSpec {
        name: "text_file_stream",
        source: Source::TextFile,
        args: &["the directory"],
    },
    SourceSpec {
        name: "receiver_stream",
        source: Source::Receiver,
        args: &["a value implementing `rill::source::Receiver`"],
    },
    SourceSpec {
        name: "replayable_stream",
        source: Source::Replayable,
        args: &["a value implementing `rill::source::ReplayableSource`"],
    },
];

impl Source {
    /// The function of `rill::__private` that registers the source with a context.
    pub fn constructor(self) -> TokenStream {
        match self {
            Source::Queue => quote!(queue_stream),
            Source::SocketText => quote!(socket_text_stream),
            Source::SocketListen => quote!(socket_listen_stream),
            Source::TextFile => quote!(text_file_stream),
            Source::Receiver => quote!(receiver_stream),
            Source::Replayable => quote!(replayable_stream),
        }
    }
}

/// The source named `name`.
pub fn source(name: &str) -> Option<&'static SourceSpec> {
    SOURCES.iter().find(|s| s.name == name)
}

/// The name of a source.
pub fn source_name(source: Source) -> &'static str {
    SOURCES
        .iter()
        .find(|s| s.source == source)
        .map_or("source", |s| s.name)
}
