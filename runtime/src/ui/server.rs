//! A small read-only HTTP/1.1 server on std alone: GET only, one request per
//! connection, a bounded request head, a fixed pool of worker threads behind a bounded
//! queue, timeouts on every socket. A bad request is answered (400, 405, 431, 503),
//! never a panic: a handler that panics is answered with 500.
//!
//! The acceptor waits for connections with mio, waking at least every [`ACCEPT_POLL`] to
//! look at the stop flag, so a connection is taken at once and the context's stop joins
//! the acceptor within that time; a worker busy with a slow client ends on its own
//! within [`IO_TIMEOUT`].

use crossbeam_channel::{Receiver, TrySendError};
use std::io::{ErrorKind, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// The largest request head (request line and headers) read; a longer one gets 431.
pub(crate) const MAX_HEAD: usize = 8 * 1024;

/// Worker threads answering requests.
pub(crate) const WORKERS: usize = 4;

/// Connections accepted and waiting for a worker; one more is answered 503.
pub(crate) const QUEUE: usize = 32;

/// How long a client may take to send its request or read the answer, in all.
pub(crate) const IO_TIMEOUT: Duration = Duration::from_secs(5);

/// How often the acceptor, waiting for connections, looks at the stop flag.
pub(crate) const ACCEPT_POLL: Duration = Duration::from_millis(50);

/// A request the server understood.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Request {
    /// The path, without the query.
    pub(crate) path: String,
    /// The query after `?` (empty without one).
    pub(crate) query: String,
}

impl Request {
    /// The value of query parameter `name`, if given.
    pub(crate) fn param(&self, name: &str) -> Option<&str> {
        self.query
            .split('&')
            .filter_map(|kv| kv.split_once('=').or(Some((kv, ""))))
            .find(|(k, _)| *k == name)
            .map(|(_, v)| v)
    }
}

/// An answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Response {
    /// The status code.
    pub(crate) status: u16,
    /// The content type.
    pub(crate) content_type: &'static str,
    /// The body.
    pub(crate) body: Vec<u8>,
}

impl Response {
    /// A 200 answer.
    pub(crate) fn ok(content_type: &'static str, body: impl Into<Vec<u8>>) -> Response {
        Response {
            status: 200,
            content_type,
            body: body.into(),
        }
    }

    /// An error answer with a one-line text body.
    pub(crate) fn error(status: u16, message: &str) -> Response {
        Response {
            status,
            content_type: "text/plain; charset=utf-8",
            body: format!("{status} {}: {message}\n", reason(status)).into_bytes(),
        }
    }
}

/// What answers the requests.
pub(crate) type Handler = Arc<dyn Fn(&Request) -> Response + Send + Sync>;

fn reason(status: u16) -> &'static str {
    match status {
        200 => "OK",
        400 => "Bad Request",
        404 => "Not Found",
        405 => "Method Not Allowed",
        408 => "Request Timeout",
        431 => "Request Header Fields Too Large",
        500 => "Internal Server Error",
        503 => "Service Unavailable",
        _ => "Unknown",
    }
}

/// Parses a request head (the bytes before the blank line): a request, or the error
/// answer it gets.
pub(crate) fn parse(head: &[u8]) -> Result<Request, Response> {
    let bad = |why: &str| Response::error(400, why);
    let text = std::str::from_utf8(head).map_err(|_| bad("the request is not UTF-8"))?;
    let mut lines = text.split("\r\n");
    let line = lines.next().unwrap_or("");
    let mut parts = line.split(' ');
    let (Some(method), Some(target), Some(version), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err(bad("the request line is not `METHOD TARGET HTTP/1.x`"));
    };
    if !version.starts_with("HTTP/1.") || method.is_empty() {
        return Err(bad("only HTTP/1.x is served"));
    }
    if !target.starts_with('/') || target.bytes().any(|b| b <= b' ' || b == 0x7f) {
        return Err(bad("the target must be a path starting with `/`"));
    }
    for header in lines {
        if header.is_empty() {
            continue;
        }
        match header.split_once(':') {
            Some((name, _)) if !name.is_empty() && !name.contains(' ') => {}
            _ => return Err(bad("a header line is not `Name: value`")),
        }
    }
    if method != "GET" {
        let mut r = Response::error(405, "this server is read-only: GET only");
        r.content_type = "text/plain; charset=utf-8";
        return Err(r);
    }
    let (path, query) = target.split_once('?').unwrap_or((target, ""));
    Ok(Request {
        path: path.to_string(),
        query: query.to_string(),
    })
}

/// Reads a request head from `stream`: the bytes before the first blank line, at most
/// [`MAX_HEAD`], within `deadline`. Err is the answer to send (or None: just close).
fn read_head(stream: &mut TcpStream, deadline: Instant) -> Result<Vec<u8>, Option<Response>> {
    let mut head = Vec::with_capacity(1024);
    let mut buf = [0u8; 2048];
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            return Err(Some(Response::error(408, "the request took too long")));
        }
        // Errors here only shorten the timeout; the read below reports what matters.
        let _ = stream.set_read_timeout(Some(left));
        let n = match stream.read(&mut buf) {
            Ok(0) => return Err(None),
            Ok(n) => n,
            Err(e) if e.kind() == ErrorKind::Interrupted => continue,
            Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => {
                return Err(Some(Response::error(408, "the request took too long")));
            }
            Err(_) => return Err(None),
        };
        let from = head.len().saturating_sub(3);
        head.extend_from_slice(&buf[..n]);
        if let Some(end) = head[from..].windows(4).position(|w| w == b"\r\n\r\n") {
            head.truncate(from + end);
            return Ok(head);
        }
        if head.len() > MAX_HEAD {
            return Err(Some(Response::error(431, "the request head is too long")));
        }
    }
}

/// Writes `r` and closes the connection.
fn send(stream: &mut TcpStream, r: &Response) {
    let mut out = format!(
        "HTTP/1.1 {} {}\r\nContent-Type: {}\r\nContent-Length: {}\r\nConnection: close\r\nCache-Control: no-store\r\nX-Content-Type-Options: nosniff\r\n",
        r.status,
        reason(r.status),
        r.content_type,
        r.body.len()
    );
    if r.status == 405 {
        out.push_str("Allow: GET\r\n");
    }
    out.push_str("\r\n");
    let _ = stream.set_write_timeout(Some(IO_TIMEOUT));
    // A client that went away is no concern of the job's.
    let _ = stream
        .write_all(out.as_bytes())
        .and_then(|()| stream.write_all(&r.body))
        .and_then(|()| stream.flush());
    let _ = stream.shutdown(std::net::Shutdown::Write);
}

/// Answers one connection.
fn answer(mut stream: TcpStream, handler: &Handler) {
    let deadline = Instant::now() + IO_TIMEOUT;
    let response = match read_head(&mut stream, deadline) {
        Err(None) => return,
        Err(Some(r)) => r,
        Ok(head) => match parse(&head) {
            Err(r) => r,
            Ok(req) => catch_unwind(AssertUnwindSafe(|| handler(&req)))
                .unwrap_or_else(|_| Response::error(500, "the handler failed")),
        },
    };
    send(&mut stream, &response);
}

/// Binds a listener on `addr` for [`serve`].
pub(crate) fn bind(addr: SocketAddr) -> std::io::Result<TcpListener> {
    let listener = TcpListener::bind(addr)?;
    listener.set_nonblocking(true)?;
    Ok(listener)
}

/// Serves `listener` with `handler` until `stopping()` (on the calling thread, with
/// [`WORKERS`] worker threads named `name`).
pub(crate) fn serve(
    listener: TcpListener,
    name: &str,
    handler: Handler,
    stopping: impl Fn() -> bool,
) -> std::io::Result<()> {
    let (tx, rx) = crossbeam_channel::bounded::<TcpStream>(QUEUE);
    for _ in 0..WORKERS {
        let (rx, handler): (Receiver<TcpStream>, Handler) = (rx.clone(), handler.clone());
        std::thread::Builder::new()
            .name(name.to_string())
            .spawn(move || {
                for stream in rx.iter() {
                    answer(stream, &handler);
                }
            })?;
    }
    drop(rx);
    let mut listener = mio::net::TcpListener::from_std(listener);
    let mut poll = mio::Poll::new()?;
    poll.registry()
        .register(&mut listener, mio::Token(0), mio::Interest::READABLE)?;
    let mut events = mio::Events::with_capacity(4);
    while !stopping() {
        if let Err(e) = poll.poll(&mut events, Some(ACCEPT_POLL)) {
            if e.kind() == ErrorKind::Interrupted {
                continue;
            }
            return Err(e);
        }
        loop {
            match listener.accept() {
                Ok((stream, _)) => {
                    let stream = TcpStream::from(stream);
                    // Accepted sockets are non-blocking; the workers block with timeouts.
                    if stream.set_nonblocking(false).is_err() {
                        continue;
                    }
                    if let Err(TrySendError::Full(mut s)) = tx.try_send(stream) {
                        send(&mut s, &Response::error(503, "too many connections"));
                    }
                }
                Err(e) if e.kind() == ErrorKind::WouldBlock => break,
                Err(e) if e.kind() == ErrorKind::Interrupted => {}
                // Out of file descriptors and the like: wait, and go on serving.
                Err(_) => {
                    std::thread::sleep(ACCEPT_POLL);
                    break;
                }
            }
        }
    }
    // Dropping `tx` ends the workers once they have answered what is queued.
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_get_requests_and_refuses_the_rest() {
        let req =
            parse(b"GET /api/v1/batches?limit=5&x HTTP/1.1\r\nHost: a\r\nAccept: */*").unwrap();
        assert_eq!(req.path, "/api/v1/batches");
        assert_eq!(req.param("limit"), Some("5"));
        assert_eq!(req.param("x"), Some(""));
        assert_eq!(req.param("y"), None);
        let status = |head: &[u8]| parse(head).err().map(|r| r.status);
        assert_eq!(status(b"POST / HTTP/1.1"), Some(405));
        assert_eq!(status(b"GET / HTTP/1.1\r\nbroken header"), Some(400));
        assert_eq!(status(b"GET /"), Some(400));
        assert_eq!(status(b"GET / SPDY/3"), Some(400));
        assert_eq!(status(b"GET nopath HTTP/1.1"), Some(400));
        assert_eq!(status(b"GET / HTTP/1.1 extra"), Some(400));
        assert_eq!(status(b"\xff\xfe / HTTP/1.1"), Some(400));
        assert_eq!(status(b""), Some(400));
        assert_eq!(status(b"GET / HTTP/1.0"), None);
    }
}
