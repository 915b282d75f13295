//! [`RedisStreamSink`]: every batch's `(key, value)` records appended to a Redis stream.

use super::conn::Conns;
use crate::sinks::Sink;
use crate::{Result, Time};
use std::borrow::Cow;

/// Appends per pipeline round trip.
const PIPELINE: usize = 1000;

/// A value the Redis sinks write: an entry field of [`RedisStreamSink`], a hash name,
/// field or value of [`RedisHashSink`](super::RedisHashSink), a key or member of
/// [`RedisSortedSetSink`](super::RedisSortedSetSink). Text, bytes or a number (written
/// as its decimal text, as `redis-cli` shows it).
pub trait StreamField {
    /// The field's bytes.
    fn field(&self) -> Cow<'_, [u8]>;
}

impl StreamField for String {
    fn field(&self) -> Cow<'_, [u8]> {
        Cow::Borrowed(self.as_bytes())
    }
}

impl StreamField for &str {
    fn field(&self) -> Cow<'_, [u8]> {
        Cow::Borrowed(self.as_bytes())
    }
}

impl StreamField for Cow<'_, str> {
    fn field(&self) -> Cow<'_, [u8]> {
        Cow::Borrowed(self.as_bytes())
    }
}

impl StreamField for Vec<u8> {
    fn field(&self) -> Cow<'_, [u8]> {
        Cow::Borrowed(self)
    }
}

impl StreamField for &[u8] {
    fn field(&self) -> Cow<'_, [u8]> {
        Cow::Borrowed(self)
    }
}

macro_rules! display_fields {
    ($($t:ty),*) => {$(
        impl StreamField for $t {
            fn field(&self) -> Cow<'_, [u8]> {
                Cow::Owned(self.to_string().into_bytes())
            }
        }
    )*};
}

display_fields!(
    u8, u16, u32, u64, u128, usize, i8, i16, i32, i64, i128, isize, f32, f64, bool, char
);

/// A [`Sink`] appending every batch's `(key, value)` records to the Redis stream
/// `stream`, one entry each with the fields `key`, `value` and `batch_time` (the batch
/// time in ms), the layout [`redis_stream`](super::redis_stream) reads.
///
/// A batch is appended when it commits (every output of the batch succeeded), with
/// pipelined `XADD`s, 1000 per round trip; the commit succeeds only once every append
/// is acknowledged, else the context stops with the error. A dropped connection is
/// retried a few times, as the source does.
///
/// **Delivery.** The output is *at least once*: a batch that a recovered job recomputes
/// (one that was in flight when the job stopped, or whose appends were cut short) is
/// appended again, with the same records and the same `batch_time`. A consumer that
/// needs each batch once keeps the last `batch_time` it has applied and drops entries
/// of batches it has seen (or groups by `batch_time` and keeps one copy). What is
/// *exactly once* is the input side: with a checkpoint directory, every entry a
/// [`redis_stream`](super::redis_stream) reads enters the job's state exactly once
/// across restarts (offsets and state are checkpointed together), so the records a
/// batch appends are the same every time it is appended.
///
/// In a pipeline, with `use rill::sink::RedisStreamSink`:
///
/// ```text
/// let counts = RedisStreamSink::new("redis://127.0.0.1:6379", "counts")?.max_len(100_000);
/// stream! { ctx;
///     socket_text_stream("localhost", 9999)
///         .flat_map(|l| l.split(' '))
///         .map(|w| (w.to_string(), 1u64))
///         .reduce_by_key(|a, b| a + b)
///         .write_to(counts)
/// };
/// ```
///
/// ```
/// use rill_runtime::connectors::redis::RedisStreamSink;
/// use rill_runtime::sinks::Sink;
///
/// let sink = RedisStreamSink::new("redis://127.0.0.1:6379", "counts")?.max_len(100_000);
/// fn writes_pairs(_: &impl Sink<(String, u64)>) {}
/// writes_pairs(&sink);
/// assert!(RedisStreamSink::new("not a url", "counts").is_err());
/// # Ok::<(), rill_runtime::Error>(())
/// ```
pub struct RedisStreamSink {
    conns: Conns,
    stream: String,
    max_len: Option<usize>,
    /// The batch written last and not yet appended: its time and `(key, value)` fields.
    pending: Option<(Time, Vec<(Vec<u8>, Vec<u8>)>)>,
}

impl RedisStreamSink {
    /// A sink appending to `stream` at `url` (`redis://host:port[/db]`). Fails if the URL
    /// is invalid; it connects at the first batch.
    pub fn new(url: impl AsRef<str>, stream: impl Into<String>) -> Result<RedisStreamSink> {
        let conns = Conns::new(url.as_ref());
        conns.check()?;
        Ok(RedisStreamSink {
            conns,
            stream: stream.into(),
            max_len: None,
            pending: None,
        })
    }

    /// Trims the stream to about `entries` entries as it appends (`MAXLEN ~`), so it does
    /// not grow without bound.
    pub fn max_len(mut self, entries: usize) -> Self {
        self.max_len = Some(entries);
        self
    }

    /// Appends `fields` as entries of the batch at `time`, a pipeline at a time.
    fn append(&self, time: Time, fields: &[(Vec<u8>, Vec<u8>)]) -> Result<()> {
        let stream = &self.stream;
        for chunk in fields.chunks(PIPELINE) {
            self.conns.run(
                || format!("XADD {stream} ({} entries of batch {time})", chunk.len()),
                |c| {
                    let mut pipe = ::redis::pipe();
                    for (k, v) in chunk {
                        let cmd = pipe.cmd("XADD").arg(stream);
                        if let Some(n) = self.max_len {
                            cmd.arg("MAXLEN").arg("~").arg(n);
                        }
                        cmd.arg("*")
                            .arg("key")
                            .arg(k.as_slice())
                            .arg("value")
                            .arg(v.as_slice())
                            .arg("batch_time")
                            .arg(time.millis());
                    }
                    let ids: Vec<String> = pipe.query(c)?;
                    if ids.len() == chunk.len() {
                        Ok(())
                    } else {
                        Err(::redis::RedisError::from((
                            ::redis::ErrorKind::Parse,
                            "XADD acknowledged fewer entries than sent",
                        )))
                    }
                },
            )?;
        }
        Ok(())
    }
}

impl<K: StreamField, V: StreamField> Sink<(K, V)> for RedisStreamSink {
    fn write(&mut self, time: Time, records: Vec<(K, V)>) -> Result<()> {
        let fields = records
            .iter()
            .map(|(k, v)| (k.field().into_owned(), v.field().into_owned()))
            .collect();
        self.pending = Some((time, fields));
        Ok(())
    }

    fn commit(&mut self, time: Time) -> Result<()> {
        match self.pending.take() {
            Some((t, fields)) if t == time => self.append(time, &fields),
            other => {
                self.pending = other;
                Ok(())
            }
        }
    }
}
