//! Reading `\n`-separated UTF-8 lines from a socket until it closes or the source stops.

use super::SourceStats;
use super::receiver::BlockSink;
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

/// Lines read together, handed to the scheduler as one block.
pub(crate) type Block = Vec<String>;

/// How many blocks a receiver may buffer before it stops reading (so TCP pushes back on
/// the sender instead of memory growing without bound).
pub(crate) const BUFFERED_BLOCKS: usize = 512;

/// Most lines in one block.
pub(crate) const MAX_BLOCK_LINES: usize = 1024;

/// The channel a receiver hands its numbered blocks through.
pub(crate) fn block_channel() -> (
    Sender<(u64, Block)>,
    crossbeam_channel::Receiver<(u64, Block)>,
) {
    crossbeam_channel::bounded(BUFFERED_BLOCKS)
}

/// Reads lines from `stream` into `out` until EOF, an error, or `stop`, one block per
/// read from the socket. A line that is not UTF-8 is counted in `stats`, logged and
/// skipped; `\r\n` endings are accepted. A last line without `\n` before EOF is kept.
pub(crate) fn read_lines(
    stream: TcpStream,
    out: &BlockSink,
    stop: &AtomicBool,
    stats: &SourceStats,
) -> ReadEnd {
    if let Err(e) = stream.set_read_timeout(Some(POLL)) {
        return ReadEnd::Failed(e.to_string());
    }
    let mut reader = BufReader::with_capacity(256 * 1024, stream);
    // The start of a line whose end has not arrived yet.
    let mut partial: Vec<u8> = Vec::new();
    loop {
        if stop.load(Ordering::Relaxed) {
            return ReadEnd::Stopped;
        }
        let chunk = match reader.fill_buf() {
            Ok(c) => c,
            Err(e)
                if matches!(
                    e.kind(),
                    ErrorKind::WouldBlock | ErrorKind::TimedOut | ErrorKind::Interrupted
                ) =>
            {
                continue;
            }
            Err(e) => return ReadEnd::Failed(e.to_string()),
        };
        if chunk.is_empty() {
            let mut block = Vec::new();
            if !partial.is_empty() {
                push_line(&partial, &mut block, stats);
            }
            return match out.hand_over(block, stop) {
                true => ReadEnd::Closed,
                false => ReadEnd::Stopped,
            };
        }
        let mut block = Vec::with_capacity((chunk.len() / 32).min(MAX_BLOCK_LINES));
        let mut rest = chunk;
        while let Some(end) = rest.iter().position(|b| *b == b'\n') {
            if partial.is_empty() {
                push_line(&rest[..end], &mut block, stats);
            } else {
                partial.extend_from_slice(&rest[..end]);
                push_line(&partial, &mut block, stats);
                partial.clear();
            }
            rest = &rest[end + 1..];
            // Bounded blocks keep a rate limit smooth.
            if block.len() >= out.max_block_lines()
                && !out.hand_over(std::mem::take(&mut block), stop)
            {
                return ReadEnd::Stopped;
            }
        }
        partial.extend_from_slice(rest);
        let consumed = chunk.len();
        reader.consume(consumed);
        if !out.hand_over(block, stop) {
            return ReadEnd::Stopped;
        }
    }
}

fn push_line(bytes: &[u8], block: &mut Block, stats: &SourceStats) {
    let bytes = bytes.strip_suffix(b"\r").unwrap_or(bytes);
    match std::str::from_utf8(bytes) {
        Ok(s) => block.push(s.to_owned()),
        Err(_) => {
            stats.malformed();
            tracing::warn!(bytes = bytes.len(), "skipping a line that is not UTF-8");
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
        let (tx, rx) = block_channel();
        let stats = SourceStats::default();
        let end = read_lines(conn, &BlockSink::new(tx), &AtomicBool::new(false), &stats);
        writer.join().unwrap();
        assert_eq!(end, ReadEnd::Closed);
        let lines: Vec<String> = rx.try_iter().flat_map(|(_, b)| b).collect();
        assert_eq!(lines, vec!["hello world", "second", "last"]);
        assert_eq!(stats.malformed_count(), 1);
    }
}
