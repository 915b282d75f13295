//! Where a source's records come from when a job runs on a cluster: a replicated source
//! (a queue, a generator) is cut the same way on every process, which keeps the
//! partitions it owns; any other source runs on process 0 only (the driver, where
//! receivers listen and files are listed), which sends every other process the
//! partitions it owns.

#[cfg(feature = "cluster")]
use crate::Parts;

/// How a source's batches reach the processes of a cluster.
pub struct Origin<T> {
    replicated: bool,
    #[cfg(feature = "cluster")]
    codec: Option<Codec<T>>,
    #[cfg(not(feature = "cluster"))]
    _records: std::marker::PhantomData<fn() -> T>,
}

impl<T> Default for Origin<T> {
    /// Process 0 only, and its records cannot be sent (a job on a cluster fails).
    fn default() -> Self {
        Origin {
            replicated: false,
            #[cfg(feature = "cluster")]
            codec: None,
            #[cfg(not(feature = "cluster"))]
            _records: std::marker::PhantomData,
        }
    }
}

impl<T> Origin<T> {
    /// Every process cuts the same batches (a queue filled the same way by each, a
    /// deterministic generator).
    pub fn replicated() -> Self {
        Origin {
            replicated: true,
            ..Origin::default()
        }
    }

    /// Whether every process cuts the same batches.
    pub fn is_replicated(&self) -> bool {
        self.replicated
    }
}

#[cfg(feature = "cluster")]
impl<T: serde::Serialize + serde::de::DeserializeOwned> Origin<T> {
    /// Process 0 reads the records and sends other processes theirs, written by serde.
    pub fn sent() -> Self {
        Origin {
            replicated: false,
            codec: Some(Codec {
                encode: |part| {
                    bincode::serde::encode_to_vec(part, bincode::config::standard()).map_err(|e| {
                        crate::Error::Cluster(format!("cannot encode a source's records: {e}"))
                    })
                },
                decode: |bytes| {
                    bincode::serde::decode_from_slice(bytes, bincode::config::standard())
                        .map(|(v, _)| v)
                        .map_err(|e| {
                            crate::Error::Cluster(format!(
                                "a source's records from process 0 do not decode: {e}"
                            ))
                        })
                },
            }),
        }
    }
}

#[cfg(not(feature = "cluster"))]
impl<T> Origin<T> {
    /// Process 0 reads the records and sends other processes theirs (in a cluster build).
    pub fn sent() -> Self {
        Origin::default()
    }
}

/// Writes and reads one partition of a source's records.
#[cfg(feature = "cluster")]
struct Codec<T> {
    encode: fn(&Vec<T>) -> crate::Result<Vec<u8>>,
    decode: fn(&[u8]) -> crate::Result<Vec<T>>,
}

#[cfg(feature = "cluster")]
impl<T> Origin<T> {
    /// The partitions of `parts` this process owns, in a cluster: its own cut of a
    /// replicated source, or what process 0 sent.
    pub(crate) fn distribute(
        &self,
        parts: Parts<T>,
        rounds: &crate::cluster::session::Rounds<'_>,
    ) -> crate::Result<Parts<T>> {
        if self.replicated {
            return Ok(rounds.keep_owned(parts));
        }
        let Some(codec) = &self.codec else {
            return Err(crate::Error::Cluster(
                "a source of this job (a user's receiver or replayable source, or a direct \
                 stream) cannot run on a cluster yet: its records cannot be sent to other \
                 processes"
                    .into(),
            ));
        };
        rounds.scatter(parts, codec.encode, codec.decode)
    }
}
