//! Checkpoints: durable snapshots of operator state and source positions, and the log
//! of what every batch took from its sources, so a restarted job resumes where it was.

pub mod durable;
pub(crate) mod fingerprint;
mod frame;
pub mod store;
pub mod wal;

pub use durable::{Durable, Persist};
pub use store::{BatchRecord, CheckpointStore, Snapshot};
