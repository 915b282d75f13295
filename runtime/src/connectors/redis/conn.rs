//! Connections to one Redis server, shared by the threads of a source or a sink: a
//! command runs on an idle connection (or a new one), and a dropped connection is
//! replaced and the command retried a few times with a short backoff before it fails.

use crate::sync::lock;
use crate::{Error, Result};
use std::sync::Mutex;
use std::time::Duration;

/// Retries of a command whose connection dropped, after the first attempt.
const RETRIES: u32 = 3;
/// The wait before the first retry; it doubles with every retry (100, 200, 400 ms).
const BACKOFF: Duration = Duration::from_millis(100);
/// How long connecting, reading a reply and writing a command may take.
const TIMEOUT: Duration = Duration::from_secs(30);

/// A pool of connections to the server at one URL.
pub(crate) struct Conns {
    /// The client, or why the URL is invalid (reported by every command).
    client: std::result::Result<::redis::Client, String>,
    idle: Mutex<Vec<::redis::Connection>>,
}

/// Whether a new connection may succeed where this one failed.
fn transient(e: &::redis::RedisError) -> bool {
    e.is_io_error() || e.is_connection_dropped() || e.is_connection_refusal() || e.is_timeout()
}

/// A Redis error as rill's: an I/O error saying what was being done.
pub(crate) fn error(what: &str, e: ::redis::RedisError) -> Error {
    let kind = if e.is_connection_refusal() {
        std::io::ErrorKind::ConnectionRefused
    } else if e.is_timeout() {
        std::io::ErrorKind::TimedOut
    } else if transient(&e) {
        std::io::ErrorKind::ConnectionAborted
    } else {
        std::io::ErrorKind::Other
    };
    Error::io(format!("redis: {what}"), std::io::Error::new(kind, e))
}

impl Conns {
    /// Connections to `url` (`redis://host:port[/db]`); none is opened yet.
    pub(crate) fn new(url: &str) -> Conns {
        let client =
            ::redis::Client::open(url).map_err(|e| format!("invalid Redis URL {url:?}: {e}"));
        Conns {
            client,
            idle: Mutex::new(Vec::new()),
        }
    }

    /// Whether the URL is valid.
    pub(crate) fn check(&self) -> Result<()> {
        self.client
            .as_ref()
            .map(|_| ())
            .map_err(|e| Error::Config(e.clone()))
    }

    fn client(&self) -> Result<&::redis::Client> {
        self.client.as_ref().map_err(|e| Error::Config(e.clone()))
    }

    fn connect(&self) -> ::redis::RedisResult<::redis::Connection> {
        let Ok(client) = &self.client else {
            unreachable!("run checks the URL first");
        };
        let conn = client.get_connection_with_timeout(TIMEOUT)?;
        conn.set_read_timeout(Some(TIMEOUT))?;
        conn.set_write_timeout(Some(TIMEOUT))?;
        Ok(conn)
    }

    /// Runs `f` on a connection; `what` names it in errors. A connection that dropped
    /// is replaced and `f` run again, up to [`RETRIES`] times.
    pub(crate) fn run<R>(
        &self,
        what: impl Fn() -> String,
        f: impl Fn(&mut ::redis::Connection) -> ::redis::RedisResult<R>,
    ) -> Result<R> {
        self.client()?;
        let mut attempt = 0;
        loop {
            let idle = lock(&self.idle).pop();
            let result = match idle.map_or_else(|| self.connect(), Ok) {
                Ok(mut conn) => {
                    let r = f(&mut conn);
                    match &r {
                        // The server went away: the idle connections are dead too.
                        Err(e) if transient(e) => lock(&self.idle).clear(),
                        _ => lock(&self.idle).push(conn),
                    }
                    r
                }
                Err(e) => Err(e),
            };
            match result {
                Ok(r) => return Ok(r),
                Err(e) if transient(&e) && attempt < RETRIES => {
                    let wait = BACKOFF * 2u32.pow(attempt);
                    tracing::warn!(error = %e, retry_in_ms = wait.as_millis() as u64, "redis: {}; reconnecting", what());
                    std::thread::sleep(wait);
                    attempt += 1;
                }
                Err(e) => return Err(error(&what(), e)),
            }
        }
    }
}
