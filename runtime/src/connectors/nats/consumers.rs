//! The consumers the source makes: ephemeral readers of a range of a subject, and the
//! durable consumers that hold its committed positions.

use super::source::{FromPayload, JetStreamSource};
use super::{EPHEMERAL_INACTIVE, nats_error, within};
use crate::Result;
use async_nats::jetstream::{
    self,
    consumer::{AckPolicy, DeliverPolicy, pull},
    stream::Stream,
};
use futures_util::StreamExt;

/// What a scan of a subject stops at.
#[derive(Clone, Copy)]
pub(super) struct Bounds {
    /// The last sequence wanted (inclusive).
    pub(super) to: u64,
    /// At most this many messages.
    pub(super) max: u64,
    /// Stop before reading anything when the messages after `from` are no more than
    /// `max` (the reader's count of pending messages says so).
    pub(super) stop_if_all_fit: bool,
}

/// What a scan did.
pub(super) struct Scanned {
    /// The last sequence delivered (`from` if none).
    pub(super) last: u64,
    /// How many messages were delivered.
    pub(super) count: u64,
    /// It stopped at once: all messages after `from` fit in `max`.
    pub(super) all_fit: bool,
}

/// What one message a scan delivered says about itself.
pub(super) struct Meta {
    pub(super) sequence: u64,
    /// Stored at, in ms since the epoch.
    pub(super) timestamp: u64,
}

impl<V: FromPayload> JetStreamSource<V> {
    /// Scans the messages of `subject` after `from` within `bounds`, in order, through an
    /// ephemeral pull consumer (headers only if `headers_only`), handing each to `each`.
    /// Stops at the bounds or at the end of the stream.
    ///
    /// A gap in the consumer's delivery sequence (a message lost between server and
    /// client) starts a new consumer after the last message handed on, so the scan is
    /// exact and ordered.
    pub(super) async fn scan(
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
pub(super) async fn delete_quietly(stream: &Stream<()>, name: &str) {
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
pub(super) fn committed(info: &jetstream::consumer::Info) -> u64 {
    let start = match info.config.deliver_policy {
        DeliverPolicy::ByStartSequence { start_sequence } => start_sequence.saturating_sub(1),
        _ => 0,
    };
    info.ack_floor.stream_sequence.max(start)
}

/// The durable consumer of `subject` under `prefix`: characters a consumer name cannot
/// hold (`.`, and `/`, `\` that newer servers refuse) become `_`.
pub(super) fn durable_name(prefix: &str, subject: &str) -> String {
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
    pub(super) async fn commit_subject(
        &self,
        stream: &Stream<()>,
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
