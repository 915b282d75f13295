//! `socket_text_stream(host, port)`: a TCP client receiving UTF-8 lines, as Spark's
//! `socketTextStream`. It reconnects with backoff while the server is absent or after it
//! closes the connection, until the context stops.

use super::line_reader::{ReadEnd, read_lines};
use super::receiver::POLL;
use super::receiver::{BlockSink, ReceiverLimits, Receiving};
use super::{Line, Slot, SourceControl, SourceStats};
use std::net::{TcpStream, ToSocketAddrs};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

/// First wait before reconnecting; doubles up to [`MAX_BACKOFF`].
const MIN_BACKOFF: Duration = Duration::from_millis(100);
/// Longest wait between connection attempts (Spark's receiver restarts after 2 s).
const MAX_BACKOFF: Duration = Duration::from_secs(2);

/// A receiver connecting to `host:port` and reading lines.
pub struct SocketSource {
    target: String,
    receiving: Receiving,
    max_line_length: usize,
}

impl SocketSource {
    /// A receiver for `host:port` whose lines are `String`s; returns the source and its
    /// slot.
    pub fn new(
        host: &str,
        port: u16,
        stats: Arc<SourceStats>,
        partitions: usize,
        limits: ReceiverLimits,
    ) -> (Arc<Self>, Arc<Slot<String>>) {
        let (receiving, slot) = Receiving::new(stats, partitions);
        (Self::with(host, port, receiving, limits), slot)
    }

    /// A receiver for `host:port` whose lines are [`Line`]s sharing the buffers they
    /// were read into (no copy per line); returns the source and its slot.
    pub fn lines(
        host: &str,
        port: u16,
        stats: Arc<SourceStats>,
        partitions: usize,
        limits: ReceiverLimits,
    ) -> (Arc<Self>, Arc<Slot<Line>>) {
        let (receiving, slot) = Receiving::lines(stats, partitions);
        (Self::with(host, port, receiving, limits), slot)
    }

    fn with(host: &str, port: u16, receiving: Receiving, limits: ReceiverLimits) -> Arc<Self> {
        Arc::new(SocketSource {
            target: format!("{host}:{port}"),
            receiving,
            max_line_length: limits.max_line_length,
        })
    }
}

/// Sleeps `d` in short steps; false if `stop` was set meanwhile.
fn sleep_unless_stopped(d: Duration, stop: &AtomicBool) -> bool {
    let mut left = d;
    while !left.is_zero() {
        if stop.load(Ordering::Relaxed) {
            return false;
        }
        let step = left.min(POLL);
        std::thread::sleep(step);
        left -= step;
    }
    !stop.load(Ordering::Relaxed)
}

fn connect(target: &str) -> std::io::Result<TcpStream> {
    let mut last = None;
    for addr in target.to_socket_addrs()? {
        match TcpStream::connect_timeout(&addr, Duration::from_secs(1)) {
            Ok(s) => return Ok(s),
            Err(e) => last = Some(e),
        }
    }
    Err(last.unwrap_or_else(|| std::io::Error::other("no address to connect to")))
}

fn receive(
    target: String,
    max_line_length: usize,
    tx: BlockSink,
    stop: Arc<AtomicBool>,
    stats: Arc<SourceStats>,
) {
    let mut backoff = MIN_BACKOFF;
    let mut warned = false;
    while !stop.load(Ordering::Relaxed) {
        match connect(&target) {
            Ok(stream) => {
                tracing::info!(%target, "socket receiver connected");
                backoff = MIN_BACKOFF;
                warned = false;
                match read_lines(stream, &tx, &stop, &stats, max_line_length) {
                    ReadEnd::Stopped => return,
                    ReadEnd::Closed => {
                        tracing::warn!(%target, "server closed the connection; reconnecting")
                    }
                    ReadEnd::Failed(e) => {
                        tracing::warn!(%target, error = %e, "connection failed; reconnecting")
                    }
                }
            }
            Err(e) => {
                if !warned {
                    tracing::warn!(%target, error = %e, "cannot connect; retrying with backoff");
                    warned = true;
                } else {
                    tracing::debug!(%target, error = %e, "cannot connect");
                }
            }
        }
        if !sleep_unless_stopped(backoff, &stop) {
            return;
        }
        backoff = (backoff * 2).min(MAX_BACKOFF);
    }
}

impl SourceControl for SocketSource {
    fn describe(&self) -> String {
        format!("socket_text_stream({})", self.target)
    }

    fn start(&self) -> crate::Result<()> {
        let (target, max_line_length) = (self.target.clone(), self.max_line_length);
        self.receiving.spawn(
            format!("rill-socket-{}", self.target),
            move |tx, stop, stats| receive(target, max_line_length, tx, stop, stats),
        )
    }

    fn receiving(&self) -> Option<&Receiving> {
        Some(&self.receiving)
    }
}
