//! [`JetStreamSource`]: the subjects of a stream as a [`DirectSource`].

use super::consumers::{Bounds, committed, durable_name};
use super::{Conn, DEFAULT_FETCH_BATCH, DEFAULT_TIMEOUT, KEY_HEADER, nats_error, within};
use crate::sources::{
    DirectInput, DirectSource, Message, Slot, Source, SourceControl, SourceEnv, SourceStats,
    StartAt,
};
use crate::{Error, Result, Time};
use async_nats::jetstream::{
    self,
    stream::{LastRawMessageErrorKind, Stream},
};
use futures_util::StreamExt;
use std::fmt;
use std::future::Future;
use std::marker::PhantomData;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

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
    pub(super) start_at: StartAt,
    pub(super) durable: Option<String>,
    pub(super) subjects_matching: Option<String>,
    pub(super) fetch_batch: usize,
    pub(super) timeout: Duration,
    pub(super) max_rate_per_partition: u64,
}

impl Default for JetStreamOptions {
    fn default() -> Self {
        JetStreamOptions {
            start_at: StartAt::default(),
            durable: None,
            subjects_matching: None,
            fetch_batch: DEFAULT_FETCH_BATCH,
            timeout: DEFAULT_TIMEOUT,
            max_rate_per_partition: 0,
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

    /// Takes at most `records_per_second` messages per second of batch interval from
    /// each subject at every batch (Spark's `maxRatePerPartition`; 0, the default: no
    /// cap). Backpressure lowers it further when batches fall behind.
    pub fn max_rate_per_partition(mut self, records_per_second: u64) -> Self {
        self.max_rate_per_partition = records_per_second;
        self
    }
}

/// The messages of subjects of a JetStream stream as a [`DirectSource`]: one partition
/// per subject, offsets are stream sequences. Built by [`jetstream()`] (payloads as bytes)
/// or [`jetstream_strings`] (payloads as UTF-8 text); see the [module](super) for how it
/// reads and commits.
///
/// Malformed payloads (not UTF-8, for `JetStreamSource<String>`) are skipped and counted
/// in [`malformed`](Self::malformed): the [`DirectSource`] trait has no way to reach the
/// context's counters.
pub struct JetStreamSource<V = Vec<u8>> {
    pub(super) url: String,
    pub(super) stream: String,
    pub(super) subjects: Vec<String>,
    pub(super) options: JetStreamOptions,
    pub(super) conn: Mutex<Option<Arc<Conn>>>,
    pub(super) malformed: AtomicU64,
    /// The context's counters, once the source is registered with one.
    pub(super) stats: std::sync::OnceLock<Arc<SourceStats>>,
    pub(super) value: PhantomData<fn() -> V>,
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
            stats: std::sync::OnceLock::new(),
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

    /// Runs `f` with the connection, blocking until it is done.
    fn run<T, F>(&self, f: impl FnOnce(jetstream::Context) -> F) -> Result<T>
    where
        F: Future<Output = Result<T>>,
    {
        let c = self.conn()?;
        let js = c.js.clone();
        c.rt.block_on(f(js))
    }

    /// What went wrong, with the stream and `what`.
    pub(super) fn what(&self, what: &str) -> String {
        format!("JetStream stream {}: {what}", self.stream)
    }

    /// The stream's handle (no request: a stream that does not exist fails the first
    /// request made through it).
    pub(super) async fn stream(&self, js: &jetstream::Context) -> Result<Stream<()>> {
        js.get_stream_no_info(&self.stream)
            .await
            .map_err(|e| nats_error(self.what("naming the stream"), e))
    }

    /// The stream's info (one request).
    async fn info(&self, stream: &Stream<()>) -> Result<jetstream::stream::Info> {
        within(
            self.options.timeout,
            || self.what("looking up the stream"),
            stream.get_info(),
        )
        .await
    }

    /// The sequence of the last message of `subject`, as the server's last message by
    /// subject says (one request).
    async fn last_sequence(&self, stream: &Stream<()>, subject: &str) -> Result<Option<u64>> {
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
        self.run(|js| async move {
            let stream = self.stream(&js).await?;
            self.info(&stream).await.map(drop)
        })
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
            let found = self.run(|js| async move {
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
            StartAt::Latest => self.run(|js| async move {
                let stream = self.stream(&js).await?;
                Ok(self.info(&stream).await?.state.last_sequence)
            }),
            StartAt::Committed => {
                let Some(name) = self.durable_name(partition) else {
                    return Ok(0);
                };
                self.run(|js| async move {
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
    /// subject), the count unknown. When the server finds no last message, the headers
    /// after `from` are walked instead (as below, three requests when there are none):
    /// nats-server 2.9 also finds none for a subject whose last message was deleted while
    /// others remain.
    ///
    /// With `max`: the same when the range cannot hold more than `max` messages (its
    /// sequences, or the messages pending after `from`, number no more than `max`); else
    /// the sequence of the `max`-th message of the subject after `from`, with the count,
    /// found by fetching the headers of those `max` messages through an ephemeral
    /// consumer: nats-server 2.9 has no way to skip `n` messages of a subject, so this
    /// costs as many small messages as the range holds (measured at 40-250k headers/s on
    /// a loaded two-core machine).
    fn end_offset(
        &self,
        partition: &str,
        from: &u64,
        max: Option<u64>,
    ) -> Result<(u64, Option<u64>)> {
        let from = *from;
        self.run(|js| async move {
            if max == Some(0) {
                return Ok((from, Some(0)));
            }
            let stream = self.stream(&js).await?;
            let Some(last) = self.last_sequence(&stream, partition).await? else {
                // No message of the subject, or (nats-server 2.9) its last message was
                // deleted while others remain, which the server then misses: walk the
                // headers after `from` (three requests when there are none).
                let bounds = Bounds {
                    to: u64::MAX,
                    max: max.unwrap_or(u64::MAX),
                    stop_if_all_fit: false,
                };
                let s = self
                    .scan(&js, partition, from, bounds, true, |_, _| {})
                    .await?;
                return Ok((s.last, Some(s.count)));
            };
            if last <= from {
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
        let scanned = self.run(|js| {
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
                                if let Some(stats) = self.stats.get() {
                                    stats.malformed();
                                }
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
        self.run(|js| async move {
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

/// A JetStream source in `stream!`: `let msgs = jetstream(url, stream, subjects, options);`
/// reads its subjects by exact sequence ranges through the direct-source machinery
/// (ranges logged for recovery, durable consumers committed after the outputs).
impl<V: FromPayload> Source<Message<V>> for JetStreamSource<V> {
    fn register(
        self: Box<Self>,
        env: &SourceEnv,
    ) -> (Arc<dyn SourceControl>, Arc<Slot<Message<V>>>) {
        let max_rate = self.options.max_rate_per_partition;
        let _ = self.stats.set(env.stats.clone());
        let (src, slot) = DirectInput::new(*self, env.interval, max_rate, env.stats.clone());
        (src, slot)
    }
}
