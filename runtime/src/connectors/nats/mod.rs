//! NATS JetStream (cargo feature `nats`): [`JetStreamSource`], a
//! [`DirectSource`](crate::sources::DirectSource) over the subjects of a stream, and
//! [`JetStreamSink`], a [`Sink`](crate::sinks::Sink) that publishes every batch and waits
//! for the stream to acknowledge it.
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
//! [`commit`](crate::sources::DirectSource::commit) moves to the end of every committed
//! range, so `nats consumer info` shows how far the job is (the ack floor; for a consumer
//! that has acknowledged nothing yet, which nats-server 2.9 shows with an ack floor of 0,
//! the sequence before its start sequence) and how much is left (unprocessed messages,
//! plus those pending acknowledgement).
//!
//! Each [`Message`](crate::sources::Message) has the message's header `key` as its key
//! (none when the message has no such header; `Nats-Msg-Id` is never used as the key),
//! its payload as the value, its subject as the partition, its stream sequence (in
//! decimal) as the offset and the time the stream stored it as the timestamp.
//!
//! # The sink
//!
//! [`JetStreamSink`] publishes the `(key, value)` records of every batch to one subject,
//! with headers `key`, `batch_time` and a `Nats-Msg-Id` made of the batch time and a
//! hash of the record (not of its place in the batch, which can change when a batch is
//! recomputed), and returns once the stream acknowledged them all: a batch written again
//! after a recovery, in full or after a crash cut its first copy short, is dropped by the
//! stream's duplicate window (exactly-once within it, at-least-once beyond it).

use crate::{Error, Result};
use async_nats::jetstream;
use std::fmt::Display;
use std::future::Future;
use std::time::Duration;

mod consumers;
mod sink;
mod source;

pub use sink::{JetStreamSink, ToPayload};
pub use source::{FromPayload, JetStreamOptions, JetStreamSource, jetstream, jetstream_strings};

/// Creates the JetStream stream `name` at `url` (`nats://host:port`), holding `subjects`,
/// unless a stream of that name exists, which is then left as it is (whatever subjects
/// it holds); returns whether it was created. The stream gets the server's defaults
/// otherwise (file storage, limits retention, a duplicate window of 2 minutes), as
/// `nats stream add NAME --subjects ... --defaults` would make it.
///
/// Neither the source nor the sink creates streams (operators usually own them); this is
/// for examples, tests and first steps. Blocks until the server answered.
pub fn ensure_jetstream_stream(
    url: &str,
    name: &str,
    subjects: impl IntoIterator<Item = impl Into<String>>,
) -> Result<bool> {
    let conn = Conn::connect(url, DEFAULT_TIMEOUT)?;
    let subjects: Vec<String> = subjects.into_iter().map(Into::into).collect();
    let what = || format!("creating JetStream stream {name} holding {subjects:?}");
    conn.rt.block_on(async {
        match tokio::time::timeout(DEFAULT_TIMEOUT, conn.js.get_stream(name)).await {
            Ok(Ok(_)) => return Ok(false),
            Ok(Err(e))
                if matches!(
                    e.kind(),
                    jetstream::context::GetStreamErrorKind::JetStream(ref js)
                        if js.error_code() == jetstream::ErrorCode::STREAM_NOT_FOUND
                ) => {}
            Ok(Err(e)) => return Err(nats_error(what(), e)),
            Err(_) => return Err(nats_error(what(), "timed out")),
        }
        let config = jetstream::stream::Config {
            name: name.to_string(),
            subjects: subjects.clone(),
            ..Default::default()
        };
        within(DEFAULT_TIMEOUT, what, conn.js.create_stream(config)).await?;
        Ok(true)
    })
}

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
