//! [`Durable`]: state that a checkpoint saves and a recovery restores, implemented by
//! every stateful operator. Keys, values and states must be serde types; the saved form
//! is independent of the parallelism (keys are re-partitioned on restore).

use super::store::{from_bytes, to_bytes};
use crate::Result;
use crate::combine::{hash_key, partition_of};
use std::hash::Hash;

/// State saved in a checkpoint and restored from it.
pub trait Durable {
    /// The state, encoded.
    fn save(&self) -> Result<Vec<u8>>;
    /// Replaces the state with one decoded from `bytes`.
    fn load(&mut self, bytes: &[u8]) -> Result<()>;
}

/// Serde bounds of what a checkpoint keeps: `Serialize + DeserializeOwned`.
#[diagnostic::on_unimplemented(
    message = "`{Self}` is kept in operator state, so it must be serializable for checkpoints",
    note = "use owned types (String, not &str) and derive serde's Serialize and Deserialize (re-exported as rill::serde)"
)]
pub trait Persist: serde::Serialize + serde::de::DeserializeOwned {}
impl<T: serde::Serialize + serde::de::DeserializeOwned> Persist for T {}

/// Encodes a value for [`Durable::save`].
pub fn save<T: serde::Serialize>(value: &T) -> Result<Vec<u8>> {
    to_bytes(value)
}

/// Decodes a value for [`Durable::load`].
pub fn load<T: serde::de::DeserializeOwned>(bytes: &[u8]) -> Result<T> {
    from_bytes(bytes)
}

/// Splits keyed records into `n` partitions by key, as the shuffles do.
pub fn split_by_key<K: Hash, T>(n: usize, items: Vec<(K, T)>) -> Vec<Vec<(K, T)>> {
    let n = n.max(1);
    let mut out: Vec<Vec<(K, T)>> = (0..n).map(|_| Vec::new()).collect();
    for (k, v) in items {
        out[partition_of(hash_key(&k), n)].push((k, v));
    }
    out
}
