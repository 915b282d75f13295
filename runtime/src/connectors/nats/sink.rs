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
/// `Nats-Msg-Id` (`PREFIX-TIME-HASH-N`: the id prefix, by default the subject, the batch
/// time, a 128-bit FNV-1a hash of the record's key and payload in hex, and how many
/// records of the batch before it have the same key and payload). A batch written again
/// after a recovery holds the same records, though maybe in another order (the order of
/// a keyed stream's records can change when its state is restored from a checkpoint), so
/// its messages have the same ids, and within the stream's duplicate window (its
/// `duplicate_window`, 2 minutes by default) JetStream drops the second copy: replays are
/// exactly-once within the duplicate window and at-least-once beyond it, also when the
/// first copy was cut short by a crash.
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

/// FNV-1a over 128 bits of the key's length (8 bytes, little-endian), the key and the
/// payload: the same on every machine and release, unlike `std`'s hashers.
fn record_hash(key: &[u8], payload: &[u8]) -> u128 {
    const OFFSET: u128 = 0x6c62_272e_07bb_0142_62b8_2175_6295_c58d;
    const PRIME: u128 = 0x0000_0000_0100_0000_0000_0000_0000_013b;
    let len = (key.len() as u64).to_le_bytes();
    [&len[..], key, payload]
        .iter()
        .flat_map(|part| part.iter())
        .fold(OFFSET, |h, b| (h ^ u128::from(*b)).wrapping_mul(PRIME))
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
        // How many records of the batch so far had each (key, payload) hash.
        let mut seen: std::collections::HashMap<u128, u64> = std::collections::HashMap::new();
        let mut records = records.into_iter().peekable();
        while records.peek().is_some() {
            // One window: its publishes, then their acknowledgements, within the timeout.
            let window = records.by_ref().take(window);
            let publish = async {
                let mut acks = Vec::with_capacity(window.size_hint().0);
                for (k, v) in window {
                    let key = k.to_string();
                    if key.contains(['\r', '\n']) {
                        return Err(Error::Pipeline(format!(
                            "a key written to NATS subject {subject} holds a line break: {key:?}"
                        )));
                    }
                    let payload = v.to_payload();
                    let hash = record_hash(key.as_bytes(), &payload);
                    let n = seen.entry(hash).or_default();
                    let mut headers = HeaderMap::new();
                    headers.insert(
                        async_nats::header::NATS_MESSAGE_ID,
                        format!("{prefix}-{batch_time}-{hash:032x}-{n}"),
                    );
                    *n += 1;
                    headers.insert(BATCH_TIME_HEADER, batch_time.as_str());
                    headers.insert(KEY_HEADER, key);
                    let payload = payload.into();
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
