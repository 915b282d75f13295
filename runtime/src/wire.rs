//! What crosses processes in a cluster: the records' bound, and the arena that keeps
//! received bytes while records borrow from them.

/// Records that can cross processes: in a build with the `cluster` feature, what serde
/// can write and read back (records may borrow from the received bytes, which live as
/// long as the job's [`Arena`]); in a local build, every type.
#[cfg(feature = "cluster")]
pub trait Wire<'a>: serde::Serialize + serde::Deserialize<'a> {}
#[cfg(feature = "cluster")]
impl<'a, T: serde::Serialize + serde::Deserialize<'a>> Wire<'a> for T {}

/// Records that can cross processes: in a build with the `cluster` feature, what serde
/// can write and read back; in a local build (this one), every type.
#[cfg(not(feature = "cluster"))]
pub trait Wire<'a> {}
#[cfg(not(feature = "cluster"))]
impl<T: ?Sized> Wire<'_> for T {}

/// The bytes a job received from other processes in one batch, kept while records
/// borrowed from them are alive (a generated job makes one before anything else).
#[derive(Default)]
pub struct Arena {
    #[cfg(feature = "cluster")]
    received: typed_arena::Arena<Vec<u8>>,
}

impl Arena {
    /// An empty arena.
    pub fn new() -> Arena {
        Arena::default()
    }

    /// Keeps `bytes` as long as the arena lives.
    #[cfg(feature = "cluster")]
    pub(crate) fn keep(&self, bytes: Vec<u8>) -> &[u8] {
        self.received.alloc(bytes)
    }
}
