//! [`DirectSource`]: a partitioned log read by exact offset ranges, Spark's "direct
//! approach" (`KafkaUtils.createDirectStream`).
//!
//! At every batch the driver asks the source where each partition ends now, cuts for
//! every partition the range from the previous cut's end up to there (capped by a rate),
//! and logs the ranges in the batch log before the batch runs. The workers that own the
//! batch's partitions read exactly those ranges; one broker partition is one partition
//! of the batch. A batch recomputed after a crash reads its logged ranges again, so no
//! receiver and no write-ahead log are needed. Once every output of a batch ran, the
//! ranges' ends are committed to the broker (a consumer group, a durable consumer), so
//! lag shows in the broker's own tools.

use crate::{Result, Time};
use serde::Serialize;
use serde::de::DeserializeOwned;
use std::fmt::Debug;

/// A record read from a broker, with where it came from.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Message<V> {
    /// The record's key, if the broker has one.
    pub key: Option<String>,
    /// The record's value.
    pub value: V,
    /// The partition it was read from (a stream key, a subject).
    pub partition: String,
    /// Its position in the partition, as the broker writes it (a stream ID, a sequence).
    pub offset: String,
    /// When the broker stored it (ms since the epoch), if it says.
    pub timestamp: Option<Time>,
}

/// A message owns its data: it can be collected, windowed or kept in state as it is.
impl<V: Send + Sync + Clone + 'static> crate::Record for Message<V> {
    type Owned = Message<V>;

    fn into_owned(self) -> Message<V> {
        self
    }
}

/// Where a partition seen for the first time is read from.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum StartAt {
    /// Its first record still held by the broker.
    Earliest,
    /// After its last record now: only records added from now on.
    Latest,
    /// Where the consumer group / durable consumer committed last, else the earliest.
    #[default]
    Committed,
}

/// A partitioned log read by exact offset ranges (Spark's direct approach).
///
/// Offsets are exclusive starts and inclusive ends: a range `(from, to]` holds the
/// records after `from` up to and including `to`. The driver calls
/// [`partitions`](Self::partitions), [`initial_offset`](Self::initial_offset) and
/// [`end_offset`](Self::end_offset) at every cut; the workers call
/// [`read`](Self::read) when the batch runs (from several threads at once, hence
/// `Sync`); [`commit`](Self::commit) follows every batch whose outputs all succeeded.
pub trait DirectSource: Send + Sync + 'static {
    /// The records it yields.
    type Record: Send + 'static;
    /// A position in one partition, kept in the batch log and checkpoints.
    type Offset: Clone + Debug + Ord + Send + Sync + Serialize + DeserializeOwned + 'static;

    /// A one-line description for logs and `explain()`.
    fn describe(&self) -> String;

    /// Connects; called by `StreamingContext::start`.
    fn start(&self) -> Result<()> {
        Ok(())
    }

    /// Disconnects; called when the context stops.
    fn stop(&self) {}

    /// The partitions now, by names stable across restarts; a partition added while the
    /// job runs appears here and is read from then on.
    fn partitions(&self) -> Result<Vec<String>>;

    /// Where reading a partition seen for the first time starts (exclusive), as the
    /// source's [`StartAt`] says.
    fn initial_offset(&self, partition: &str) -> Result<Self::Offset>;

    /// The end (inclusive) of the range of `partition` after `from` that the batch at
    /// `time` takes: everything there now, or the first `max` records if `max` is given;
    /// with the number of records in the range when it is known without reading them.
    /// `from` itself when there is nothing new.
    fn end_offset(
        &self,
        partition: &str,
        from: &Self::Offset,
        max: Option<u64>,
    ) -> Result<(Self::Offset, Option<u64>)>;

    /// Reads exactly the records of `partition` in `(from, to]`, in order. Called on a
    /// worker when the batch runs, and again with the same range when a batch is
    /// recomputed after a crash.
    fn read(
        &self,
        partition: &str,
        from: &Self::Offset,
        to: &Self::Offset,
    ) -> Result<Vec<Self::Record>>;

    /// Every output of the batch at `time` succeeded: `ends` holds, per partition, the end
    /// of the range the batch read. Commits them to the broker (consumer group, durable
    /// consumer) so lag shows there and [`StartAt::Committed`] resumes after them.
    fn commit(&self, _time: Time, _ends: &[(String, Self::Offset)]) -> Result<()> {
        Ok(())
    }
}
