//! How a lost peer is noticed: a socket wrapper that records the end of every connection.
//!
//! timely's network threads (`timely:recv-P`, `timely:send-P`) read and write through
//! [`Watched`]. When a read sees the end of the stream or fails, or a write fails, the
//! wrapper records it for peer `P` *before* timely reacts (timely panics in that thread,
//! which poisons the worker's queues: its next step panics as well). The exchanger's
//! worker polls these records between steps, so a dead peer is an error naming it
//! within one poll, with no reliance on how timely's threads end.
//!
//! A clean end of a session also ends every connection (a peer that called `shutdown`
//! sends a last empty header, then closes): an end of stream is only a loss when an
//! exchange still waits for data.

use std::io::{self, Read, Write};
use std::net::{Shutdown, TcpStream};
use std::sync::{Arc, Mutex, Once};
use std::time::Instant;

use timely::communication::allocator::zero_copy::stream::Stream;

use crate::sync::lock;

/// How a connection to a peer ended.
#[derive(Clone, Debug)]
pub(crate) struct Ended {
    /// What was seen: "closed the connection", "read failed: ...", "write failed: ...".
    pub(crate) what: String,
    /// When it was seen.
    pub(crate) at: Instant,
}

/// The state of one session's connections, shared by timely's network threads (through
/// [`Watched`]) and the exchanger.
pub(crate) struct Links {
    /// Per process: how its connection ended, once it has.
    ended: Mutex<Vec<Option<Ended>>>,
    /// One handle per connection (`None` for this process), to close them all at once
    /// when the session is torn down.
    sockets: Mutex<Vec<Option<TcpStream>>>,
}

impl Links {
    /// The links of a session of `processes` processes.
    pub(crate) fn new(processes: usize) -> Arc<Links> {
        Arc::new(Links {
            ended: Mutex::new(vec![None; processes]),
            sockets: Mutex::new((0..processes).map(|_| None).collect()),
        })
    }

    /// Records the end of the connection to `peer` (the first one seen counts).
    fn record(&self, peer: usize, what: String) {
        let mut ended = lock(&self.ended);
        if let Some(slot @ None) = ended.get_mut(peer) {
            *slot = Some(Ended {
                what,
                at: Instant::now(),
            });
        }
    }

    /// The connections that have ended, by process.
    pub(crate) fn ended(&self) -> Vec<(usize, Ended)> {
        lock(&self.ended)
            .iter()
            .enumerate()
            .filter_map(|(p, e)| e.clone().map(|e| (p, e)))
            .collect()
    }

    /// Closes every connection (both directions): timely's network threads blocked on
    /// them return.
    pub(crate) fn close_all(&self) {
        for socket in lock(&self.sockets).iter().flatten() {
            let _ = socket.shutdown(Shutdown::Both);
        }
    }

    /// Wraps the connection to `peer` for timely, keeping a handle to close it.
    pub(crate) fn watch(self: &Arc<Links>, peer: usize, socket: TcpStream) -> io::Result<Watched> {
        if let Some(slot) = lock(&self.sockets).get_mut(peer) {
            *slot = Some(socket.try_clone()?);
        }
        Ok(Watched {
            inner: socket,
            peer,
            links: Arc::clone(self),
        })
    }
}

/// A connection to one peer as timely's network threads see it: every end of stream and
/// every failure is recorded in the session's [`Links`]; interrupted calls are retried
/// (timely would take them for a failure).
pub(crate) struct Watched {
    inner: TcpStream,
    peer: usize,
    links: Arc<Links>,
}

impl Read for Watched {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        loop {
            match self.inner.read(buf) {
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Ok(0) if !buf.is_empty() => {
                    self.links
                        .record(self.peer, "closed the connection".to_string());
                    return Ok(0);
                }
                Err(e) => {
                    self.links.record(self.peer, format!("read failed: {e}"));
                    return Err(e);
                }
                ok => return ok,
            }
        }
    }
}

impl Write for Watched {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        loop {
            match self.inner.write(buf) {
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => {
                    self.links.record(self.peer, format!("write failed: {e}"));
                    return Err(e);
                }
                ok => return ok,
            }
        }
    }

    fn flush(&mut self) -> io::Result<()> {
        self.inner.flush()
    }
}

impl Stream for Watched {
    fn try_clone(&self) -> io::Result<Self> {
        Ok(Watched {
            inner: self.inner.try_clone()?,
            peer: self.peer,
            links: Arc::clone(&self.links),
        })
    }

    fn set_nonblocking(&self, nonblocking: bool) -> io::Result<()> {
        self.inner.set_nonblocking(nonblocking)
    }

    fn shutdown(&self, how: Shutdown) -> io::Result<()> {
        self.inner.shutdown(how)
    }
}

/// The panics by which timely spreads a network failure (its network threads' "timely
/// communication error", the poisoned queues that follow, the joins of the failed
/// threads). The exchanger reports the failure as an error naming the process, so these
/// are not printed a second time.
fn is_cascade(thread: &str, message: &str) -> bool {
    let ours = thread.starts_with("timely:") || thread.starts_with(super::worker::TEARDOWN_PREFIX);
    ours && (message.contains("timely communication error")
        || message.contains("MergeQueue poisoned")
        || message.contains("Send thread panic")
        || message.contains("Recv thread panic")
        || message.contains("Worker panic"))
}

/// Installs (once per process) a panic hook that keeps timely's failure cascade off
/// stderr and hands every other panic to the hook that was there before.
pub(crate) fn quiet_cascade_panics() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        let previous = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            let thread = std::thread::current();
            let name = thread.name().unwrap_or("");
            let message = info
                .payload()
                .downcast_ref::<&str>()
                .map(|s| s.to_string())
                .or_else(|| info.payload().downcast_ref::<String>().cloned())
                .unwrap_or_default();
            if !is_cascade(name, &message) {
                previous(info);
            }
        }));
    });
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::net::TcpListener;

    #[test]
    fn an_end_of_stream_and_a_failed_write_are_recorded_for_the_peer() {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let client = TcpStream::connect(listener.local_addr().unwrap()).unwrap();
        let (server, _) = listener.accept().unwrap();
        let links = Links::new(3);
        let mut watched = links.watch(2, client).unwrap();
        assert!(links.ended().is_empty());
        drop(server);
        let mut buf = [0u8; 8];
        assert_eq!(watched.read(&mut buf).unwrap(), 0);
        let ended = links.ended();
        assert_eq!(ended.len(), 1);
        assert_eq!(ended[0].0, 2);
        assert_eq!(ended[0].1.what, "closed the connection");
    }

    #[test]
    fn closing_all_ends_blocked_reads() {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let client = TcpStream::connect(listener.local_addr().unwrap()).unwrap();
        let (_server, _) = listener.accept().unwrap();
        let links = Links::new(2);
        let mut watched = links.watch(1, client).unwrap();
        let reader = std::thread::spawn(move || {
            let mut buf = [0u8; 8];
            watched.read(&mut buf).map_err(|e| e.kind())
        });
        std::thread::sleep(std::time::Duration::from_millis(50));
        links.close_all();
        assert_eq!(reader.join().unwrap(), Ok(0));
    }

    #[test]
    fn only_timelys_failure_cascade_is_quiet() {
        assert!(is_cascade(
            "timely:recv-1",
            "timely communication error: reading data: socket closed"
        ));
        assert!(is_cascade("timely:work-0", "MergeQueue poisoned."));
        assert!(!is_cascade("timely:recv-1", "index out of bounds"));
        assert!(!is_cascade("main", "MergeQueue poisoned."));
    }
}
