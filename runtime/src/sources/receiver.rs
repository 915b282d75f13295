//! What every receiver source shares: the bounded buffer of blocks, the slot the
//! scheduler cuts them into, the stop flag, the receiving thread, and the optional
//! write-ahead log that makes received lines survive a crash.

use super::line::{Line, lines_of};
use super::{Slot, SourceStats};
use crate::Time;
use crate::backpressure::RateLimiter;
use crate::checkpoint::store::{from_bytes, to_bytes};
use crate::checkpoint::wal::{Wal, WalBlock};
use crate::sync::lock;
use crossbeam_channel::{Receiver, SendTimeoutError, Sender};
use std::collections::VecDeque;
use std::path::Path;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::Duration;

/// How often a blocked read wakes up to check whether the source was stopped.
pub(crate) const POLL: Duration = Duration::from_millis(50);

/// How often a receiver whose buffer is full looks for room.
const FULL_POLL: Duration = Duration::from_millis(2);

/// Lines read together, handed to the scheduler as one block (sharing one buffer of
/// text when a socket read them).
pub(crate) type Block = Vec<Line>;

/// The slot a receiver cuts its blocks into: lines as they were received (the socket
/// sources in `stream!`), or each made a `String` (a user's `Receiver`, a socket source
/// boxed as a `Source<String>`).
#[derive(Clone)]
pub(crate) enum Out {
    /// Lines sharing the blocks' buffers.
    Lines(Arc<Slot<Line>>),
    /// Owned strings.
    Strings(Arc<Slot<String>>),
}

impl Out {
    /// Files the first `n` of `lines` as the block of `time`.
    fn put(&self, time: Time, n: usize, lines: impl Iterator<Item = Line>) -> usize {
        match self {
            Out::Lines(slot) => slot.put_iter(time, n, lines),
            Out::Strings(slot) => slot.put_iter(time, n, lines.map(Line::into_string)),
        }
    }
}

/// How many blocks a receiver may buffer before it stops reading (so TCP pushes back on
/// the sender instead of memory growing without bound).
pub(crate) const BUFFERED_BLOCKS: usize = 512;

/// Most lines in one block.
pub(crate) const MAX_BLOCK_LINES: usize = 1024;

/// The channel a receiver hands its numbered blocks through.
pub(crate) fn block_channel() -> (Sender<(u64, Block)>, Receiver<(u64, Block)>) {
    crossbeam_channel::bounded(BUFFERED_BLOCKS)
}

/// Limits that keep a receiver's memory bounded whatever its clients send (set by the
/// builder's `max_line_length` and `max_clients`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ReceiverLimits {
    /// Longest line kept, in bytes (not counting `\r\n`); a longer one is skipped.
    pub max_line_length: usize,
    /// Most clients a listening source serves at once; more are refused.
    pub max_clients: usize,
}

impl ReceiverLimits {
    /// The default maximum line length: 1 MiB.
    pub const MAX_LINE_LENGTH: usize = 1024 * 1024;
    /// The default maximum number of clients of a listening source.
    pub const MAX_CLIENTS: usize = 16 * 1024;
}

impl Default for ReceiverLimits {
    fn default() -> Self {
        ReceiverLimits {
            max_line_length: Self::MAX_LINE_LENGTH,
            max_clients: Self::MAX_CLIENTS,
        }
    }
}

/// Where a receiving thread hands its blocks: numbered, logged first when the
/// write-ahead log is on, then queued for the scheduler.
#[derive(Clone)]
pub(crate) struct BlockSink {
    tx: Sender<(u64, Block)>,
    wal: Arc<Mutex<Option<Wal>>>,
    seq: Arc<AtomicU64>,
    limiter: Arc<RateLimiter>,
    /// The first failure of the receiver, which stops the context at the next cut.
    failure: Arc<Mutex<Option<crate::Error>>>,
    /// Records handed over so far (for the streaming UI's receiver rates).
    received: Arc<AtomicU64>,
}

impl BlockSink {
    /// A sink without a log, numbering from 0.
    pub(crate) fn new(tx: Sender<(u64, Block)>) -> Self {
        BlockSink {
            tx,
            wal: Arc::new(Mutex::new(None)),
            seq: Arc::new(AtomicU64::new(0)),
            limiter: Arc::new(RateLimiter::new(0)),
            failure: Arc::new(Mutex::new(None)),
            received: Arc::new(AtomicU64::new(0)),
        }
    }

    /// Records a failure of the receiver: the context stops with it.
    pub(crate) fn fail(&self, e: crate::Error) {
        tracing::error!(error = %e, "a receiver failed; the streaming context stops");
        lock(&self.failure).get_or_insert(e);
    }

    /// The most lines a block may hold: [`MAX_BLOCK_LINES`], or what 50 ms take at a
    /// limited rate, so even a low rate hands over lines every batch and backpressure
    /// keeps learning.
    pub(crate) fn max_block_lines(&self) -> usize {
        match self.limiter.rate() {
            0 => MAX_BLOCK_LINES,
            rate => ((rate / 20) as usize).clamp(1, MAX_BLOCK_LINES),
        }
    }

    /// Logs (if on) and queues a non-empty block, waiting while the buffer is full;
    /// false if the source stopped meanwhile or the block could not be logged.
    pub(crate) fn hand_over(&self, block: Block, stop: &AtomicBool) -> bool {
        if block.is_empty() {
            return true;
        }
        if crate::fault::fires("receiver") {
            panic!("injected fault: the receiver panics");
        }
        // At a limited rate the receiver waits here, reads nothing meanwhile, and TCP
        // pushes back on the sender.
        let mut wait = self.limiter.delay_for(block.len());
        while !wait.is_zero() {
            if stop.load(Ordering::Relaxed) {
                return false;
            }
            let step = wait.min(POLL);
            std::thread::sleep(step);
            wait -= step;
        }
        // Wait for room before taking the log's lock: a receiver must not hold it while
        // the buffer is full, or the clock (which reads whether the log is on as it logs a
        // cut) and a checkpoint's truncation of the log would wait on a receiver that
        // waits for them. A receiver has one thread, so the room is still there below.
        while self.tx.is_full() {
            if stop.load(Ordering::Relaxed) {
                return false;
            }
            std::thread::sleep(FULL_POLL);
        }
        // The lock keeps sequence numbers in queue order.
        let mut wal = lock(&self.wal);
        let seq = match wal.as_mut() {
            Some(w) => match w.append_lines(&block) {
                Ok(seq) => seq,
                Err(e) => {
                    // The block is not logged, so it must not enter a batch: the job
                    // stops with the error rather than lose it silently after a crash.
                    self.fail(e);
                    return false;
                }
            },
            None => self.seq.fetch_add(1, Ordering::Relaxed),
        };
        let lines = block.len() as u64;
        let mut item = (seq, block);
        loop {
            match self.tx.send_timeout(item, POLL) {
                Ok(()) => {
                    self.received.fetch_add(lines, Ordering::Relaxed);
                    return true;
                }
                Err(SendTimeoutError::Timeout(b)) => {
                    if stop.load(Ordering::Relaxed) {
                        return false;
                    }
                    item = b;
                }
                // The context is shutting down: the lines have nowhere to go.
                Err(SendTimeoutError::Disconnected(_)) => return false,
            }
        }
    }
}

/// The shared half of a receiver source.
pub struct Receiving {
    sink: BlockSink,
    rx: Receiver<(u64, Block)>,
    slot: Out,
    stop: Arc<AtomicBool>,
    thread: Mutex<Option<JoinHandle<()>>>,
    stats: Arc<SourceStats>,
    /// Logged blocks not yet in a batch, restored from the write-ahead log.
    backlog: Mutex<VecDeque<WalBlock>>,
    /// The batch time and block numbers `[from, to)` of the last cut.
    last_cut: Mutex<(Time, u64, u64)>,
    /// Positions reported to the last two checkpoints (what the log must keep).
    positions: Mutex<VecDeque<u64>>,
    /// The write-ahead log is on (read without the log's lock).
    wal_enabled: AtomicBool,
}

impl Receiving {
    /// A receiver whose batches have `partitions` partitions of `String`s, and its slot.
    pub(crate) fn new(stats: Arc<SourceStats>, partitions: usize) -> (Self, Arc<Slot<String>>) {
        let slot = Arc::new(Slot::new(partitions));
        (Self::with_slot(stats, Out::Strings(slot.clone())), slot)
    }

    /// A receiver whose batches have `partitions` partitions of [`Line`]s, which share
    /// the buffers they were received in, and its slot.
    pub(crate) fn lines(stats: Arc<SourceStats>, partitions: usize) -> (Self, Arc<Slot<Line>>) {
        let slot = Arc::new(Slot::new(partitions));
        (Self::with_slot(stats, Out::Lines(slot.clone())), slot)
    }

    fn with_slot(stats: Arc<SourceStats>, slot: Out) -> Self {
        let (tx, rx) = block_channel();
        Receiving {
            sink: BlockSink::new(tx),
            rx,
            slot,
            stop: Arc::new(AtomicBool::new(false)),
            thread: Mutex::new(None),
            stats,
            backlog: Mutex::new(VecDeque::new()),
            last_cut: Mutex::new((Time(0), 0, 0)),
            positions: Mutex::new(VecDeque::new()),
            wal_enabled: AtomicBool::new(false),
        }
    }

    /// The slot the generated job takes batches from.
    #[cfg(test)]
    fn slot(&self) -> Out {
        self.slot.clone()
    }

    /// Logs every block received from now on to the write-ahead log at `path`.
    ///
    /// The blocks the log already holds are taken as not yet in any batch: they come
    /// first, and the position is the first of them. A checkpoint's position narrows
    /// that ([`restore_position`](Self::restore_position)); without a checkpoint (the
    /// job died after logging blocks but before its first snapshot was written) every
    /// logged block is processed, none silently skipped.
    pub(crate) fn enable_wal(&self, path: &Path) -> crate::Result<()> {
        let (wal, blocks) = Wal::open(path)?;
        let next = blocks.last().map_or(0, |(s, _)| s + 1);
        let first = blocks.first().map_or(next, |(s, _)| *s);
        self.sink.seq.store(next, Ordering::Relaxed);
        *lock(&self.last_cut) = (Time(0), first, first);
        *lock(&self.backlog) = blocks.into();
        *lock(&self.sink.wal) = Some(wal);
        self.wal_enabled.store(true, Ordering::Relaxed);
        Ok(())
    }

    fn wal_on(&self) -> bool {
        self.wal_enabled.load(Ordering::Relaxed)
    }

    /// Starts the receiving thread `name` running `body(blocks, stop, stats)`.
    pub(crate) fn spawn<F>(&self, name: String, body: F) -> crate::Result<()>
    where
        F: FnOnce(BlockSink, Arc<AtomicBool>, Arc<SourceStats>) + Send + 'static,
    {
        let (sink, stop, stats) = (self.sink.clone(), self.stop.clone(), self.stats.clone());
        let handle = std::thread::Builder::new()
            .name(name)
            .spawn(move || {
                let failures = sink.clone();
                if let Err(e) = crate::error::catch_thread_panic(|| body(sink, stop, stats)) {
                    failures.fail(e);
                }
            })
            .map_err(|e| crate::Error::io("cannot start a receiver thread", e))?;
        *lock(&self.thread) = Some(handle);
        Ok(())
    }

    /// Cuts the blocks received so far (after any restored backlog) into the batch of
    /// `time`.
    pub(crate) fn cut(&self, time: Time) -> usize {
        let n = self.rx.len();
        let mut blocks: Vec<(u64, Block)> = lock(&self.backlog)
            .drain(..)
            .map(|(s, b)| (s, lines_of(b)))
            .collect();
        blocks.extend(self.rx.try_iter().take(n));
        let mut last = lock(&self.last_cut);
        let from = blocks.first().map_or(last.2, |(s, _)| *s);
        let to = blocks.last().map_or(from, |(s, _)| s + 1);
        *last = (time, from, to);
        drop(last);
        let lines = blocks.iter().map(|(_, b)| b.len()).sum();
        self.slot
            .put(time, lines, blocks.into_iter().flat_map(|(_, b)| b))
    }

    /// The block numbers of the cut of `time`, when the log is on.
    pub(crate) fn block_record(&self, time: Time) -> crate::Result<Vec<u8>> {
        let last = *lock(&self.last_cut);
        if !self.wal_on() || last.0 != time {
            return Ok(Vec::new());
        }
        to_bytes(&(last.1, last.2))
    }

    /// The receiver's failure, if it had one.
    pub(crate) fn check(&self) -> crate::Result<()> {
        match lock(&self.sink.failure).as_ref() {
            Some(e) => Err(e.duplicate()),
            None => Ok(()),
        }
    }

    /// Cuts the logged blocks `[from, to)` of `record` into the batch of `time` again.
    pub(crate) fn replay(&self, time: Time, record: &[u8]) -> crate::Result<usize> {
        if record.is_empty() {
            return Ok(self.slot.put(time, 0, std::iter::empty()));
        }
        let (from, to): (u64, u64) = from_bytes(record)?;
        let mut backlog = lock(&self.backlog);
        let mut lines = Vec::new();
        while backlog.front().is_some_and(|(s, _)| *s < to) {
            if let Some((s, b)) = backlog.pop_front() {
                if s >= from {
                    lines.extend(b);
                }
            }
        }
        *lock(&self.last_cut) = (time, from, to);
        let n = lines.len();
        Ok(self.slot.put(time, n, lines_of(lines).into_iter()))
    }

    /// The first block number not yet in a batch.
    pub(crate) fn position(&self) -> crate::Result<Vec<u8>> {
        to_bytes(&lock(&self.last_cut).2)
    }

    /// A checkpoint at `position` is durable: the log keeps what the two newest
    /// checkpoints may need.
    pub(crate) fn committed(&self, position: &[u8]) -> crate::Result<()> {
        let next: u64 = from_bytes(position)?;
        let mut kept = lock(&self.positions);
        kept.push_back(next);
        while kept.len() > crate::checkpoint::store::KEPT_SNAPSHOTS {
            kept.pop_front();
        }
        if let (Some(oldest), Some(wal)) = (kept.front(), lock(&self.sink.wal).as_mut()) {
            wal.truncate_before(*oldest)?;
        }
        Ok(())
    }

    /// Resumes after the checkpointed position: the logged blocks from there on are
    /// recomputed or processed first.
    pub(crate) fn restore_position(&self, position: &[u8]) -> crate::Result<()> {
        let next: u64 = from_bytes(position)?;
        lock(&self.backlog).retain(|(s, _)| *s >= next);
        let mut last = lock(&self.last_cut);
        *last = (Time(0), next, next);
        lock(&self.positions).push_back(next);
        Ok(())
    }

    /// Blocks received and not yet cut into a batch.
    pub(crate) fn buffered(&self) -> usize {
        self.rx.len() + lock(&self.backlog).len()
    }

    /// Limits the receiver to `rate` records per second (0: unlimited).
    pub(crate) fn set_rate(&self, rate: u64) {
        self.sink.limiter.set_rate(rate);
    }

    /// The receiver's rate limit in records per second (0: unlimited).
    pub(crate) fn rate(&self) -> u64 {
        self.sink.limiter.rate()
    }

    /// Records handed over since the receiver started (buffered ones included).
    pub(crate) fn received(&self) -> u64 {
        self.sink.received.load(Ordering::Relaxed)
    }

    /// The receiver's failure, as text, if it had one.
    pub(crate) fn error_text(&self) -> Option<String> {
        lock(&self.sink.failure).as_ref().map(|e| e.to_string())
    }

    /// Stops receiving and joins the thread (whose panic was caught and recorded).
    pub(crate) fn stop(&self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(h) = lock(&self.thread).take() {
            if h.join().is_err() {
                self.sink.fail(crate::Error::ThreadPanicked {
                    thread: "receiver".into(),
                    message: "the receiver thread panicked".into(),
                });
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The lines of the batch at `time` in `r`'s slot.
    fn batch_lines(r: &Receiving, time: u64) -> Vec<String> {
        let exec = crate::Executor::new(1).unwrap();
        let batch = crate::Batch::new(Time(time), Time(0), &exec);
        match r.slot() {
            Out::Strings(slot) => slot.take(&batch).unwrap().concat(),
            Out::Lines(slot) => slot
                .take(&batch)
                .unwrap()
                .concat()
                .into_iter()
                .map(String::from)
                .collect(),
        }
    }

    /// A write-ahead log at a fresh path holding `blocks`, as a killed job left it.
    fn logged(name: &str, blocks: &[&[&str]]) -> std::path::PathBuf {
        let path = std::env::temp_dir().join(format!("rill-{name}-{}.log", std::process::id()));
        let _ = std::fs::remove_file(&path);
        let (mut wal, _) = Wal::open(&path).unwrap();
        for b in blocks {
            wal.append(&b.iter().map(|l| l.to_string()).collect::<Vec<_>>())
                .unwrap();
        }
        path
    }

    #[test]
    fn logged_blocks_without_a_checkpoint_enter_the_first_batch() {
        // The job logged two blocks and was killed before its first snapshot was durable:
        // the restarted job finds no checkpoint, so no position is restored.
        let path = logged("wal-no-checkpoint", &[&["a"], &["b", "c"]]);
        let (r, _) = Receiving::new(Arc::new(SourceStats::default()), 1);
        r.enable_wal(&path).unwrap();
        // The first snapshot records this position: the logged blocks are still to come.
        assert_eq!(from_bytes::<u64>(&r.position().unwrap()).unwrap(), 0);
        assert_eq!(r.cut(Time(100)), 3);
        assert_eq!(batch_lines(&r, 100), ["a", "b", "c"]);
        assert_eq!(
            from_bytes::<(u64, u64)>(&r.block_record(Time(100)).unwrap()).unwrap(),
            (0, 2)
        );
        assert_eq!(from_bytes::<u64>(&r.position().unwrap()).unwrap(), 2);
        std::fs::remove_file(&path).unwrap();
    }

    #[test]
    fn a_checkpointed_position_skips_the_blocks_before_it() {
        let path = logged("wal-checkpoint", &[&["a"], &["b", "c"]]);
        let (r, _) = Receiving::new(Arc::new(SourceStats::default()), 1);
        r.enable_wal(&path).unwrap();
        r.restore_position(&to_bytes(&1u64).unwrap()).unwrap();
        assert_eq!(from_bytes::<u64>(&r.position().unwrap()).unwrap(), 1);
        assert_eq!(r.cut(Time(100)), 2);
        assert_eq!(batch_lines(&r, 100), ["b", "c"]);
        std::fs::remove_file(&path).unwrap();
    }
}
