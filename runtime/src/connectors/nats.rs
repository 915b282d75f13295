//! NATS JetStream (cargo feature `nats`): [`JetStreamSource`], a [`DirectSource`] over
//! the subjects of a stream, and [`JetStreamSink`], a [`Sink`] that publishes every batch
//! and waits for the stream to acknowledge it.
//!
//! Both keep to what nats-server 2.9 offers (one filter subject per consumer, no
//! consumer update). The asynchronous client runs on a small runtime of its own (one
//! worker thread) that the source or sink creates when it connects and drops when it
//! stops: every method here is synchronous and blocks its caller until the server
//! answered.
//!
//! # The source
//!
//! One partition per subject; offsets are stream sequences (`u64`), so a range `(from,
//! to]` of a subject is the messages of that subject whose sequence lies in it. Reading a
//! range creates an ephemeral pull consumer filtered on the subject, starting at
//! `from + 1`, without acknowledgements, and fetches until `to`; nothing else is stored in
//! the server. Committed positions are kept by one durable pull consumer per subject
//! (named after [`JetStreamOptions::durable`] and the subject), whose ack floor
//! [`commit`](DirectSource::commit) moves to the end of every committed range, so
//! `nats consumer info` shows how far the job is and how much is left.
//!
//! Each [`Message`] has the message's header `key` as its key (none when the message
//! has no such header; `Nats-Msg-Id` is never used as the key), its payload as the value,
//! its subject as the partition, its stream sequence (in decimal) as the offset and the
//! time the stream stored it as the timestamp.

use crate::sinks::Sink;
use crate::sources::{DirectSource, Message, StartAt};
use crate::{Error, Result, Time};
use async_nats::HeaderMap;
use async_nats::jetstream::{
    self,
    consumer::{AckPolicy, DeliverPolicy, pull},
    stream::{LastRawMessageErrorKind, Stream},
};
use futures_util::StreamExt;
use std::fmt::{self, Display};
use std::future::Future;
use std::marker::PhantomData;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// The client and runtime the connector is built on, for the tests to set up streams
/// and look at consumers without depending on them (not part of the API).
#[doc(hidden)]
pub mod client {
    pub use async_nats;
    pub use futures_util;
    pub use tokio;
}

/// The header a message's key is read from (source) and written to (sink).
pub const KEY_HEADER: &str = "key";

/// The header holding the batch time (ms since the epoch) of every message the sink
/// publishes.
pub const BATCH_TIME_HEADER: &str = "batch_time";

/// Messages fetched per pull request unless [`JetStreamOptions::fetch_batch`] says.
const DEFAULT_FETCH_BATCH: usize = 2000;

/// Publishes in flight before the sink waits for their acknowledgements, unless
/// [`JetStreamSink::window`] says.
const DEFAULT_WINDOW: usize = 1000;

/// How long one request to the server may take, unless an option says.
const DEFAULT_TIMEOUT: Duration = Duration::from_secs(30);

/// How long an ephemeral consumer the source created outlives a reader that died without
/// deleting it.
const EPHEMERAL_INACTIVE: Duration = Duration::from_secs(30);

/// An error of the NATS client, as rill's I/O error with what was being done.
fn nats_error(what: impl Into<String>, e: impl Display) -> Error {
    Error::io(what, std::io::Error::other(e.to_string()))
}

/// `f`, failing with a timeout error after `limit`.
async fn within<T, E: Display>(
    limit: Duration,
    what: impl Fn() -> String,
    f: impl Future<Output = std::result::Result<T, E>>,
) -> Result<T> {
    match tokio::time::timeout(limit, f).await {
        Ok(Ok(v)) => Ok(v),
        Ok(Err(e)) => Err(nats_error(what(), e)),
        Err(_) => Err(Error::io(
            what(),
            std::io::Error::new(
                std::io::ErrorKind::TimedOut,
                format!("no answer within {limit:?}"),
            ),
        )),
    }
}

/// A connection with the runtime it runs on.
struct Conn {
    /// One worker thread: it keeps the connection alive (pings, reconnects) between
    /// calls; each call blocks on its own future.
    rt: tokio::runtime::Runtime,
    js: jetstream::Context,
}

impl Conn {
    /// Builds the runtime and connects to `url`.
    fn connect(url: &str, timeout: Duration) -> Result<Conn> {
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .thread_name("rill-nats")
            .enable_all()
            .build()
            .map_err(|e| Error::io("starting the NATS client runtime", e))?;
        // The JetStream context spawns a task: it is made on the runtime.
        let js = rt.block_on(async {
            let client = within(
                timeout,
                || format!("connecting to NATS at {url}"),
                async_nats::connect(url),
            )
            .await?;
            Ok::<_, Error>(jetstream::new(client))
        })?;
        Ok(Conn { rt, js })
    }
}

/// A payload decoded into a record value: what a [`JetStreamSource`] yields.
pub trait FromPayload: Sized + Send + 'static {
    /// The value of a payload, or `None` when it is malformed (it is then skipped and
    /// counted).
    fn from_payload(payload: Vec<u8>) -> Option<Self>;
}

impl FromPayload for Vec<u8> {
    fn from_payload(payload: Vec<u8>) -> Option<Self> {
        Some(payload)
    }
}

impl FromPayload for String {
    /// The payload as UTF-8 text; anything else is malformed.
    fn from_payload(payload: Vec<u8>) -> Option<Self> {
        String::from_utf8(payload).ok()
    }
}

/// How a [`JetStreamSource`] reads: where new subjects start, the durable consumers that
/// hold committed positions, and subjects found while running.
#[derive(Clone, Debug)]
pub struct JetStreamOptions {
    start_at: StartAt,
    durable: Option<String>,
    subjects_matching: Option<String>,
    fetch_batch: usize,
    timeout: Duration,
}

impl Default for JetStreamOptions {
    fn default() -> Self {
        JetStreamOptions {
            start_at: StartAt::default(),
            durable: None,
            subjects_matching: None,
            fetch_batch: DEFAULT_FETCH_BATCH,
            timeout: DEFAULT_TIMEOUT,
        }
    }
}

impl JetStreamOptions {
    /// Where a subject seen for the first time is read from (default:
    /// [`StartAt::Committed`]). [`StartAt::Latest`] starts after the stream's last
    /// sequence when the offset is asked for, so only messages stored from then on are
    /// read; [`StartAt::Committed`] at the ack floor of the subject's durable consumer,
    /// or at the earliest message when it has none (or no [`durable`](Self::durable) is
    /// set).
    pub fn start_at(mut self, start_at: StartAt) -> Self {
        self.start_at = start_at;
        self
    }

    /// The prefix of the durable consumers that hold the committed positions: subject
    /// `orders.eu` is committed in the durable pull consumer `PREFIX-orders_eu` (`.` is
    /// not allowed in a consumer name and becomes `_`; two subjects of the job that map
    /// to one name are an error). Without it, [`commit`](DirectSource::commit) does
    /// nothing and [`StartAt::Committed`] reads from the earliest message.
    ///
    /// The consumers filter on their subject, acknowledge all up to a message
    /// (`AckPolicy::All`) and deliver headers only: they are bookkeeping, not a way to
    /// read the stream.
    pub fn durable(mut self, prefix: impl Into<String>) -> Self {
        self.durable = Some(prefix.into());
        self
    }

    /// Also reads every subject of the stream that matches `pattern` (a subject with
    /// wildcards, `orders.*` or `orders.>`), as its own partition: the stream is asked
    /// which subjects it holds at every [`partitions`](DirectSource::partitions), so a
    /// subject first published to while the job runs is picked up then. Subjects listed
    /// by name come first, in their order; found ones follow, sorted.
    pub fn subjects_matching(mut self, pattern: impl Into<String>) -> Self {
        self.subjects_matching = Some(pattern.into());
        self
    }

    /// Messages asked for in one pull request (default 2000).
    pub fn fetch_batch(mut self, n: usize) -> Self {
        self.fetch_batch = n.max(1);
        self
    }

    /// How long one request to the server may take before the call fails (default 30 s).
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }
}

/// The messages of subjects of a JetStream stream as a [`DirectSource`]: one partition
/// per subject, offsets are stream sequences. Built by [`jetstream()`] (payloads as bytes)
/// or [`jetstream_strings`] (payloads as UTF-8 text); see the [module](self) for how it
/// reads and commits.
///
/// Malformed payloads (not UTF-8, for `JetStreamSource<String>`) are skipped and counted
/// in [`malformed`](Self::malformed): the [`DirectSource`] trait has no way to reach the
/// context's counters.
pub struct JetStreamSource<V = Vec<u8>> {
    url: String,
    stream: String,
    subjects: Vec<String>,
    options: JetStreamOptions,
    conn: Mutex<Option<Arc<Conn>>>,
    malformed: AtomicU64,
    value: PhantomData<fn() -> V>,
}

/// The messages of `subjects` in the JetStream stream `stream` at `url`
/// (`nats://host:port`), payloads as bytes: one partition per subject, read by exact
/// ranges of stream sequences. See [`JetStreamOptions`] for where it starts, where it
/// commits and subjects found while running.
pub fn jetstream(
    url: impl Into<String>,
    stream: impl Into<String>,
    subjects: impl IntoIterator<Item = impl Into<String>>,
    options: JetStreamOptions,
) -> JetStreamSource<Vec<u8>> {
    JetStreamSource::new(url, stream, subjects, options)
}

/// As [`jetstream()`], payloads as UTF-8 text: a payload that is not is skipped and counted
/// in [`JetStreamSource::malformed`].
pub fn jetstream_strings(
    url: impl Into<String>,
    stream: impl Into<String>,
    subjects: impl IntoIterator<Item = impl Into<String>>,
    options: JetStreamOptions,
) -> JetStreamSource<String> {
    JetStreamSource::new(url, stream, subjects, options)
}

/// What a scan of a subject stops at.
#[derive(Clone, Copy)]
struct Bounds {
    /// The last sequence wanted (inclusive).
    to: u64,
    /// At most this many messages.
    max: u64,
    /// Stop before reading anything when the messages after `from` are no more than
    /// `max` (the reader's count of pending messages says so).
    stop_if_all_fit: bool,
}

/// What a scan did.
struct Scanned {
    /// The last sequence delivered (`from` if none).
    last: u64,
    /// How many messages were delivered.
    count: u64,
    /// It stopped at once: all messages after `from` fit in `max`.
    all_fit: bool,
}

/// What one message a scan delivered says about itself.
struct Meta {
    sequence: u64,
    /// Stored at, in ms since the epoch.
    timestamp: u64,
}

impl<V: FromPayload> JetStreamSource<V> {
    /// A source of `subjects` in `stream` at `url` (see [`jetstream()`]).
    pub fn new(
        url: impl Into<String>,
        stream: impl Into<String>,
        subjects: impl IntoIterator<Item = impl Into<String>>,
        options: JetStreamOptions,
    ) -> Self {
        JetStreamSource {
            url: url.into(),
            stream: stream.into(),
            subjects: subjects.into_iter().map(Into::into).collect(),
            options,
            conn: Mutex::new(None),
            malformed: AtomicU64::new(0),
            value: PhantomData,
        }
    }

    /// Payloads skipped because they could not be decoded (not UTF-8 for
    /// `JetStreamSource<String>`), since the source was built.
    pub fn malformed(&self) -> u64 {
        self.malformed.load(Ordering::Relaxed)
    }

    /// The name of the durable consumer that holds the committed position of `subject`,
    /// if [`JetStreamOptions::durable`] is set.
    pub fn durable_name(&self, subject: &str) -> Option<String> {
        self.options
            .durable
            .as_ref()
            .map(|prefix| durable_name(prefix, subject))
    }

    /// The connection, made now if the source has none (a method called before
    /// `start` or after `stop`).
    fn conn(&self) -> Result<Arc<Conn>> {
        let mut conn = crate::sync::lock(&self.conn);
        if let Some(c) = conn.as_ref() {
            return Ok(c.clone());
        }
        let c = Arc::new(Conn::connect(&self.url, self.options.timeout)?);
        *conn = Some(c.clone());
        Ok(c)
    }

    /// Runs `f` with the connection and the stream, blocking until it is done.
    fn run<T, F>(&self, f: impl FnOnce(jetstream::Context, String) -> F) -> Result<T>
    where
        F: Future<Output = Result<T>>,
    {
        let c = self.conn()?;
        let js = c.js.clone();
        c.rt.block_on(f(js, self.stream.clone()))
    }

    /// What went wrong, with the stream and `what`.
    fn what(&self, what: &str) -> String {
        format!("JetStream stream {}: {what}", self.stream)
    }

    /// The stream's handle (one request).
    async fn stream(&self, js: &jetstream::Context) -> Result<Stream> {
        within(
            self.options.timeout,
            || self.what("looking up the stream"),
            js.get_stream(&self.stream),
        )
        .await
    }

    /// The sequence of the last message of `subject`, if it has one.
    async fn last_sequence(&self, stream: &Stream, subject: &str) -> Result<Option<u64>> {
        let what = || self.what(&format!("last message of {subject}"));
        match tokio::time::timeout(
            self.options.timeout,
            stream.get_last_raw_message_by_subject(subject),
        )
        .await
        {
            Ok(Ok(m)) => Ok(Some(m.sequence)),
            Ok(Err(e)) if e.kind() == LastRawMessageErrorKind::NoMessageFound => Ok(None),
            Ok(Err(e)) => Err(nats_error(what(), e)),
            Err(_) => Err(nats_error(what(), "timed out")),
        }
    }

    /// Scans the messages of `subject` after `from` within `bounds`, in order, through an
    /// ephemeral pull consumer (headers only if `headers_only`), handing each to `each`.
    /// Stops at the bounds or at the end of the stream.
    ///
    /// A gap in the consumer's delivery sequence (a message lost between server and
    /// client) starts a new consumer after the last message handed on, so the scan is
    /// exact and ordered.
    async fn scan(
        &self,
        js: &jetstream::Context,
        subject: &str,
        from: u64,
        bounds: Bounds,
        headers_only: bool,
        mut each: impl FnMut(jetstream::Message, Meta),
    ) -> Result<Scanned> {
        let stream = self.stream(js).await?;
        let mut last = from;
        let mut count = 0u64;
        let mut restarts = 0;
        'consumers: while last < bounds.to && count < bounds.max {
            let config = pull::Config {
                deliver_policy: DeliverPolicy::ByStartSequence {
                    start_sequence: last + 1,
                },
                ack_policy: AckPolicy::None,
                filter_subject: subject.to_string(),
                headers_only,
                inactive_threshold: EPHEMERAL_INACTIVE,
                ..Default::default()
            };
            let consumer = within(
                self.options.timeout,
                || self.what(&format!("creating a reader of {subject}")),
                stream.create_consumer(config),
            )
            .await?;
            let name = consumer.cached_info().name.clone();
            if bounds.stop_if_all_fit
                && count == 0
                && consumer.cached_info().num_pending <= bounds.max
            {
                delete_quietly(&stream, &name).await;
                return Ok(Scanned {
                    last,
                    count,
                    all_fit: true,
                });
            }
            let mut delivered = 0u64;
            loop {
                let want = (self.options.fetch_batch as u64)
                    .min(bounds.max - count)
                    .min(bounds.to - last);
                let mut batch = within(
                    self.options.timeout,
                    || self.what(&format!("fetching {subject}")),
                    consumer.fetch().max_messages(want as usize).messages(),
                )
                .await?;
                let deadline = tokio::time::Instant::now() + self.options.timeout;
                let mut got = 0u64;
                let mut at_end = false;
                loop {
                    let msg = match tokio::time::timeout_at(deadline, batch.next()).await {
                        Err(_) => return Err(nats_error(self.what("fetching"), "timed out")),
                        Ok(None) => break,
                        Ok(Some(Err(e))) => {
                            return Err(nats_error(self.what(&format!("fetching {subject}")), e));
                        }
                        Ok(Some(Ok(msg))) => msg,
                    };
                    got += 1;
                    let info = msg
                        .info()
                        .map_err(|e| nats_error(self.what("reading message metadata"), e))?;
                    if info.consumer_sequence != delivered + 1 {
                        restarts += 1;
                        if restarts > 10 {
                            return Err(nats_error(
                                self.what(&format!("reading {subject}")),
                                "messages keep getting lost between server and client",
                            ));
                        }
                        tracing::debug!(subject, last, "gap in delivery; new reader");
                        delete_quietly(&stream, &name).await;
                        continue 'consumers;
                    }
                    delivered += 1;
                    if info.stream_sequence > bounds.to {
                        at_end = true;
                        break;
                    }
                    let meta = Meta {
                        sequence: info.stream_sequence,
                        timestamp: millis(info.published),
                    };
                    let pending = info.pending;
                    last = meta.sequence;
                    count += 1;
                    each(msg, meta);
                    if last >= bounds.to || count >= bounds.max || pending == 0 {
                        at_end = true;
                        break;
                    }
                }
                // Past the bounds, or nothing more in the stream.
                if at_end || got == 0 {
                    break;
                }
            }
            delete_quietly(&stream, &name).await;
            break;
        }
        Ok(Scanned {
            last,
            count,
            all_fit: false,
        })
    }
}

/// Deletes the consumer `name`, leaving it to expire if that fails.
async fn delete_quietly(stream: &Stream, name: &str) {
    if let Err(e) = stream.delete_consumer(name).await {
        tracing::debug!(consumer = name, error = %e, "could not delete a reader");
    }
}

/// `t` in ms since the epoch (0 before it).
fn millis(t: async_nats::datetime::DateTime) -> u64 {
    u64::try_from(t.unix_timestamp_nanos() / 1_000_000).unwrap_or(0)
}

/// The position a durable consumer holds: its ack floor, or, before anything was
/// acknowledged (nats-server 2.9 reports an ack floor of 0 then), the sequence before the
/// one it was created to start at: [`commit`](DirectSource::commit) creates a consumer
/// starting after the committed end.
fn committed(info: &jetstream::consumer::Info) -> u64 {
    let start = match info.config.deliver_policy {
        DeliverPolicy::ByStartSequence { start_sequence } => start_sequence.saturating_sub(1),
        _ => 0,
    };
    info.ack_floor.stream_sequence.max(start)
}

/// The durable consumer of `subject` under `prefix`: characters a consumer name cannot
/// hold (`.`, and `/`, `\` that newer servers refuse) become `_`.
fn durable_name(prefix: &str, subject: &str) -> String {
    let subject: String = subject
        .chars()
        .map(|c| match c {
            '.' | '/' | '\\' => '_',
            c => c,
        })
        .collect();
    format!("{prefix}-{subject}")
}

impl<V: FromPayload> JetStreamSource<V> {
    /// Moves the ack floor of `subject`'s durable consumer `name` to `end` (see
    /// [`DirectSource::commit`]).
    async fn commit_subject(
        &self,
        stream: &Stream,
        name: &str,
        subject: &str,
        end: u64,
    ) -> Result<()> {
        let what = || self.what(&format!("committing {subject} in consumer {name}"));
        let config = pull::Config {
            durable_name: Some(name.to_string()),
            // A new consumer starts after `end`: its ack floor is `end` at once.
            deliver_policy: if end == 0 {
                DeliverPolicy::All
            } else {
                DeliverPolicy::ByStartSequence {
                    start_sequence: end + 1,
                }
            },
            ack_policy: AckPolicy::All,
            filter_subject: subject.to_string(),
            headers_only: true,
            max_ack_pending: -1,
            description: Some("rill: committed position of the subject".into()),
            ..Default::default()
        };
        let consumer = within(
            self.options.timeout,
            what,
            stream.get_or_create_consumer(name, config),
        )
        .await?;
        let info = consumer.cached_info();
        if info.config.filter_subject != subject {
            return Err(nats_error(
                what(),
                format!(
                    "the consumer filters on {:?}, not on the subject",
                    info.config.filter_subject
                ),
            ));
        }
        let mut floor = committed(info);
        while floor < end {
            // Never more than the sequences left: each of them holds at most one message
            // of the subject. Fewer messages than that may follow up to `end`; messages
            // past `end` that come with them are given back (nak) for the next commit.
            let want = (self.options.fetch_batch as u64).min(end - floor);
            let mut batch = within(
                self.options.timeout,
                what,
                consumer.fetch().max_messages(want as usize).messages(),
            )
            .await?;
            let mut upto = None;
            let mut past = false;
            let mut got = 0;
            while let Some(msg) = tokio::time::timeout(self.options.timeout, batch.next())
                .await
                .map_err(|_| nats_error(what(), "timed out"))?
            {
                let msg = msg.map_err(|e| nats_error(what(), e))?;
                got += 1;
                let seq = msg
                    .info()
                    .map_err(|e| nats_error(what(), e))?
                    .stream_sequence;
                if seq <= end {
                    upto = Some((seq, msg));
                } else {
                    past = true;
                    msg.ack_with(jetstream::AckKind::Nak(None))
                        .await
                        .map_err(|e| nats_error(what(), e))?;
                }
            }
            if let Some((seq, msg)) = upto {
                // All up to it (AckPolicy::All), confirmed by the server.
                within(self.options.timeout, what, msg.double_ack()).await?;
                floor = floor.max(seq);
            }
            if past || got == 0 {
                break;
            }
        }
        Ok(())
    }
}

impl<V: FromPayload> DirectSource for JetStreamSource<V> {
    type Record = Message<V>;
    type Offset = u64;

    fn describe(&self) -> String {
        let mut s = format!(
            "jetstream {} stream {} subjects {:?}",
            self.url, self.stream, self.subjects
        );
        if let Some(p) = &self.options.subjects_matching {
            s.push_str(&format!(" and those matching {p}"));
        }
        s.push_str(&format!(", from {:?}", self.options.start_at));
        if let Some(d) = &self.options.durable {
            s.push_str(&format!(", committed in durable consumers {d}-*"));
        }
        s
    }

    /// Connects and checks that the stream exists.
    fn start(&self) -> Result<()> {
        self.run(|js, _| async move { self.stream(&js).await.map(drop) })
    }

    /// Drops the connection and its runtime (a later call connects again).
    fn stop(&self) {
        crate::sync::lock(&self.conn).take();
    }

    /// The subjects given, then (with [`JetStreamOptions::subjects_matching`]) the other
    /// subjects of the stream that match, sorted: one request to the stream's info.
    fn partitions(&self) -> Result<Vec<String>> {
        let mut out = self.subjects.clone();
        if let Some(pattern) = &self.options.subjects_matching {
            let found = self.run(|js, _| async move {
                let stream = self.stream(&js).await?;
                let what = || self.what(&format!("listing subjects matching {pattern}"));
                let mut subjects = within(
                    self.options.timeout,
                    what,
                    stream.info_with_subjects(pattern),
                )
                .await?;
                let mut found = Vec::new();
                while let Some(s) = subjects.next().await {
                    found.push(s.map_err(|e| nats_error(what(), e))?.0);
                }
                Ok(found)
            })?;
            let mut found: Vec<String> = found.into_iter().filter(|s| !out.contains(s)).collect();
            found.sort();
            out.extend(found);
        }
        if let Some(prefix) = &self.options.durable {
            let mut names: Vec<(String, &String)> =
                out.iter().map(|s| (durable_name(prefix, s), s)).collect();
            names.sort();
            for w in names.windows(2) {
                if w[0].0 == w[1].0 {
                    return Err(Error::Config(format!(
                        "subjects {} and {} would be committed in the same durable consumer {}",
                        w[0].1, w[1].1, w[0].0
                    )));
                }
            }
        }
        Ok(out)
    }

    /// Earliest: 0. Latest: the stream's last sequence now (one request). Committed: the
    /// ack floor of the subject's durable consumer (one request), 0 without one.
    fn initial_offset(&self, partition: &str) -> Result<u64> {
        match self.options.start_at {
            StartAt::Earliest => Ok(0),
            StartAt::Latest => self.run(|js, _| async move {
                let stream = self.stream(&js).await?;
                Ok(stream.cached_info().state.last_sequence)
            }),
            StartAt::Committed => {
                let Some(name) = self.durable_name(partition) else {
                    return Ok(0);
                };
                self.run(|js, _| async move {
                    let stream = self.stream(&js).await?;
                    let info =
                        tokio::time::timeout(self.options.timeout, stream.consumer_info(&name))
                            .await;
                    let what = || self.what(&format!("committed position of {partition}"));
                    match info {
                        Ok(Ok(info)) => Ok(committed(&info)),
                        Ok(Err(e))
                            if e.kind() == jetstream::context::ConsumerInfoErrorKind::NotFound =>
                        {
                            Ok(0)
                        }
                        Ok(Err(e)) => Err(nats_error(what(), e)),
                        Err(_) => Err(nats_error(what(), "timed out")),
                    }
                })
            }
        }
    }

    /// Without `max`: the subject's last sequence (one request, the last message by
    /// subject), the count unknown. With `max`: the same when the range cannot hold more
    /// than `max` messages (its sequences, or the messages pending after `from`, number
    /// no more than `max`); else the sequence of the `max`-th message of the subject
    /// after `from`, found by fetching the headers of those `max` messages through an
    /// ephemeral consumer (nats-server 2.9 has no way to skip `n` messages of a subject),
    /// with the count.
    fn end_offset(
        &self,
        partition: &str,
        from: &u64,
        max: Option<u64>,
    ) -> Result<(u64, Option<u64>)> {
        let from = *from;
        self.run(|js, _| async move {
            let stream = self.stream(&js).await?;
            let Some(last) = self.last_sequence(&stream, partition).await? else {
                return Ok((from, Some(0)));
            };
            if last <= from || max == Some(0) {
                return Ok((from, Some(0)));
            }
            match max {
                Some(max) if last - from > max => {
                    let bounds = Bounds {
                        to: u64::MAX,
                        max,
                        stop_if_all_fit: true,
                    };
                    let s = self
                        .scan(&js, partition, from, bounds, true, |_, _| {})
                        .await?;
                    if s.all_fit {
                        Ok((last, None))
                    } else {
                        Ok((s.last, Some(s.count)))
                    }
                }
                _ => Ok((last, None)),
            }
        })
    }

    /// The messages of the subject with sequence in `(from, to]`, in order, through an
    /// ephemeral pull consumer starting at `from + 1` (see [`JetStreamOptions::fetch_batch`]).
    /// Messages of the range the stream no longer holds (removed by its limits) are
    /// missing from the result, with a warning.
    fn read(&self, partition: &str, from: &u64, to: &u64) -> Result<Vec<Message<V>>> {
        let (from, to) = (*from, *to);
        if to <= from {
            return Ok(Vec::new());
        }
        let mut out = Vec::new();
        let scanned = self.run(|js, _| {
            let out = &mut out;
            async move {
                self.scan(
                    &js,
                    partition,
                    from,
                    Bounds {
                        to,
                        max: u64::MAX,
                        stop_if_all_fit: false,
                    },
                    false,
                    |msg, meta| {
                        let msg = msg.split().0;
                        let key = msg
                            .headers
                            .as_ref()
                            .and_then(|h| h.get(KEY_HEADER))
                            .map(|v| v.as_str().to_string());
                        match V::from_payload(Vec::from(msg.payload)) {
                            Some(value) => out.push(Message {
                                key,
                                value,
                                partition: partition.to_string(),
                                offset: meta.sequence.to_string(),
                                timestamp: Some(Time(meta.timestamp)),
                            }),
                            None => {
                                self.malformed.fetch_add(1, Ordering::Relaxed);
                            }
                        }
                    },
                )
                .await
            }
        })?;
        if scanned.last < to {
            tracing::warn!(
                stream = %self.stream,
                subject = partition,
                from,
                to,
                read_up_to = scanned.last,
                "the stream no longer holds the end of the range"
            );
        }
        Ok(out)
    }

    /// For every subject, moves the ack floor of its durable consumer to the end: a
    /// consumer that does not exist yet is created starting after the end (one request);
    /// an existing one fetches the headers of the messages up to the end and
    /// acknowledges the last of every fetch (`AckPolicy::All`, confirmed by the server),
    /// a cost proportional to the messages committed. Messages past the end that a fetch
    /// brings along are given back at once (nak); until the next commit takes them, they
    /// show in the consumer's info as pending acknowledgement. Does nothing without
    /// [`JetStreamOptions::durable`].
    fn commit(&self, _time: Time, ends: &[(String, u64)]) -> Result<()> {
        if self.options.durable.is_none() || ends.is_empty() {
            return Ok(());
        }
        self.run(|js, _| async move {
            let stream = self.stream(&js).await?;
            for (subject, end) in ends {
                if let Some(name) = self.durable_name(subject) {
                    self.commit_subject(&stream, &name, subject, *end).await?;
                }
            }
            Ok(())
        })
    }
}

impl<V> fmt::Debug for JetStreamSource<V> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("JetStreamSource")
            .field("url", &self.url)
            .field("stream", &self.stream)
            .field("subjects", &self.subjects)
            .field("options", &self.options)
            .finish_non_exhaustive()
    }
}

/// A record value as a message payload: what a [`JetStreamSink`] publishes.
pub trait ToPayload {
    /// The payload's bytes.
    fn to_payload(&self) -> Vec<u8>;
}

impl ToPayload for Vec<u8> {
    fn to_payload(&self) -> Vec<u8> {
        self.clone()
    }
}

impl ToPayload for [u8] {
    fn to_payload(&self) -> Vec<u8> {
        self.to_vec()
    }
}

impl ToPayload for String {
    fn to_payload(&self) -> Vec<u8> {
        self.as_bytes().to_vec()
    }
}

impl ToPayload for str {
    fn to_payload(&self) -> Vec<u8> {
        self.as_bytes().to_vec()
    }
}

impl<T: ToPayload + ?Sized> ToPayload for &T {
    fn to_payload(&self) -> Vec<u8> {
        (**self).to_payload()
    }
}

/// Numbers, `bool` and `char` as their text (`to_string`).
macro_rules! payload_as_text {
    ($($t:ty),*) => {$(
        impl ToPayload for $t {
            fn to_payload(&self) -> Vec<u8> {
                self.to_string().into_bytes()
            }
        }
    )*};
}
payload_as_text!(
    u8, u16, u32, u64, u128, usize, i8, i16, i32, i64, i128, isize, f32, f64, bool, char
);

/// Publishes every batch of `(key, value)` records to a JetStream subject, and returns
/// from [`write`](Sink::write) only once the stream acknowledged every message.
///
/// Each message has the value as its payload ([`ToPayload`]) and three headers: `key`
/// (the key's `Display`), `batch_time` (the batch time in ms since the epoch) and
/// `Nats-Msg-Id` (`PREFIX-TIME-INDEX`: the id prefix, by default the subject, the batch
/// time and the record's index in the batch). A batch written again after a recovery has
/// the same times and indexes, so within the stream's duplicate window (its
/// `duplicate_window`, 2 minutes by default) JetStream drops the second copy: replays are
/// exactly-once within the duplicate window and at-least-once beyond it.
///
/// It connects at the first write, on a small runtime of its own (one worker thread),
/// and publishes in windows ([`window`](Self::window)) whose acknowledgements it awaits
/// before the next.
pub struct JetStreamSink {
    url: String,
    subject: String,
    id_prefix: String,
    window: usize,
    timeout: Duration,
    conn: Option<Conn>,
    published: u64,
    duplicates: u64,
}

impl JetStreamSink {
    /// A sink publishing to `subject` (which a stream must hold) of the server at `url`
    /// (`nats://host:port`); it connects at the first write.
    pub fn new(url: impl Into<String>, subject: impl Into<String>) -> Self {
        let subject = subject.into();
        JetStreamSink {
            url: url.into(),
            id_prefix: subject.clone(),
            subject,
            window: DEFAULT_WINDOW,
            timeout: DEFAULT_TIMEOUT,
            conn: None,
            published: 0,
            duplicates: 0,
        }
    }

    /// Publishes in flight before their acknowledgements are awaited (default 1000).
    pub fn window(mut self, n: usize) -> Self {
        self.window = n.max(1);
        self
    }

    /// The prefix of every `Nats-Msg-Id` (default: the subject). Two sinks writing to
    /// one stream need different prefixes, or each drops the other's messages as
    /// duplicates.
    pub fn id_prefix(mut self, prefix: impl Into<String>) -> Self {
        self.id_prefix = prefix.into();
        self
    }

    /// How long connecting or one acknowledgement may take before the write fails
    /// (default 30 s).
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// Messages the stream stored, over every write.
    pub fn published(&self) -> u64 {
        self.published
    }

    /// Messages the stream acknowledged as duplicates and dropped (a batch written again
    /// within the duplicate window), over every write.
    pub fn duplicates(&self) -> u64 {
        self.duplicates
    }
}

impl fmt::Debug for JetStreamSink {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("JetStreamSink")
            .field("url", &self.url)
            .field("subject", &self.subject)
            .field("id_prefix", &self.id_prefix)
            .field("window", &self.window)
            .finish_non_exhaustive()
    }
}

impl<K: Display, V: ToPayload> Sink<(K, V)> for JetStreamSink {
    fn write(&mut self, time: Time, records: Vec<(K, V)>) -> Result<()> {
        if records.is_empty() {
            return Ok(());
        }
        if self.conn.is_none() {
            self.conn = Some(Conn::connect(&self.url, self.timeout)?);
        }
        let Some(conn) = self.conn.as_ref() else {
            unreachable!("connected above")
        };
        let (subject, prefix, window, timeout) =
            (&self.subject, &self.id_prefix, self.window, self.timeout);
        let what = || format!("publishing the batch of {} to {subject}", time.millis());
        let target = async_nats::Subject::from(subject.as_str());
        let batch_time = time.millis().to_string();
        let mut records = records.into_iter().enumerate().peekable();
        while records.peek().is_some() {
            // One window: its publishes, then their acknowledgements, within the timeout.
            let window = records.by_ref().take(window);
            let publish = async {
                let mut acks = Vec::with_capacity(window.size_hint().0);
                for (i, (k, v)) in window {
                    let key = k.to_string();
                    if key.contains(['\r', '\n']) {
                        return Err(Error::Pipeline(format!(
                            "a key written to NATS subject {subject} holds a line break: {key:?}"
                        )));
                    }
                    let mut headers = HeaderMap::new();
                    headers.insert(
                        async_nats::header::NATS_MESSAGE_ID,
                        format!("{prefix}-{batch_time}-{i}"),
                    );
                    headers.insert(BATCH_TIME_HEADER, batch_time.as_str());
                    headers.insert(KEY_HEADER, key);
                    let payload = v.to_payload().into();
                    let ack = conn
                        .js
                        .publish_with_headers(target.clone(), headers, payload)
                        .await
                        .map_err(|e| nats_error(what(), e))?;
                    acks.push(ack);
                }
                let (mut published, mut duplicates) = (0u64, 0u64);
                for ack in acks {
                    if ack.await.map_err(|e| nats_error(what(), e))?.duplicate {
                        duplicates += 1;
                    } else {
                        published += 1;
                    }
                }
                Ok::<_, Error>((published, duplicates))
            };
            // The timer is made on the runtime.
            let acked = conn
                .rt
                .block_on(async { tokio::time::timeout(timeout, publish).await });
            let (p, d) = acked.map_err(|_| nats_error(what(), "no acknowledgement in time"))??;
            self.published += p;
            self.duplicates += d;
        }
        Ok(())
    }
}
