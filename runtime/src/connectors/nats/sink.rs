//! [`JetStreamSink`]: every batch published to a subject, acknowledged by the stream.

use super::{BATCH_TIME_HEADER, Conn, DEFAULT_TIMEOUT, DEFAULT_WINDOW, KEY_HEADER, nats_error};
use crate::sinks::Sink;
use crate::{Error, Result, Time};
use async_nats::HeaderMap;
use std::fmt::{self, Display};
use std::time::Duration;

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
