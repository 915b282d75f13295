//! Sources as values: what `let s = name(...)` in `stream!` evaluates to.
//!
//! `stream!` knows no source by name. A source statement `let lines = f(args);` calls
//! `rill::source::f(args)`, which returns a value implementing [`Source`], and registers
//! that value with the context. The built-in sources below are such functions; a user's
//! [`Receiver`], [`ReplayableSource`] or [`DirectSource`] becomes one through
//! [`receiver_stream`], [`replayable_stream`] or [`direct_stream`], and any value chosen
//! at run time comes in through [`source`].

use super::{
    DirectInput, DirectSource, FileSource, IntoQueue, Line, ListenSource, QueueSource, Receiver,
    ReceiverSource, Replayable, ReplayableSource, Slot, SocketSource, SourceControl, SourceStats,
    receiver::ReceiverLimits,
};
use crate::Time;
use std::marker::PhantomData;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

/// What a source needs from its context when it is registered.
#[doc(hidden)]
pub struct SourceEnv {
    /// Partitions of every batch.
    pub partitions: usize,
    /// Counters shared with the context.
    pub stats: Arc<SourceStats>,
    /// Bounds on what a receiver buffers.
    pub limits: ReceiverLimits,
    /// How long a file source remembers the files it read.
    pub file_remember: Duration,
    /// The batch interval (a direct source's rate limit is per batch).
    pub interval: Duration,
}

/// A source of records of type `T`: the value of a source statement in `stream!`.
///
/// The built-in sources ([`socket_text_stream`], [`socket_listen_stream`],
/// [`text_file_stream`], [`queue_stream`]) return one; so do [`receiver_stream`] over
/// a user's [`Receiver`] and [`replayable_stream`] over a user's [`ReplayableSource`].
/// `Box<dyn Source<T>>` is one too, so a source chosen at run time is one line:
///
/// ```
/// use rill_runtime::sources::{Source, queue_stream, socket_listen_stream};
/// use rill_runtime::StreamingContext;
///
/// let listen: Option<&str> = None; // e.g. from a command-line flag
/// let input: Box<dyn Source<String>> = match listen {
///     Some(addr) => Box::new(socket_listen_stream(addr)),
///     None => Box::new(queue_stream(vec![vec!["a b".to_string()]])),
/// };
/// // In `stream!`: `let lines = source(input);`. What that line generates:
/// let ctx = StreamingContext::manual(std::time::Duration::from_secs(1));
/// let lines = rill_runtime::private::source(&ctx, input);
/// let seen = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
/// let out = seen.clone();
/// rill_runtime::private::register_job(&ctx, "pipeline", "source\n", move |b| {
///     out.lock().unwrap().extend(lines.take(b).concat());
///     Ok(())
/// });
/// ctx.start()?;
/// ctx.advance(1)?;
/// assert_eq!(*seen.lock().unwrap(), ["a b"]);
/// # Ok::<(), rill_runtime::Error>(())
/// ```
pub trait Source<T>: Send + 'static {
    /// Makes the running source and the slot its batches are filed in. Called once, when
    /// the pipeline is defined; nothing starts before the context does.
    #[doc(hidden)]
    fn register(self: Box<Self>, env: &SourceEnv) -> (Arc<dyn SourceControl>, Arc<Slot<T>>);
}

/// A source value with a preferred record type in `stream!`, which may implement
/// [`Source`] for other record types too: the socket sources are `Source<String>` (so a
/// `Box<dyn Source<String>>` holds them) and prefer [`Line`]s. A source statement
/// registers such a value as its preferred type (`private::pick`).
pub trait Preferred: Source<Self::Record> + Sized {
    /// The record type a source statement gives it.
    type Record: Send + 'static;
}

impl<T: 'static> Source<T> for Box<dyn Source<T>> {
    fn register(self: Box<Self>, env: &SourceEnv) -> (Arc<dyn SourceControl>, Arc<Slot<T>>) {
        (*self).register(env)
    }
}

/// `source(value)` in `stream!`: any [`Source`] value, such as one chosen at run time.
/// (It has no bound of its own: a socket source is a `Source` of two record types, and
/// registering it picks one.)
pub fn source<S>(value: S) -> S {
    value
}

/// Lines of text read from a TCP server at `host:port` (Spark's `socketTextStream`),
/// one receiver that reconnects when the connection drops.
pub fn socket_text_stream(host: impl AsRef<str>, port: u16) -> SocketText {
    SocketText {
        host: host.as_ref().to_string(),
        port,
    }
}

/// The source [`socket_text_stream`] returns.
pub struct SocketText {
    host: String,
    port: u16,
}

impl Source<String> for SocketText {
    fn register(self: Box<Self>, env: &SourceEnv) -> (Arc<dyn SourceControl>, Arc<Slot<String>>) {
        let (src, slot) = SocketSource::new(
            &self.host,
            self.port,
            env.stats.clone(),
            env.partitions,
            env.limits,
        );
        slot.set_origin(super::Origin::sent());
        (src, slot)
    }
}

/// In `stream!` the lines are [`Line`]s, sharing the buffers they were read into.
impl Source<Line> for SocketText {
    fn register(self: Box<Self>, env: &SourceEnv) -> (Arc<dyn SourceControl>, Arc<Slot<Line>>) {
        let (src, slot) = SocketSource::lines(
            &self.host,
            self.port,
            env.stats.clone(),
            env.partitions,
            env.limits,
        );
        slot.set_origin(super::Origin::sent());
        (src, slot)
    }
}

impl Preferred for SocketText {
    type Record = Line;
}

/// Lines of text from every client that connects to `addr` (`host:port`; port 0 picks
/// a free one, see `StreamingContext::local_addrs`).
pub fn socket_listen_stream(addr: impl AsRef<str>) -> SocketListen {
    SocketListen {
        addr: addr.as_ref().to_string(),
    }
}

/// The source [`socket_listen_stream`] returns.
pub struct SocketListen {
    addr: String,
}

impl Source<String> for SocketListen {
    fn register(self: Box<Self>, env: &SourceEnv) -> (Arc<dyn SourceControl>, Arc<Slot<String>>) {
        let (src, slot) =
            ListenSource::new(&self.addr, env.stats.clone(), env.partitions, env.limits);
        slot.set_origin(super::Origin::sent());
        (src, slot)
    }
}

/// In `stream!` the lines are [`Line`]s, sharing the buffers they were read into.
impl Source<Line> for SocketListen {
    fn register(self: Box<Self>, env: &SourceEnv) -> (Arc<dyn SourceControl>, Arc<Slot<Line>>) {
        let (src, slot) =
            ListenSource::lines(&self.addr, env.stats.clone(), env.partitions, env.limits);
        slot.set_origin(super::Origin::sent());
        (src, slot)
    }
}

impl Preferred for SocketListen {
    type Record = Line;
}

/// The lines of the files that appear in directory `dir` (Spark's `textFileStream`):
/// new files by modification time, within the context's remember window.
///
/// `dir` is a local path, a `file:///dir` URL or, with the `object-store` feature, an
/// `s3://bucket/prefix/` URL: then the new objects directly under the prefix, by
/// last-modified time, are listed at each cut and read on the workers when the batch
/// runs (the client is configured by the standard `AWS_*` environment variables; see
/// the README's "Object stores"). Another scheme, or `s3://` without the feature, makes
/// `start()` fail with a configuration error.
pub fn text_file_stream(dir: impl AsRef<std::path::Path>) -> TextFiles {
    TextFiles {
        dir: dir.as_ref().to_path_buf(),
    }
}

/// The source [`text_file_stream`] returns.
pub struct TextFiles {
    dir: PathBuf,
}

impl Source<String> for TextFiles {
    fn register(self: Box<Self>, env: &SourceEnv) -> (Arc<dyn SourceControl>, Arc<Slot<String>>) {
        let dir = match crate::store::Location::parse(&self.dir) {
            Ok(crate::store::Location::Local(dir)) => dir,
            #[cfg(feature = "object-store")]
            Ok(crate::store::Location::Object {
                url,
                bucket,
                prefix,
            }) => {
                let (src, slot) = super::object_files::ObjectFileSource::new(
                    &url,
                    &bucket,
                    &prefix,
                    env.file_remember,
                    env.stats.clone(),
                    env.partitions,
                );
                slot.set_origin(super::Origin::sent());
                return (src, slot);
            }
            #[cfg(not(feature = "object-store"))]
            Ok(crate::store::Location::Object { url, .. }) => {
                return Refused::register(
                    &self.dir,
                    crate::Error::Config(format!(
                        "{url}: object store URLs need rill's `object-store` feature"
                    )),
                    env,
                );
            }
            Err(e) => return Refused::register(&self.dir, e, env),
        };
        let (src, slot) =
            FileSource::new(dir, env.file_remember, env.stats.clone(), env.partitions);
        slot.set_origin(super::Origin::sent());
        (src, slot)
    }
}

/// A `text_file_stream` whose URL cannot be read: `start()` fails with why.
struct Refused {
    what: String,
    why: crate::Error,
}

impl Refused {
    /// The source and slot of a `text_file_stream` that `start()` refuses with `why`.
    fn register(
        dir: &std::path::Path,
        why: crate::Error,
        env: &SourceEnv,
    ) -> (Arc<dyn SourceControl>, Arc<Slot<String>>) {
        let src = Refused {
            what: format!("text_file_stream({})", dir.display()),
            why,
        };
        (Arc::new(src), Arc::new(Slot::new(env.partitions)))
    }
}

impl SourceControl for Refused {
    fn describe(&self) -> String {
        self.what.clone()
    }

    fn start(&self) -> crate::Result<()> {
        Err(self.why.duplicate())
    }

    fn cut(&self, _: Time) -> usize {
        0
    }

    fn stop(&self) {}
}

/// Batches from a queue (Spark's `queueStream`): a `Vec` of batches, each a `Vec` of
/// records, or a [`Queue`](super::Queue) the program pushes to while the job runs.
pub fn queue_stream<T: Send + 'static>(
    batches: impl IntoQueue<T> + Send + 'static,
) -> QueueStream<T> {
    QueueStream {
        queue: Box::new(move |partitions| QueueSource::new(batches, partitions)),
    }
}

/// The source [`queue_stream`] returns.
pub struct QueueStream<T> {
    queue: Box<dyn FnOnce(usize) -> (Arc<QueueSource<T>>, Arc<Slot<T>>) + Send>,
}

impl<T: Send + 'static> Source<T> for QueueStream<T> {
    fn register(self: Box<Self>, env: &SourceEnv) -> (Arc<dyn SourceControl>, Arc<Slot<T>>) {
        let (src, slot) = (self.queue)(env.partitions);
        (src, slot)
    }
}

/// The lines a user's [`Receiver`] stores (Spark's `receiverStream`).
pub fn receiver_stream<R: Receiver>(receiver: R) -> ReceiverStream<R> {
    ReceiverStream { receiver }
}

/// The source [`receiver_stream`] returns.
pub struct ReceiverStream<R> {
    receiver: R,
}

impl<R: Receiver> Source<String> for ReceiverStream<R> {
    fn register(self: Box<Self>, env: &SourceEnv) -> (Arc<dyn SourceControl>, Arc<Slot<String>>) {
        let (src, slot) =
            ReceiverSource::new(self.receiver, env.stats.clone(), env.partitions, env.limits);
        slot.set_origin(super::Origin::sent());
        (src, slot)
    }
}

/// The records a user's [`ReplayableSource`] cuts, recomputed from its logged
/// positions after a crash.
pub fn replayable_stream<T, S: ReplayableSource<T>>(source: S) -> ReplayableStream<T, S> {
    ReplayableStream {
        source,
        _records: PhantomData,
    }
}

/// The source [`replayable_stream`] returns.
pub struct ReplayableStream<T, S> {
    source: S,
    _records: PhantomData<fn() -> T>,
}

impl<T: Send + 'static, S: ReplayableSource<T>> Source<T> for ReplayableStream<T, S> {
    fn register(self: Box<Self>, env: &SourceEnv) -> (Arc<dyn SourceControl>, Arc<Slot<T>>) {
        let (src, slot) = Replayable::new(self.source, env.partitions);
        (src, slot)
    }
}

/// The records of a user's [`DirectSource`] (a partitioned log read by offset ranges,
/// Spark's direct approach): at every batch the ranges from the previous batch's ends to
/// where the partitions end now, read when the batch runs, logged for recovery and
/// committed to the broker once the batch's outputs succeeded. Broker partition `i`
/// (sorted by name) is partition `i` of every batch.
///
/// In `stream!`: `let records = direct_stream(MyLog::new(..));`, or with a rate limit
/// (a method on the value, so through [`source`]):
/// `let records = source(direct_stream(MyLog::new(..)).max_rate_per_partition(1000));`.
///
/// ```
/// use rill_runtime::sources::{DirectSource, direct_stream};
/// use rill_runtime::{Result, StreamingContext};
///
/// /// One partition holding the numbers 1, 2, 3, ...: offset `n` is the record `n`.
/// struct Numbers;
///
/// impl DirectSource for Numbers {
///     type Record = u64;
///     type Offset = u64;
///     fn describe(&self) -> String { "numbers".into() }
///     fn partitions(&self) -> Result<Vec<String>> { Ok(vec!["n".into()]) }
///     fn initial_offset(&self, _: &str) -> Result<u64> { Ok(0) }
///     fn end_offset(&self, _: &str, from: &u64, max: Option<u64>) -> Result<(u64, Option<u64>)> {
///         let n = max.unwrap_or(5); // five new numbers every batch
///         Ok((from + n, Some(n)))
///     }
///     fn read(&self, _: &str, from: &u64, to: &u64) -> Result<Vec<u64>> {
///         Ok((from + 1..=*to).collect())
///     }
/// }
///
/// let ctx = StreamingContext::manual(std::time::Duration::from_secs(1));
/// // What `let n = direct_stream(Numbers).max_rate_per_partition(2);` in `stream!` does:
/// let n = rill_runtime::private::source(&ctx, direct_stream(Numbers).max_rate_per_partition(2));
/// let seen = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
/// let out = seen.clone();
/// rill_runtime::private::register_job(&ctx, "pipeline", "source\n", move |b| {
///     out.lock().unwrap().push(n.try_take(b)?.concat());
///     Ok(())
/// });
/// ctx.start()?;
/// ctx.advance(2)?;
/// assert_eq!(*seen.lock().unwrap(), [vec![1, 2], vec![3, 4]]);
/// # Ok::<(), rill_runtime::Error>(())
/// ```
pub fn direct_stream<S: DirectSource>(source: S) -> DirectStream<S> {
    DirectStream {
        source,
        max_rate_per_partition: 0,
    }
}

/// The source [`direct_stream`] returns.
pub struct DirectStream<S> {
    source: S,
    max_rate_per_partition: u64,
}

impl<S> DirectStream<S> {
    /// Takes at most `records_per_second` records per second of batch interval from each
    /// partition at every batch (Spark's `spark.streaming.kafka.maxRatePerPartition`), so
    /// a backlog is consumed over several bounded batches (0: unlimited, the default).
    /// Backpressure (`Builder::backpressure`) lowers it further when batches fall behind.
    pub fn max_rate_per_partition(mut self, records_per_second: u64) -> Self {
        self.max_rate_per_partition = records_per_second;
        self
    }
}

impl<S: DirectSource> Source<S::Record> for DirectStream<S> {
    fn register(
        self: Box<Self>,
        env: &SourceEnv,
    ) -> (Arc<dyn SourceControl>, Arc<Slot<S::Record>>) {
        let (src, slot) = DirectInput::new(
            self.source,
            env.interval,
            self.max_rate_per_partition,
            env.stats.clone(),
        );
        (src, slot)
    }
}
