//! Checkpoints: durable snapshots of operator state and source positions, and the log
//! of what every batch took from its sources, so a restarted job resumes where it was.

pub mod durable;
pub(crate) mod fingerprint;
mod frame;
pub mod manifest;
#[cfg(feature = "object-store")]
mod objects;
pub mod store;
pub mod wal;

pub use durable::{Durable, Persist};
/// The framing of durable records, for the WAL benchmark. Not a stable API.
#[doc(hidden)]
pub use frame::{crc32, encode as encode_frame};
pub use store::{BatchLog, BatchRecord, CheckpointStore, LoggedBatch, Snapshot};
