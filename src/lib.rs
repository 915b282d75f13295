//! # rill
//!
//! Spark Streaming's model (DStreams over micro-batches) as a Rust code generator. The
//! [`stream!`] macro reads a whole pipeline at compile time, plans it into stages, and
//! emits statically typed, fused operator code that runs on a small runtime: receivers,
//! a batch clock, partitioned parallel execution, shuffles and output operators.
//!
//! ```
//! use rill::prelude::*;
//!
//! let ctx = StreamingContext::manual(Duration::from_secs(1));
//! let out = stream! { ctx;
//!     let lines  = queue_stream(vec![vec!["a b", "a"], vec!["b"]]);
//!     let counts = lines
//!         .flat_map(|l| l.split(' '))
//!         .map(|w| (w, 1u64))
//!         .reduce_by_key(|a, b| a + b);
//!     counts.collect()
//! };
//! ctx.start()?;
//! ctx.advance(2)?;
//! let mut batches: Vec<Vec<(String, u64)>> = out.take();
//! batches[0].sort();
//! assert_eq!(batches, vec![vec![("a".into(), 2), ("b".into(), 1)], vec![("b".into(), 1)]]);
//! ctx.stop()?;
//! # Ok::<(), rill::Error>(())
//! ```
//!
//! ## The `stream!` block
//!
//! `stream! { ctx; statements }` takes the context, then Rust statements: `let name =
//! source(...)` or `let name = other.op(...).op(...)`, and expression statements ending
//! in an output operator. A stream used more than once is computed once per batch. The
//! block's final expression (an output such as `collect()`, or a tuple of them) is the
//! macro's value. `stream! { ctx, unfused; ... }` plans every operator as its own stage.
//!
//! **Sources**: `queue_stream(Vec<Vec<T>>)` (one `Vec` per batch, or a [`source::Queue`]
//! pushed to while running), `socket_text_stream(host, port)` (a TCP client, as Spark's),
//! `socket_listen_stream(addr)` (listens; any number of clients), `text_file_stream(dir)`
//! (new files in a directory; `file:///dir`, or `s3://bucket/prefix/` with the
//! `object-store` feature), `receiver_stream(r)` (any [`source::Receiver`], Spark's
//! `receiverStream`), `replayable_stream(s)` (any [`source::ReplayableSource`], recovered
//! exactly). `union(a, b, ...)` and `transform([a, b, ...], f)` over several streams are
//! written as sources too (Spark's `StreamingContext.union` and `.transform`).
//!
//! **Operators** (Spark's names in snake_case, Spark's semantics):
//!
//! | operator | result per batch |
//! |---|---|
//! | `map(f)` | `f(x)` for every record, taken by value |
//! | `flat_map(f)` | every item of `f(&x)`; items may borrow from `x` |
//! | `filter(p)` | records with `p(&x)` |
//! | `filter_map(f)` | the `Some` values of `f(x)`, `x` taken by value |
//! | `map_values(f)` / `flat_map_values(f)` | `(k, f(v))` / `(k, item)` for items of `f(v)` |
//! | `union(other)` | this stream's records, then the other's |
//! | `count()` | one record: the number of records (`0` for an empty batch) |
//! | `reduce(f)` | one record: all records reduced with `f` (none for an empty batch) |
//! | `count_by_value()` | `(x, n)` per distinct record |
//! | `reduce_by_key(f)` | `(k, v)` per key, values reduced with `f` (map-side combine) |
//! | `group_by_key()` | `(k, Vec<v>)` per key |
//! | `combine_by_key(create, merge_value, merge_combiners)` | `(k, c)` per key: `c = create(v)` for a key's first value, `merge_value(c, v)` for the next, combiners of several partitions merged |
//! | `join(o)`, `left_outer_join(o)`, `right_outer_join(o)`, `full_outer_join(o)` | `(k, (v, w))` with `Option`s on the outer sides |
//! | `cogroup(o)` | `(k, (Vec<v>, Vec<w>))` for every key of either side |
//! | `transform(f)` | `f(records)` (or `f(time, records)`) over the whole batch |
//! | `transform_with(o, f)` | `f(records, other_records)` (or with the time first) over both batches |
//! | `glom()` | one record per partition: a `Vec` of its records |
//! | `map_partitions(f)` | every item of `f(partition_iterator)`, partition by partition |
//! | `repartition(n)` | the same records spread round-robin over `n` partitions |
//!
//! **Windows** (length and slide are `Duration`s, multiples of the stream's interval; a
//! windowed stream has output only at multiples of its slide, and early windows are
//! partial, as in Spark):
//!
//! | operator | result at each slide `t` |
//! |---|---|
//! | `window(len[, slide])` | the records of the batches in `(t - len, t]`, shared, not copied |
//! | `count_by_window(len, slide)` | the number of records (nothing before the first record, then `0` for an empty window) |
//! | `reduce_by_window(f, len, slide)` | the records reduced with `f` |
//! | `reduce_by_key_and_window(f, len, slide)` | per key, its values reduced; keys with no value are absent |
//! | `reduce_by_key_and_window_inv(f, inv, len, slide[, filter])` | the same kept incrementally; keys at the neutral value stay unless `filter(&k, &v)` drops them |
//! | `count_by_value_and_window(len, slide)` | `(x, n)` per distinct record; zero counts vanish |
//! | `group_by_key_and_window(len[, slide])` | `(k, Vec<v>)` per key with values in the window, oldest first |
//!
//! **Event time** (windows of the time events happened, closed by a watermark; see `docs/EVENT_TIME.md`): `with_watermark(|r| event_ms, delay)`, then `reduce_by_key_and_event_window(f, len, slide[, emit])` / `count_by_key_and_event_window` (`(EventWindow, k, v)`), `reduce_by_event_window` / `count_by_event_window` (`(EventWindow, v)`), `reduce_by_key_and_session_window(f, gap[, emit])` / `count_by_key_and_session_window(gap[, emit])`, with [`Emit`]`::append()` (default) or `::update()` and `.allowed_lateness(d)`; `late_records()` on any of them.
//!
//! **Keyed state** (lives in the partition that owns the key):
//!
//! | operator | result every batch |
//! |---|---|
//! | `update_state_by_key(f[, initial])` | the complete state; `f(values, state)` (or `f(&key, values, state)`, or `f(time, &key, values, state)`) is called for every key with state or values; `None` removes the key |
//! | `map_with_state(StateSpec::function(f).timeout(d).initial_state(v))` | what `f(&key, Some(value), &mut State)` returns, per record; idle keys are called once more with `None` and removed |
//! | `state_snapshots()` | on a `map_with_state` stream: every `(key, state)` after the batch |
//! | `running_reduce_by_key(f)` | the seed's rolling sum `S(t) = d_0 ⊕ ... ⊕ d_t` of every key seen so far |
//! | `sliding_by_key(w)` | the seed's count window `W(t) = {d_t, ..., d_(t-w+1)}` of every key updated in the batch |
//!
//! **Outputs**: `print()` / `print_n(n)` (Spark's frame), `save_as_text_files(prefix,
//! suffix)` (a path, `file://` or, with the `object-store` feature, `s3://` prefix; so is
//! `checkpoint_dir`: see the README's "Object stores"), `for_each_batch(|time, records| ...)`, `collect()` (a [`Collected`] handle),
//! `write_to(sink)` (any [`sink::Sink`], committed once every output of the batch ran).
//!
//! **PostgreSQL** (feature `postgres`): `postgres_table(dsn, table, column, options)` reads
//! a table by an increasing column, recovered exactly; `write_to(PostgresSink::new(dsn,
//! table))` upserts a keyed stream, one transaction per batch.
//!
//! **Redis** (feature `redis`): `redis_stream(url, streams, options)` reads Redis Streams
//! by exact ID ranges; `write_to(RedisStreamSink::new(url, stream)?)` appends to one;
//! `RedisHashSink` (`HSET`, read with `HGETALL`) and `RedisSortedSetSink` (ranked lists
//! replaced whole, read with `ZREVRANGE`) serve results to other programs.
//!
//! Records leaving a stage must own their data: shuffle keys are made owned through
//! [`Key`] (a `&str` key arrives as `String`) and collected records through [`Record`];
//! derive them for your own types: `#[derive(Clone, Hash, PartialEq, Eq, rill::Key)]` for a
//! key, `#[derive(Clone, rill::Record)]` for a record you collect.

#![deny(missing_docs)]

pub use rill_macros::{Key, Record, stream};

/// `#[rill::main]`: turns `fn main(ctx: StreamingContext[, args: Args]) -> rill::Result<()>`
/// into a program with spark-submit-like flags; see [`cli`].
#[cfg(feature = "cli")]
pub use rill_macros::main;

#[cfg(feature = "cli")]
pub mod cli;

/// Running a job on several processes (feature `cluster`): see DISTRIBUTED.md.
#[cfg(feature = "cluster")]
pub use rill_runtime::cluster;

/// clap, for deriving the flags of a job (`#[derive(rill::clap::Args)]`).
#[cfg(feature = "cli")]
pub use clap;
/// Internals of generated code and of the clock, kept reachable at their old paths.
#[doc(hidden)]
pub use rill_runtime::{Batch, Parts, first_batch_time, now_ms};
pub use rill_runtime::{
    BatchInfo, Builder, Collected, Error, Key, Record, Result, StopHandle, StreamingContext, Time,
    parse_duration,
};
pub use std::time::Duration;

/// serde, for deriving `Serialize`/`Deserialize` on state kept in checkpoints.
pub use rill_runtime::serde;

/// Event time: [`EventWindow`], the output mode and allowed lateness ([`Emit`]) of the
/// event-time window operators, and [`ms`](event_time::ms) (a `Duration` in event-time
/// milliseconds). See `docs/EVENT_TIME.md`.
pub mod event_time {
    pub use rill_runtime::ops::event_time::{Emit, EventWindow, Mode, ms};
}
pub use event_time::{Emit, EventWindow};

/// Runtime state types used in pipelines (`StateSpec`, `State` of `map_with_state`).
pub mod ops {
    pub use rill_runtime::ops::map_with_state;
}

/// Sources: what a source statement of `stream!` (`let lines = f(args);`) calls.
///
/// `stream!` knows no source by name: `let s = f(args);` is `rill::source::f(args)`,
/// a function returning a [`Source`](source::Source) value. The built-in ones are
/// here; a user's [`Receiver`](source::Receiver) of text lines (as Spark's) becomes a
/// source through [`receiver_stream`](source::receiver_stream), a
/// [`ReplayableSource`](source::ReplayableSource) whose batches can be recomputed after
/// a crash through [`replayable_stream`](source::replayable_stream), a partitioned
/// log read by offset ranges ([`DirectSource`](source::DirectSource), Spark's direct
/// approach) through [`direct_stream`](source::direct_stream), and any value, such as
/// one chosen at run time, through [`source`](source::source). With the feature `redis`,
/// `redis_stream` and `redis_string_stream` read Redis Streams.
///
/// A source of your own is a [`Receiver`](source::Receiver) (or a
/// [`ReplayableSource`](source::ReplayableSource)) and one line in `stream!`:
///
/// ```
/// use rill::prelude::*;
/// use rill::source::{Receiver, Store};
///
/// /// Stores a countdown as lines, then waits to be stopped.
/// struct Countdown(u32);
///
/// impl Receiver for Countdown {
///     fn on_start(&mut self, store: &Store) -> rill::Result<()> {
///         store.store_many((1..=self.0).rev().map(|n| n.to_string()));
///         Ok(())
///     }
///     fn on_stop(&mut self) {}
/// }
///
/// let ctx = StreamingContext::manual(Duration::from_secs(1));
/// let totals = stream! { ctx;
///     let lines = receiver_stream(Countdown(4));
///     lines.map(|l| l.parse::<u32>().unwrap_or(0)).reduce(|a, b| a + b).collect()
/// };
/// ctx.start()?;
/// // The receiver runs on its own thread: run batches until its lines arrived.
/// let mut sum = 0;
/// while sum < 10 {
///     std::thread::sleep(Duration::from_millis(10));
///     ctx.advance(1)?;
///     sum += totals.take().concat().iter().sum::<u32>();
/// }
/// ctx.stop()?;
/// assert_eq!(sum, 1 + 2 + 3 + 4);
/// # Ok::<(), rill::Error>(())
/// ```
pub mod source {
    #[cfg(feature = "nats")]
    pub use rill_runtime::connectors::nats::{
        FromPayload, JetStreamOptions, JetStreamSource, ensure_jetstream_stream, jetstream,
        jetstream_strings,
    };
    #[cfg(feature = "postgres")]
    pub use rill_runtime::connectors::postgres::{
        PostgresTable, PostgresTableOptions, Row as PostgresRow, postgres_table,
    };
    pub use rill_runtime::sources::{
        DirectSource, DirectStream, Line, Message, Queue, QueueStream, Receiver, ReceiverStream,
        ReplayableSource, ReplayableStream, SocketListen, SocketText, Source, StartAt, Store,
        TextFiles, direct_stream, queue_stream, receiver_stream, replayable_stream,
        socket_listen_stream, socket_text_stream, source, text_file_stream,
    };

    /// Redis Streams (feature `redis`).
    #[cfg(feature = "redis")]
    pub use rill_runtime::connectors::redis::{
        EntryId, RedisOptions, RedisStream, RedisValue, redis_stream, redis_string_stream,
    };
}

/// Outputs written by the user: a [`Sink`](sink::Sink) with a per-batch commit. With
/// the features `postgres`, `redis` and `nats`, the connectors' sinks: `PostgresSink`,
/// `RedisStreamSink`, `RedisHashSink`, `RedisSortedSetSink`, `JetStreamSink`.
pub mod sink {
    #[cfg(feature = "nats")]
    pub use rill_runtime::connectors::nats::{JetStreamSink, ToPayload};
    #[cfg(feature = "postgres")]
    pub use rill_runtime::connectors::postgres::{
        PgColumns, PgScalar, PostgresError, PostgresSink,
    };
    pub use rill_runtime::sinks::Sink;

    /// Redis (feature `redis`): Redis Streams, hashes and sorted sets.
    #[cfg(feature = "redis")]
    pub use rill_runtime::connectors::redis::{
        RedisHashSink, RedisSortedSetSink, RedisStreamSink, Score, StreamField,
    };
}

/// Time-series forecasting (ARIMA, SARIMA).
pub mod forecast {
    pub use rill_runtime::forecast::*;
    pub use rill_runtime::ops::forecast_arima::{Alert, ArimaSpec};
}

/// Metrics helpers (percentiles of per-batch figures).
#[doc(hidden)]
pub mod metrics {
    pub use rill_runtime::metrics::*;
}

/// The deterministic Zipf corpus of the benchmarks and examples.
#[doc(hidden)]
pub mod corpus {
    pub use rill_runtime::corpus::*;
}

/// The names a pipeline and its tests need: `use rill::prelude::*;`.
pub mod prelude {
    pub use crate::event_time::{Emit, EventWindow};
    pub use crate::forecast::{Alert, ArimaSpec, Order};
    pub use crate::ops::map_with_state::{State, StateSpec};
    pub use crate::{
        BatchInfo, Builder, Collected, Duration, Key, Record, StopHandle, StreamingContext, Time,
        stream,
    };
}

/// What generated code calls. Not a stable API.
#[doc(hidden)]
pub mod __private {
    pub use rill_runtime::private::*;
    pub use rill_runtime::{Batch, combine, concat, concat_parts, interp, into_parts, ops, sinks};
}
