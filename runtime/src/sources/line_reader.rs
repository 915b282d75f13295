//! Splitting bytes from sockets into `\n`-separated UTF-8 lines: one [`LineSplitter`],
//! used by the one-connection reader below (`socket_text_stream`) and by the listener's
//! multiplexer (`socket_listen_stream`).

use super::SourceStats;
use super::line::LineBlock;
use super::receiver::{BlockSink, POLL};
use std::io::{ErrorKind, Read};
use std::net::TcpStream;
use std::sync::atomic::AtomicUsize;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, OnceLock};
use std::time::Instant;

/// Bytes read from a socket at once.
pub(crate) const READ_BUFFER: usize = 256 * 1024;

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

/// A partial line's buffer larger than this is freed when its line ends, so a client
/// that once sent a long line does not keep its memory while idle.
const KEPT_CAPACITY: usize = 64 * 1024;

/// Splits one connection's bytes into lines. It holds only the start of a line whose
/// end has not arrived, at most `max_len` bytes (and a `\r`): a longer line is counted
/// in [`SourceStats::malformed`] as soon as it is too long, and its bytes are dropped up
/// to its `\n`. A line that is not UTF-8 is counted the same way and skipped; `\r\n`
/// endings are accepted.
pub(crate) struct LineSplitter {
    /// The start of the current line (empty while skipping).
    partial: Vec<u8>,
    /// The current line is too long: drop its bytes up to its `\n`.
    skipping: bool,
    max_len: usize,
    /// The memory every connection of a source may hold in unfinished lines together.
    budget: Option<Arc<PartialBudget>>,
    /// The capacity of `partial` counted in `budget`.
    accounted: usize,
}

/// The bytes the connections of one source hold in lines whose end has not arrived,
/// together: with many clients each sending the start of a long line, the per-line
/// bound alone would let memory grow with the number of clients. A line that would take
/// the total past the limit is skipped and counted as malformed, as a too-long line is.
#[derive(Debug)]
pub(crate) struct PartialBudget {
    used: AtomicUsize,
    limit: usize,
}

impl PartialBudget {
    /// A budget of `limit` bytes.
    pub(crate) fn new(limit: usize) -> Arc<PartialBudget> {
        Arc::new(PartialBudget {
            used: AtomicUsize::new(0),
            limit,
        })
    }

    /// Bytes held now.
    #[cfg(test)]
    pub(crate) fn used(&self) -> usize {
        self.used.load(Ordering::Relaxed)
    }
}

impl LineSplitter {
    /// A splitter keeping lines of at most `max_len` bytes, not counting `\r\n`.
    pub(crate) fn new(max_len: usize) -> Self {
        LineSplitter {
            partial: Vec::new(),
            skipping: false,
            max_len,
            budget: None,
            accounted: 0,
        }
    }

    /// The same splitter, its unfinished line counted in `budget`.
    pub(crate) fn with_budget(mut self, budget: Arc<PartialBudget>) -> Self {
        self.budget = Some(budget);
        self
    }

    /// Counts the capacity `partial` has now in the budget.
    fn account(&mut self) {
        let cap = self.partial.capacity();
        if let Some(b) = &self.budget {
            if cap > self.accounted {
                b.used.fetch_add(cap - self.accounted, Ordering::Relaxed);
            } else {
                b.used.fetch_sub(self.accounted - cap, Ordering::Relaxed);
            }
        }
        self.accounted = cap;
    }

    /// Whether `partial` may grow to `capacity` within the budget.
    fn affordable(&self, capacity: usize) -> bool {
        self.budget
            .as_ref()
            .is_none_or(|b| b.used.load(Ordering::Relaxed) - self.accounted + capacity <= b.limit)
    }

    /// The most bytes the start of a line may take before it is known to be too long
    /// (the line and a `\r` whose `\n` has not arrived yet).
    fn max_partial(&self) -> usize {
        self.max_len.saturating_add(1)
    }

    /// Appends the lines that end in `chunk` to `block`, stopping once `block` holds
    /// `max_lines` lines; returns how many bytes of `chunk` it used (all of them unless
    /// the block filled up first: hand the block over and feed the rest).
    pub(crate) fn feed(
        &mut self,
        chunk: &[u8],
        block: &mut LineBlock,
        max_lines: usize,
        stats: &SourceStats,
    ) -> usize {
        let mut used = 0;
        while used < chunk.len() && block.len() < max_lines {
            if !self.skipping && self.partial.is_empty() {
                let n = self.feed_valid(&chunk[used..], block, max_lines, stats);
                used += n;
                if n > 0 {
                    continue;
                }
            }
            let rest = &chunk[used..];
            let Some(end) = find_newline(rest) else {
                used = chunk.len();
                if !self.skipping
                    && (self.partial.len() + rest.len() > self.max_partial()
                        || !self.append_partial(rest))
                {
                    self.start_skipping(self.partial.len() + rest.len(), stats);
                }
                break;
            };
            used += end + 1;
            let line = &rest[..end];
            if self.skipping {
                // The too-long line ends here; it was counted when it became too long.
                self.skipping = false;
            } else if self.partial.is_empty() {
                let expect = ahead(chunk.len() - used, max_lines - block.len(), line.len());
                self.push_line(line, block, expect, stats);
            } else if self.partial.len() + line.len() > self.max_partial() {
                self.over_long(self.partial.len() + line.len(), stats);
                self.reset_partial();
            } else {
                if self.append_partial(line) {
                    let expect = ahead(
                        chunk.len() - used,
                        max_lines - block.len(),
                        self.partial.len(),
                    );
                    self.push_line(&self.partial, block, expect, stats);
                } else {
                    self.over_long(self.partial.len() + line.len(), stats);
                }
                self.reset_partial();
            }
        }
        used
    }

    /// The fast path of [`feed`](Self::feed), between lines: the complete lines at the
    /// start of `rest` that are valid UTF-8, validated together (up to
    /// [`VALIDATE_AHEAD`] bytes at once) rather than line by line. Returns the bytes it
    /// used: 0 when the first line is not complete within them or not UTF-8, which the
    /// line-by-line path then takes.
    fn feed_valid(
        &self,
        rest: &[u8],
        block: &mut LineBlock,
        max_lines: usize,
        stats: &SourceStats,
    ) -> usize {
        let window = &rest[..rest.len().min(VALIDATE_AHEAD)];
        let text = match std::str::from_utf8(window) {
            Ok(text) => text,
            Err(e) => std::str::from_utf8(&window[..e.valid_up_to()]).unwrap_or_default(),
        };
        let mut at = 0;
        let mut ends = memchr::memchr_iter(b'\n', text.as_bytes());
        while block.len() < max_lines {
            let Some(end) = ends.next() else {
                break;
            };
            let line = text.get(at..end).unwrap_or_default();
            at = end + 1;
            let line = line.strip_suffix('\r').unwrap_or(line);
            if line.len() > self.max_len {
                self.over_long(line.len(), stats);
                continue;
            }
            let expect = ahead(rest.len() - at, max_lines - block.len(), line.len());
            block.push(line, expect);
        }
        at
    }

    /// The connection closed: a last line without `\n` is kept.
    pub(crate) fn finish(&mut self, block: &mut LineBlock, stats: &SourceStats) {
        if !self.skipping && !self.partial.is_empty() {
            self.push_line(&self.partial, block, 0, stats);
        }
        self.partial = Vec::new();
        self.skipping = false;
        self.account();
    }

    /// Appends a complete line to `block` (its text copied into the block's shared
    /// buffer, `expect` more bytes likely to follow), or counts it as malformed.
    fn push_line(&self, bytes: &[u8], block: &mut LineBlock, expect: usize, stats: &SourceStats) {
        let bytes = bytes.strip_suffix(b"\r").unwrap_or(bytes);
        if bytes.len() > self.max_len {
            self.over_long(bytes.len(), stats);
            return;
        }
        match std::str::from_utf8(bytes) {
            Ok(s) => block.push(s, expect),
            Err(_) => {
                stats.malformed();
                static NOT_UTF8: LogLimit = LogLimit::new();
                if let Some(suppressed) = NOT_UTF8.allow() {
                    tracing::warn!(
                        bytes = bytes.len(),
                        suppressed,
                        "skipping a line that is not UTF-8"
                    );
                }
            }
        }
    }

    /// Grows the partial line by `bytes`, never past the most it may hold.
    /// Appends `bytes` to the unfinished line; false (nothing appended) if its buffer
    /// cannot grow within the source's budget.
    fn append_partial(&mut self, bytes: &[u8]) -> bool {
        let need = self.partial.len() + bytes.len();
        if need > self.partial.capacity() {
            let doubled = need
                .max(2 * self.partial.capacity())
                .min(self.max_partial())
                .max(need);
            // Grow by doubling where the budget allows, else by exactly what is needed.
            let target = if self.affordable(doubled) {
                doubled
            } else if self.affordable(need) {
                need
            } else {
                return false;
            };
            self.partial.reserve_exact(target - self.partial.len());
            self.account();
        }
        self.partial.extend_from_slice(bytes);
        true
    }

    fn reset_partial(&mut self) {
        if self.partial.capacity() > KEPT_CAPACITY {
            self.partial = Vec::new();
        } else {
            self.partial.clear();
        }
        self.account();
    }

    fn start_skipping(&mut self, seen: usize, stats: &SourceStats) {
        self.over_long(seen, stats);
        self.partial = Vec::new();
        self.skipping = true;
        self.account();
    }

    fn over_long(&self, seen: usize, stats: &SourceStats) {
        stats.malformed();
        static OVER_LONG: LogLimit = LogLimit::new();
        if let Some(suppressed) = OVER_LONG.allow() {
            tracing::warn!(
                max_line_length = self.max_len,
                seen_bytes = seen,
                suppressed,
                "skipping a line longer than the maximum line length"
            );
        }
    }
}

impl Drop for LineSplitter {
    fn drop(&mut self) {
        self.partial = Vec::new();
        self.account();
    }
}

/// Bytes validated as UTF-8 at once by the fast path of [`LineSplitter::feed`]: a
/// block's worth of lines, so a chunk is not validated again each time a block fills.
const VALIDATE_AHEAD: usize = 64 * 1024;

/// The text a block will likely take after a line of `len` bytes: what is left of the
/// chunk, but no more than the lines the block still has room for, at about that
/// length each.
fn ahead(left_in_chunk: usize, lines_left: usize, len: usize) -> usize {
    left_in_chunk.min(lines_left.saturating_mul(len + 2))
}

/// The position of the first `\n` in `bytes` (vectorised, and optimised in test builds
/// too, where a plain `iter().position` would scan a skipped 1 GiB line a byte at a
/// time).
fn find_newline(bytes: &[u8]) -> Option<usize> {
    memchr::memchr(b'\n', bytes)
}

/// Lets a warning through at most once a second, counting the ones held back (logged
/// as `suppressed` with the next), so a hostile client cannot flood the log.
pub(crate) struct LogLimit {
    /// Milliseconds since [`epoch`] before which nothing is logged.
    next_ms: AtomicU64,
    held_back: AtomicU64,
}

impl LogLimit {
    pub(crate) const fn new() -> Self {
        LogLimit {
            next_ms: AtomicU64::new(0),
            held_back: AtomicU64::new(0),
        }
    }

    /// `Some(warnings held back since the last one)` if a warning may be logged now.
    pub(crate) fn allow(&self) -> Option<u64> {
        static EPOCH: OnceLock<Instant> = OnceLock::new();
        let now = EPOCH.get_or_init(Instant::now).elapsed().as_millis() as u64;
        let next = self.next_ms.load(Ordering::Relaxed);
        if now >= next
            && self
                .next_ms
                .compare_exchange(next, now + 1000, Ordering::Relaxed, Ordering::Relaxed)
                .is_ok()
        {
            return Some(self.held_back.swap(0, Ordering::Relaxed));
        }
        self.held_back.fetch_add(1, Ordering::Relaxed);
        None
    }
}

/// Reads lines from `stream` into `out` until EOF, an error, or `stop`, one block per
/// read from the socket (see [`LineSplitter`] for what is kept). A last line without
/// `\n` before EOF is kept.
pub(crate) fn read_lines(
    mut stream: TcpStream,
    out: &BlockSink,
    stop: &AtomicBool,
    stats: &SourceStats,
    max_line_length: usize,
) -> ReadEnd {
    if let Err(e) = stream.set_read_timeout(Some(POLL)) {
        return ReadEnd::Failed(e.to_string());
    }
    let mut buf = vec![0u8; READ_BUFFER];
    let mut lines = LineSplitter::new(max_line_length);
    let mut block = LineBlock::default();
    loop {
        if stop.load(Ordering::Relaxed) {
            return ReadEnd::Stopped;
        }
        let n = match stream.read(&mut buf) {
            Ok(n) => n,
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
        if n == 0 {
            lines.finish(&mut block, stats);
            return match out.hand_over(block.finish(), stop) {
                true => ReadEnd::Closed,
                false => ReadEnd::Stopped,
            };
        }
        if !feed_all(&mut lines, &buf[..n], &mut block, out, stop, stats) {
            return ReadEnd::Stopped;
        }
        if !out.hand_over(block.finish(), stop) {
            return ReadEnd::Stopped;
        }
    }
}

/// Feeds all of `chunk` to `lines`, handing `block` over whenever it is full (bounded
/// blocks keep a rate limit smooth); false if the source stopped meanwhile.
pub(crate) fn feed_all(
    lines: &mut LineSplitter,
    mut chunk: &[u8],
    block: &mut LineBlock,
    out: &BlockSink,
    stop: &AtomicBool,
    stats: &SourceStats,
) -> bool {
    loop {
        let max = out.max_block_lines();
        let used = lines.feed(chunk, block, max, stats);
        chunk = &chunk[used..];
        if block.len() >= max && !out.hand_over(block.finish(), stop) {
            return false;
        }
        if chunk.is_empty() {
            return true;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sources::receiver::block_channel;
    use std::io::Write;
    use std::net::TcpListener;
    use std::time::Duration;

    #[test]
    fn unfinished_lines_of_all_connections_share_one_budget() {
        let stats = SourceStats::default();
        let budget = PartialBudget::new(100);
        let mut a = LineSplitter::new(1000).with_budget(budget.clone());
        let mut b = LineSplitter::new(1000).with_budget(budget.clone());
        let mut block = LineBlock::default();
        a.feed(&[b'a'; 80], &mut block, 100, &stats);
        assert_eq!(budget.used(), 80);
        // The second connection's unfinished line would take the total past 100 bytes:
        // it is skipped to its newline and counted, and the connection goes on.
        b.feed(&[b'b'; 50], &mut block, 100, &stats);
        b.feed(b"bb\nok\n", &mut block, 100, &stats);
        assert_eq!(stats.malformed_count(), 1);
        a.feed(b"a\n", &mut block, 100, &stats);
        assert_eq!(block.finish(), vec!["ok".to_string(), "a".repeat(81)]);
        drop(a);
        drop(b);
        assert_eq!(
            budget.used(),
            0,
            "dropped connections give their bytes back"
        );
    }

    /// Feeds `chunks` to a splitter of `max_len`, then closes: the lines and the
    /// malformed count.
    fn split(max_len: usize, chunks: &[&[u8]]) -> (Vec<String>, u64) {
        let stats = SourceStats::default();
        let mut s = LineSplitter::new(max_len);
        let mut block = LineBlock::default();
        for c in chunks {
            assert_eq!(s.feed(c, &mut block, usize::MAX, &stats), c.len());
            assert!(s.partial.len() <= max_len + 1);
        }
        s.finish(&mut block, &stats);
        let lines = block.finish().into_iter().map(String::from).collect();
        (lines, stats.malformed_count())
    }

    #[test]
    fn splits_lines_accepts_crlf_keeps_last_partial_line() {
        let (lines, bad) = split(100, &[b"a b\r\nc", b"d\n\nlast"]);
        assert_eq!(lines, vec!["a b", "cd", "", "last"]);
        assert_eq!(bad, 0);
        let (lines, _) = split(100, &[b"x\r", b"\ny\r\n"]);
        assert_eq!(lines, vec!["x", "y"]);
    }

    #[test]
    fn skips_and_counts_lines_that_are_not_utf8() {
        let (lines, bad) = split(100, &[b"ok\nbad \xff\xfe\n", b"\xc3", b"\xa9t\n\xe9\nend"]);
        assert_eq!(lines, vec!["ok", "\u{e9}t", "end"]);
        assert_eq!(bad, 2);
    }

    #[test]
    fn an_over_long_line_is_counted_and_skipped_and_the_next_lines_are_intact() {
        let long = vec![b'x'; 11];
        let mut chunk = b"short\n".to_vec();
        chunk.extend_from_slice(&long);
        chunk.extend_from_slice(b"\nafter\n");
        let (lines, bad) = split(10, &[&chunk]);
        assert_eq!(lines, vec!["short", "after"]);
        assert_eq!(bad, 1);
        // Exactly the maximum is kept, with or without `\r`.
        let (lines, bad) = split(5, &[b"12345\n12345\r\n123456\r\n"]);
        assert_eq!(lines, vec!["12345", "12345"]);
        assert_eq!(bad, 1);
    }

    #[test]
    fn an_over_long_line_across_many_chunks_is_skipped_with_nothing_buffered() {
        let stats = SourceStats::default();
        let mut s = LineSplitter::new(1000);
        let mut block = LineBlock::default();
        s.feed(
            b"first\nstart of a long line ",
            &mut block,
            usize::MAX,
            &stats,
        );
        let piece = vec![b'y'; 300];
        for _ in 0..10_000 {
            s.feed(&piece, &mut block, usize::MAX, &stats);
            assert!(s.partial.capacity() <= 1001);
        }
        assert!(s.skipping);
        assert_eq!(
            s.partial.capacity(),
            0,
            "nothing is buffered while skipping"
        );
        assert_eq!(
            stats.malformed_count(),
            1,
            "counted once, when it became too long"
        );
        s.feed(b"end of it\nnext\npart", &mut block, usize::MAX, &stats);
        s.finish(&mut block, &stats);
        assert_eq!(block.finish(), vec!["first", "next", "part"]);
        assert_eq!(stats.malformed_count(), 1);
    }

    #[test]
    fn an_over_long_line_without_newline_before_close_is_dropped() {
        let (lines, bad) = split(4, &[b"ok\n", b"abc", b"de"]);
        assert_eq!(lines, vec!["ok"]);
        assert_eq!(bad, 1);
        let (lines, bad) = split(4, &[b"ok\n", b"abcde"]);
        assert_eq!(lines, vec!["ok"]);
        assert_eq!(bad, 1);
    }

    #[test]
    fn feed_stops_when_the_block_is_full() {
        let stats = SourceStats::default();
        let mut s = LineSplitter::new(100);
        let mut block = LineBlock::default();
        let chunk = b"a\nb\nc\nd";
        let used = s.feed(chunk, &mut block, 2, &stats);
        assert_eq!((used, block.len()), (4, 2));
        block.finish();
        let used2 = s.feed(&chunk[used..], &mut block, 2, &stats);
        assert_eq!(used + used2, chunk.len());
        s.finish(&mut block, &stats);
        assert_eq!(block.finish(), vec!["c", "d"]);
    }

    #[test]
    fn a_large_chunk_fills_block_after_block_with_every_line_in_order() {
        let stats = SourceStats::default();
        let mut s = LineSplitter::new(12);
        let mut chunk = Vec::new();
        let mut want = Vec::new();
        for i in 0..100_000 {
            match i % 1000 {
                // Over-long, not UTF-8, CRLF: counted twice per thousand lines, one kept.
                0 => chunk.extend_from_slice(b"much too long a line\n"),
                1 => chunk.extend_from_slice(b"bad \xff\n"),
                2 => {
                    chunk.extend_from_slice(b"crlf\r\n");
                    want.push("crlf".to_string());
                }
                _ => {
                    let line = format!("l{i}");
                    chunk.extend_from_slice(line.as_bytes());
                    chunk.push(b'\n');
                    want.push(line);
                }
            }
        }
        let mut got = Vec::new();
        let mut block = LineBlock::default();
        let mut rest = &chunk[..];
        while !rest.is_empty() {
            let used = s.feed(rest, &mut block, 777, &stats);
            assert!(block.len() <= 777);
            rest = &rest[used..];
            got.extend(block.finish().into_iter().map(String::from));
        }
        assert_eq!(got, want);
        assert_eq!(stats.malformed_count(), 200);
    }

    #[test]
    fn log_limit_lets_one_warning_through_and_counts_the_rest() {
        let l = LogLimit::new();
        assert_eq!(l.allow(), Some(0));
        assert_eq!(l.allow(), None);
        assert_eq!(l.allow(), None);
        assert_eq!(l.held_back.load(Ordering::Relaxed), 2);
    }

    #[test]
    fn reads_lines_skips_malformed_keeps_last_partial_line() {
        let l = TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = l.local_addr().unwrap();
        let writer = std::thread::spawn(move || {
            let mut s = TcpStream::connect(addr).unwrap();
            s.write_all(b"hello world\r\nbad \xff\xfe line\n").unwrap();
            std::thread::sleep(Duration::from_millis(120));
            s.write_all(b"second\nmuch too long a line\nlast").unwrap();
        });
        let (conn, _) = l.accept().unwrap();
        let (tx, rx) = block_channel();
        let stats = SourceStats::default();
        let end = read_lines(
            conn,
            &BlockSink::new(tx),
            &AtomicBool::new(false),
            &stats,
            12,
        );
        writer.join().unwrap();
        assert_eq!(end, ReadEnd::Closed);
        let lines: Vec<String> = rx
            .try_iter()
            .flat_map(|(_, b)| b)
            .map(String::from)
            .collect();
        assert_eq!(lines, vec!["hello world", "second", "last"]);
        assert_eq!(stats.malformed_count(), 2);
    }
}
