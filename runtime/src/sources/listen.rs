//! `socket_listen_stream(addr)`: listens on `addr` and receives UTF-8 lines from many
//! clients at once, so `echo "a b" | nc localhost 9999` feeds the stream.
//!
//! One receiver thread serves every client: the sockets are non-blocking and polled
//! together (`mio`), read into one shared buffer, and each client keeps only its
//! [`LineSplitter`] (the start of a line whose end has not arrived). An idle client
//! costs a socket and a few dozen bytes, and no wake-ups.

use super::line::LineBlock;
use super::line_reader::{LineSplitter, LogLimit, PartialBudget, READ_BUFFER, feed_all};
use super::receiver::POLL;
use super::receiver::{BlockSink, ReceiverLimits, Receiving};
use super::{Line, Slot, SourceControl, SourceStats};
use crate::sync::lock;
use mio::net::{TcpListener, TcpStream};
use mio::{Events, Interest, Poll, Token};
use std::collections::VecDeque;
use std::io::{ErrorKind, Read};
use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// A receiver listening on an address and reading lines from every client.
pub struct ListenSource {
    addr: String,
    receiving: Receiving,
    limits: ReceiverLimits,
    bound: Mutex<Option<SocketAddr>>,
}

impl ListenSource {
    /// A listener for `addr` (bound at `start()`) whose lines are `String`s; returns the
    /// source and its slot.
    pub fn new(
        addr: &str,
        stats: Arc<SourceStats>,
        partitions: usize,
        limits: ReceiverLimits,
    ) -> (Arc<Self>, Arc<Slot<String>>) {
        let (receiving, slot) = Receiving::new(stats, partitions);
        (Self::with(addr, receiving, limits), slot)
    }

    /// A listener for `addr` whose lines are [`Line`]s sharing the buffers they were
    /// read into (no copy per line); returns the source and its slot.
    pub fn lines(
        addr: &str,
        stats: Arc<SourceStats>,
        partitions: usize,
        limits: ReceiverLimits,
    ) -> (Arc<Self>, Arc<Slot<Line>>) {
        let (receiving, slot) = Receiving::lines(stats, partitions);
        (Self::with(addr, receiving, limits), slot)
    }

    fn with(addr: &str, receiving: Receiving, limits: ReceiverLimits) -> Arc<Self> {
        Arc::new(ListenSource {
            addr: addr.to_string(),
            receiving,
            limits,
            bound: Mutex::new(None),
        })
    }
}

/// The listener's token; client `i` has token `i + 1`.
const LISTENER: Token = Token(0);
/// Reads from one client in a row before the other ready clients get their turn, so a
/// fast sender cannot starve the rest.
const READS_PER_TURN: usize = 4;
/// Clients accepted in a row before the ready clients get their turn.
const ACCEPTS_PER_TURN: usize = 256;
/// Readiness events taken from the poller at once.
const EVENTS: usize = 1024;

struct Client {
    stream: TcpStream,
    peer: SocketAddr,
    lines: LineSplitter,
    /// In the ready queue: it may have more to read.
    queued: bool,
}

/// What the listener has left to accept.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Accept {
    /// Nothing until the poller says so.
    Idle,
    /// Maybe more, now.
    More,
    /// Accepting failed (out of file descriptors?): try again after a poll interval.
    Retry,
}

/// Every client of one listening source, read by one thread.
struct Multiplexer {
    poll: Poll,
    listener: TcpListener,
    accept: Accept,
    /// Clients by token - 1; `None` is a free entry, listed in `free`.
    clients: Vec<Option<Client>>,
    free: Vec<usize>,
    connected: usize,
    /// Clients that may have more to read, in turn order.
    ready: VecDeque<usize>,
    buf: Vec<u8>,
    limits: ReceiverLimits,
    /// What all clients may hold in unfinished lines together.
    partial_budget: Arc<PartialBudget>,
    refusals: LogLimit,
    failures: LogLimit,
}

/// What the clients of one listening source may hold in unfinished lines together:
/// 64 MiB, or four of the longest lines if that is more. Idle clients and short lines
/// never come near it; it bounds the memory of many clients each sending the start of a
/// long line.
fn partial_budget(limits: ReceiverLimits) -> usize {
    limits.max_line_length.saturating_mul(4).max(64 << 20)
}

/// Why a turn ended early.
struct Stopped;

impl Multiplexer {
    fn new(listener: std::net::TcpListener, limits: ReceiverLimits) -> std::io::Result<Self> {
        let poll = Poll::new()?;
        let mut listener = TcpListener::from_std(listener);
        poll.registry()
            .register(&mut listener, LISTENER, Interest::READABLE)?;
        Ok(Multiplexer {
            poll,
            listener,
            accept: Accept::More,
            clients: Vec::new(),
            free: Vec::new(),
            connected: 0,
            ready: VecDeque::new(),
            buf: vec![0; READ_BUFFER],
            partial_budget: PartialBudget::new(partial_budget(limits)),
            limits,
            refusals: LogLimit::new(),
            failures: LogLimit::new(),
        })
    }

    /// Serves the clients until `stop`.
    fn run(mut self, out: BlockSink, stop: Arc<AtomicBool>, stats: Arc<SourceStats>) {
        let mut events = Events::with_capacity(EVENTS);
        let mut block = LineBlock::default();
        while !stop.load(Ordering::Relaxed) {
            let busy = !self.ready.is_empty() || self.accept == Accept::More;
            let timeout = if busy { Duration::ZERO } else { POLL };
            if let Err(e) = self.poll.poll(&mut events, Some(timeout)) {
                if e.kind() != ErrorKind::Interrupted {
                    tracing::warn!(error = %e, "polling the clients failed");
                    std::thread::sleep(POLL);
                }
                continue;
            }
            for event in events.iter() {
                match event.token() {
                    LISTENER => self.accept = Accept::More,
                    Token(t) => self.mark_ready(t - 1),
                }
            }
            if self.accept != Accept::Idle {
                self.accept_clients();
            }
            for _ in 0..self.ready.len() {
                let Some(i) = self.ready.pop_front() else {
                    break;
                };
                if self
                    .read_client(i, &mut block, &out, &stop, &stats)
                    .is_err()
                {
                    return;
                }
            }
            if !out.hand_over(block.finish(), &stop) {
                return;
            }
        }
    }

    fn mark_ready(&mut self, i: usize) {
        if let Some(Some(c)) = self.clients.get_mut(i) {
            if !c.queued {
                c.queued = true;
                self.ready.push_back(i);
            }
        }
    }

    fn accept_clients(&mut self) {
        for _ in 0..ACCEPTS_PER_TURN {
            match self.listener.accept() {
                Ok((stream, peer)) => self.add_client(stream, peer),
                Err(e) if e.kind() == ErrorKind::WouldBlock => {
                    self.accept = Accept::Idle;
                    return;
                }
                Err(e) if e.kind() == ErrorKind::Interrupted => {}
                Err(e) => {
                    if let Some(suppressed) = self.failures.allow() {
                        tracing::warn!(error = %e, connected = self.connected, suppressed,
                            "cannot accept a client; retrying");
                    }
                    self.accept = Accept::Retry;
                    return;
                }
            }
        }
        self.accept = Accept::More;
    }

    fn add_client(&mut self, mut stream: TcpStream, peer: SocketAddr) {
        if self.connected >= self.limits.max_clients {
            if let Some(suppressed) = self.refusals.allow() {
                tracing::warn!(%peer, max_clients = self.limits.max_clients, suppressed,
                    "refusing a client: the listener serves its maximum number of clients");
            }
            return;
        }
        let i = self.free.pop().unwrap_or_else(|| {
            self.clients.push(None);
            self.clients.len() - 1
        });
        if let Err(e) = self
            .poll
            .registry()
            .register(&mut stream, Token(i + 1), Interest::READABLE)
        {
            tracing::warn!(%peer, error = %e, "cannot watch a client socket; dropping it");
            self.free.push(i);
            return;
        }
        tracing::debug!(%peer, "client connected");
        self.connected += 1;
        self.clients[i] = Some(Client {
            stream,
            peer,
            lines: LineSplitter::new(self.limits.max_line_length)
                .with_budget(self.partial_budget.clone()),
            // It may have sent lines already: read it this turn.
            queued: true,
        });
        self.ready.push_back(i);
    }

    fn remove_client(&mut self, i: usize) {
        if let Some(mut c) = self.clients[i].take() {
            let _ = self.poll.registry().deregister(&mut c.stream);
            self.free.push(i);
            self.connected -= 1;
        }
    }

    /// Reads client `i` until it has nothing more or its turn is over, handing blocks
    /// over as they fill up.
    fn read_client(
        &mut self,
        i: usize,
        block: &mut LineBlock,
        out: &BlockSink,
        stop: &AtomicBool,
        stats: &SourceStats,
    ) -> Result<(), Stopped> {
        let Some(Some(c)) = self.clients.get_mut(i) else {
            return Ok(());
        };
        c.queued = false;
        let mut reads = 0;
        while reads < READS_PER_TURN {
            match c.stream.read(&mut self.buf) {
                Ok(0) => {
                    c.lines.finish(block, stats);
                    tracing::debug!(peer = %c.peer, "client done");
                    self.remove_client(i);
                    return Ok(());
                }
                Ok(n) => {
                    reads += 1;
                    if !feed_all(&mut c.lines, &self.buf[..n], block, out, stop, stats) {
                        return Err(Stopped);
                    }
                }
                Err(e) if e.kind() == ErrorKind::WouldBlock => return Ok(()),
                Err(e) if e.kind() == ErrorKind::Interrupted => {}
                Err(e) => {
                    if let Some(suppressed) = self.failures.allow() {
                        tracing::warn!(peer = %c.peer, error = %e, suppressed,
                            "client connection failed");
                    }
                    self.remove_client(i);
                    return Ok(());
                }
            }
        }
        // More may be waiting: the others first.
        c.queued = true;
        self.ready.push_back(i);
        Ok(())
    }
}

/// Raises the soft limit on open files to the hard limit, so a listener can serve many
/// clients (the soft limit is often 1,024).
#[cfg(target_os = "linux")]
#[allow(unsafe_code)]
fn raise_open_files_limit() {
    let mut lim = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: getrlimit only writes the rlimit we pass, which outlives the call.
    if unsafe { libc::getrlimit(libc::RLIMIT_NOFILE, &mut lim) } != 0 {
        let e = std::io::Error::last_os_error();
        tracing::debug!(error = %e, "cannot read the open files limit");
        return;
    }
    if lim.rlim_cur >= lim.rlim_max {
        tracing::debug!(
            limit = lim.rlim_cur,
            "the open files limit is at its maximum"
        );
        return;
    }
    let raised = libc::rlimit {
        rlim_cur: lim.rlim_max,
        rlim_max: lim.rlim_max,
    };
    // SAFETY: setrlimit only reads the rlimit we pass, which outlives the call.
    if unsafe { libc::setrlimit(libc::RLIMIT_NOFILE, &raised) } == 0 {
        tracing::debug!(
            from = lim.rlim_cur,
            to = lim.rlim_max,
            "raised the open files limit"
        );
    } else {
        let e = std::io::Error::last_os_error();
        tracing::debug!(error = %e, limit = lim.rlim_cur, "cannot raise the open files limit");
    }
}

#[cfg(not(target_os = "linux"))]
fn raise_open_files_limit() {}

/// Most connections waiting in the listen queue (Linux caps it at
/// `net.core.somaxconn`).
const BACKLOG: usize = 4096;

/// Widens the listen queue from the standard library's 128 to at most `max_clients`
/// (up to [`BACKLOG`]): a burst of clients beyond the queue would wait for the
/// kernel's 1 s SYN retry.
#[cfg(target_os = "linux")]
#[allow(unsafe_code)]
fn widen_backlog(listener: &std::net::TcpListener, max_clients: usize) {
    use std::os::fd::AsRawFd;
    let backlog = max_clients.clamp(128, BACKLOG) as libc::c_int;
    // SAFETY: `listener` owns the socket and keeps it open during the call; listen()
    // again on a listening socket only changes the length of its queue.
    if unsafe { libc::listen(listener.as_raw_fd(), backlog) } != 0 {
        let e = std::io::Error::last_os_error();
        tracing::debug!(error = %e, backlog, "cannot widen the listen queue");
    }
}

#[cfg(not(target_os = "linux"))]
fn widen_backlog(_: &std::net::TcpListener, _: usize) {}

impl SourceControl for ListenSource {
    fn describe(&self) -> String {
        format!("socket_listen_stream({})", self.addr)
    }

    fn start(&self) -> crate::Result<()> {
        raise_open_files_limit();
        let listener = std::net::TcpListener::bind(&self.addr)
            .map_err(|e| crate::Error::io(format!("cannot listen on {}", self.addr), e))?;
        listener
            .set_nonblocking(true)
            .map_err(|e| crate::Error::io("cannot configure the listener", e))?;
        widen_backlog(&listener, self.limits.max_clients);
        let local = listener
            .local_addr()
            .map_err(|e| crate::Error::io("cannot read the listener's address", e))?;
        let mux = Multiplexer::new(listener, self.limits)
            .map_err(|e| crate::Error::io("cannot poll the listener", e))?;
        *lock(&self.bound) = Some(local);
        tracing::info!(addr = %local, "listening for lines");
        self.receiving
            .spawn(format!("rill-listen-{local}"), move |tx, stop, stats| {
                mux.run(tx, stop, stats)
            })
    }

    fn receiving(&self) -> Option<&Receiving> {
        Some(&self.receiving)
    }

    fn local_addr(&self) -> Option<SocketAddr> {
        *lock(&self.bound)
    }
}
