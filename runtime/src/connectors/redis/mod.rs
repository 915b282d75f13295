//! Redis (feature `redis`): Redis Streams in and out, the source [`redis_stream`] and
//! the sink [`RedisStreamSink`]; and results written for serving, keyed values into
//! hashes with [`RedisHashSink`] (`HGETALL`) and ranked lists into sorted sets with
//! [`RedisSortedSetSink`] (`ZREVRANGE`), both idempotent on replay.
//!
//! **Entries.** A record is one stream entry with the fields
//!
//! | field | | |
//! |---|---|---|
//! | `value` | required | the record's value: bytes, or UTF-8 text for [`redis_string_stream`] |
//! | `key` | optional | the record's key ([`Message::key`]), UTF-8 |
//!
//! Other fields are ignored. An entry without `value` (or whose value is not UTF-8 when
//! strings are asked for, or whose key is not UTF-8) is counted as malformed
//! (`StreamingContext::malformed_records`) and skipped. Feed one with
//! `redis-cli XADD events '*' key user1 value 'hello world'`. [`RedisStreamSink`]
//! writes entries of this layout (plus `batch_time`), so one job's output is another's
//! input.
//!
//! **Reading** is Spark's direct approach ([`DirectSource`](crate::sources::DirectSource)):
//! a partition is a stream key, an offset an entry ID (`ms-seq`, [`EntryId`]); every
//! batch reads, for every stream, the entries after the previous batch's end up to the
//! stream's last entry at the cut (`XRANGE key (from to`, on the workers when the batch
//! runs, one batch partition per stream, streams sorted by key). The ranges are in the
//! batch log and the ends in checkpoints, so a job recovered with
//! `StreamingContext::get_or_create` reads every entry exactly once into its state. A
//! range trimmed away (`XTRIM`, `MAXLEN`) or deleted (`XDEL`) before a recovered job
//! reads it again is read as what is left.
//!
//! **Consumer group.** After every batch whose outputs all succeeded, the group's
//! last-delivered ID of every stream is moved to what the batch read (`XGROUP SETID`;
//! the group is created with `MKSTREAM` where missing), so `XINFO GROUPS key` shows how
//! far the job is and, without a checkpoint, [`StartAt::Committed`] resumes there. The
//! group is only a bookmark: no entry is read with `XREADGROUP` or left pending.
//!
//! The word count of `examples/broker_wordcount.rs`, lines from the stream `lines`, counts
//! appended to the stream `counts` (with `use rill::source::{RedisOptions, StartAt}` and
//! `use rill::sink::RedisStreamSink`):
//!
//! ```text
//! let options = RedisOptions::default().group("wordcount").start_at(StartAt::Earliest);
//! let out = RedisStreamSink::new(url, "counts")?;
//! stream! { ctx;
//!     redis_string_stream(url, ["lines"], options)
//!         .flat_map(|m| m.value.split(' ').map(str::to_string).collect::<Vec<_>>())
//!         .map(|w| (w, 1u64))
//!         .reduce_by_key(|a, b| a + b)
//!         .write_to(out)
//! };
//! ```
//!
//! What the source statement there generates, as a runtime call:
//!
//! ```no_run
//! use rill_runtime::connectors::redis::{RedisOptions, redis_string_stream};
//! use rill_runtime::sources::StartAt;
//! use rill_runtime::StreamingContext;
//!
//! let ctx = StreamingContext::manual(std::time::Duration::from_secs(1));
//! let options = RedisOptions::default().start_at(StartAt::Earliest);
//! let source = redis_string_stream("redis://127.0.0.1:6379", ["lines"], options);
//! let lines = rill_runtime::private::source(&ctx, source);
//! rill_runtime::private::register_job(&ctx, "pipeline", "source\n", move |b| {
//!     for m in lines.try_take(b)?.concat() {
//!         println!("{} {}: {}", m.partition, m.offset, m.value);
//!     }
//!     Ok(())
//! });
//! ctx.start()?;
//! ctx.advance(1)?;
//! # Ok::<(), rill_runtime::Error>(())
//! ```

mod conn;
mod hash;
mod serving;
mod sink;
mod sorted_set;
mod source;

pub use hash::RedisHashSink;
pub use sink::{RedisStreamSink, StreamField};
pub use sorted_set::{RedisSortedSetSink, Score};

use crate::sources::{DirectInput, Message, Slot, Source, SourceControl, SourceEnv, StartAt};
use serde::{Deserialize, Serialize};
use source::RedisSource;
use std::marker::PhantomData;
use std::sync::Arc;

/// A stream entry ID, `ms-seq`: the offset of a Redis Streams partition. Ordered as
/// Redis orders entries.
#[derive(
    Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize,
)]
pub struct EntryId {
    /// Milliseconds since the epoch when the entry was added (for IDs Redis made).
    pub ms: u64,
    /// Sequence number among the entries of the same millisecond.
    pub seq: u64,
}

impl EntryId {
    /// `0-0`, before every entry.
    pub const ZERO: EntryId = EntryId { ms: 0, seq: 0 };
}

impl std::fmt::Display for EntryId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}-{}", self.ms, self.seq)
    }
}

impl std::str::FromStr for EntryId {
    type Err = std::num::ParseIntError;

    /// `ms-seq`, or `ms` alone (sequence 0).
    fn from_str(s: &str) -> Result<EntryId, Self::Err> {
        let (ms, seq) = s.split_once('-').unwrap_or((s, "0"));
        Ok(EntryId {
            ms: ms.parse()?,
            seq: seq.parse()?,
        })
    }
}

/// How [`redis_stream`] reads: the consumer group it commits to, where a stream seen for
/// the first time is read from, a key pattern for streams added while the job runs, and a
/// rate limit.
///
/// ```
/// use rill_runtime::connectors::redis::RedisOptions;
/// use rill_runtime::sources::StartAt;
///
/// let options = RedisOptions::default()
///     .group("billing")
///     .start_at(StartAt::Earliest)
///     .pattern("orders:*")
///     .max_rate_per_partition(10_000);
/// ```
#[derive(Clone, Debug)]
pub struct RedisOptions {
    streams: Vec<String>,
    pattern: Option<String>,
    group: String,
    start_at: StartAt,
    max_rate_per_partition: u64,
}

impl Default for RedisOptions {
    /// Group `rill`, [`StartAt::Committed`], no pattern, no rate limit.
    fn default() -> Self {
        RedisOptions {
            streams: Vec::new(),
            pattern: None,
            group: "rill".to_string(),
            start_at: StartAt::Committed,
            max_rate_per_partition: 0,
        }
    }
}

impl RedisOptions {
    /// The consumer group whose last-delivered ID follows the job (default `rill`).
    pub fn group(mut self, name: impl Into<String>) -> Self {
        self.group = name.into();
        self
    }

    /// Where a stream seen for the first time is read from (default
    /// [`StartAt::Committed`]: after the group's last-delivered ID, or from the first
    /// entry if the group is new). A checkpoint's positions take precedence when a job
    /// is recovered. [`StartAt::Latest`] skips the entries of streams that exist when the
    /// context starts; a stream created later is read from its first entry.
    pub fn start_at(mut self, start_at: StartAt) -> Self {
        self.start_at = start_at;
        self
    }

    /// Also reads every stream whose key matches `pattern` (`SCAN MATCH`, glob-style:
    /// `orders:*`), listed again at every batch, so a stream created while the job runs
    /// is read from then on.
    pub fn pattern(mut self, pattern: impl Into<String>) -> Self {
        self.pattern = Some(pattern.into());
        self
    }

    /// Takes at most `records_per_second` entries per second of batch interval from each
    /// stream at every batch (0: unlimited, the default); see
    /// [`DirectStream::max_rate_per_partition`](crate::sources::DirectStream::max_rate_per_partition).
    pub fn max_rate_per_partition(mut self, records_per_second: u64) -> Self {
        self.max_rate_per_partition = records_per_second;
        self
    }
}

/// A value type a Redis entry's `value` field decodes to: bytes, or UTF-8 text.
pub trait RedisValue: Send + Sync + 'static + private::Sealed {
    /// What a value that does not decode is not (for the malformed-entry warning).
    #[doc(hidden)]
    const KIND: &'static str;
    /// The value, or `None` if the bytes are not one.
    #[doc(hidden)]
    fn decode(bytes: Vec<u8>) -> Option<Self>
    where
        Self: Sized;
}

mod private {
    pub trait Sealed {}
    impl Sealed for Vec<u8> {}
    impl Sealed for String {}
}

impl RedisValue for Vec<u8> {
    const KIND: &'static str = "bytes";
    fn decode(bytes: Vec<u8>) -> Option<Self> {
        Some(bytes)
    }
}

impl RedisValue for String {
    const KIND: &'static str = "UTF-8";
    fn decode(bytes: Vec<u8>) -> Option<Self> {
        String::from_utf8(bytes).ok()
    }
}

/// The entries of the Redis streams `streams` at `url` (`redis://host:port[/db]`), as
/// [`Message`]s of bytes: one batch partition per stream (see the module
/// documentation for the entry layout, offsets, recovery and the consumer group).
///
/// In `stream!`: `let events = redis_stream(url, ["clicks", "views"], RedisOptions::default());`.
pub fn redis_stream<I, K>(
    url: impl AsRef<str>,
    streams: I,
    options: RedisOptions,
) -> RedisStream<Vec<u8>>
where
    I: IntoIterator<Item = K>,
    K: Into<String>,
{
    let mut options = options;
    options.streams = streams.into_iter().map(Into::into).collect();
    RedisStream {
        url: url.as_ref().to_string(),
        options,
        _values: PhantomData,
    }
}

/// [`redis_stream`] with UTF-8 values: an entry whose value is not UTF-8 is counted as
/// malformed and skipped.
pub fn redis_string_stream<I, K>(
    url: impl AsRef<str>,
    streams: I,
    options: RedisOptions,
) -> RedisStream<String>
where
    I: IntoIterator<Item = K>,
    K: Into<String>,
{
    redis_stream(url, streams, options).strings()
}

/// The source [`redis_stream`] and [`redis_string_stream`] return.
pub struct RedisStream<V> {
    url: String,
    options: RedisOptions,
    _values: PhantomData<fn() -> V>,
}

impl RedisStream<Vec<u8>> {
    /// The same streams with UTF-8 values ([`redis_string_stream`]).
    pub fn strings(self) -> RedisStream<String> {
        RedisStream {
            url: self.url,
            options: self.options,
            _values: PhantomData,
        }
    }
}

impl<V: RedisValue> Source<Message<V>> for RedisStream<V> {
    fn register(
        self: Box<Self>,
        env: &SourceEnv,
    ) -> (Arc<dyn SourceControl>, Arc<Slot<Message<V>>>) {
        let max_rate = self.options.max_rate_per_partition;
        let src = RedisSource::<V>::new(self.url, self.options, env.stats.clone());
        let (src, slot) = DirectInput::new(src, env.interval, max_rate, env.stats.clone());
        (src, slot)
    }
}
