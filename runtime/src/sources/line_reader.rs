//! Reading `\n`-separated UTF-8 lines from a socket until it closes or the source stops.

use super::SourceStats;
use crossbeam_channel::Sender;
use std::io::{BufRead, BufReader, ErrorKind};
use std::net::TcpStream;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

/// How often a blocked read wakes up to check whether the source was stopped.
pub(crate) const POLL: Duration = Duration::from_millis(50);

/// Why reading stopped.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum ReadEnd {
    /// The peer closed the connection.
    Closed,
    /// The source was stopped.
    Stopped,
    /// The connection failed.
    Failed(String),
}

/// Reads lines from `stream` into `out` until EOF, an error, or `stop`. A line that is not
/// UTF-8 is counted in `stats`, logged and skipped; `\r\n` endings are accepted. A last
/// line without `\n` before EOF is kept.
pub(crate) fn read_lines(
    stream: TcpStream,
    out: &Sender<String>,
    stop: &AtomicBool,
    stats: &SourceStats,
) -> ReadEnd {
    if let Err(e) = stream.set_read_timeout(Some(POLL)) {
        return ReadEnd::Failed(e.to_string());
    }
    let mut reader = BufReader::with_capacity(64 * 1024, stream);
    let mut buf = Vec::with_capacity(256);
    loop {
        if stop.load(Ordering::Relaxed) {
            return ReadEnd::Stopped;
        }
        match reader.read_until(b'\n', &mut buf) {
            Ok(0) => {
                if !buf.is_empty() {
                    emit(&mut buf, out, stats);
                }
                return ReadEnd::Closed;
            }
            Ok(_) => {
                if buf.last() == Some(&b'\n') {
                    emit(&mut buf, out, stats);
                }
            }
            Err(e)
                if matches!(
                    e.kind(),
                    ErrorKind::WouldBlock | ErrorKind::TimedOut | ErrorKind::Interrupted
                ) => {}
            Err(e) => return ReadEnd::Failed(e.to_string()),
        }
    }
}

fn emit(buf: &mut Vec<u8>, out: &Sender<String>, stats: &SourceStats) {
    let mut line = std::mem::take(buf);
    if line.last() == Some(&b'\n') {
        line.pop();
        if line.last() == Some(&b'\r') {
            line.pop();
        }
    }
    match String::from_utf8(line) {
        Ok(s) => {
            // The receiving side lives as long as the context; a send error means it is
            // shutting down and the line has nowhere to go.
            let _ = out.send(s);
        }
        Err(e) => {
            stats.malformed();
            tracing::warn!(
                bytes = e.as_bytes().len(),
                "skipping a line that is not UTF-8"
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;
    use std::net::TcpListener;

    #[test]
    fn reads_lines_skips_malformed_keeps_last_partial_line() {
        let l = TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = l.local_addr().unwrap();
        let writer = std::thread::spawn(move || {
            let mut s = TcpStream::connect(addr).unwrap();
            s.write_all(b"hello world\r\nbad \xff\xfe line\n").unwrap();
            std::thread::sleep(Duration::from_millis(120));
            s.write_all(b"second\nlast").unwrap();
        });
        let (conn, _) = l.accept().unwrap();
        let (tx, rx) = crossbeam_channel::unbounded();
        let stats = SourceStats::default();
        let end = read_lines(conn, &tx, &AtomicBool::new(false), &stats);
        writer.join().unwrap();
        assert_eq!(end, ReadEnd::Closed);
        let lines: Vec<String> = rx.try_iter().collect();
        assert_eq!(lines, vec!["hello world", "second", "last"]);
        assert_eq!(stats.malformed_count(), 1);
    }
}
