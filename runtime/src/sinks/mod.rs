//! Output operators: what happens to a stream's records at every batch.

pub mod collect;
pub mod for_each;
#[cfg(feature = "object-store")]
pub mod object_files;
pub mod print;
pub mod sink;
pub mod text_files;

pub use sink::{Sink, SinkOutput};
