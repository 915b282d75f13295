//! [`Receiver`]: a user-written receiver of text lines, as Spark's `Receiver`, run on
//! the same receiving half as the socket sources (bounded buffer, backpressure, rate
//! limit, maximum line length, write-ahead log, failure reporting).

use super::Line;
use super::receiver::{BlockSink, POLL, Receiving};
use super::{Slot, SourceControl, SourceStats};
use crate::sync::lock;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// A source of text lines written by the user, as Spark's `Receiver[String]`.
///
/// The context runs every receiver on a thread of its own. `on_start` is called there
/// when the context starts; it either reads right there, storing what it reads with
/// [`Store::store`] / [`Store::store_many`] until [`Store::is_stopped`] turns true, or
/// starts threads of its own that store through clones of the [`Store`] and returns.
/// `on_stop` is called when the context stops, and before every restart: it must end
/// whatever `on_start` started.
///
/// [`Store::restart`] (or an error returned by `on_start`) restarts the receiver:
/// `on_stop`, then after [`restart_delay`](Receiver::restart_delay) (2 s, as Spark's)
/// `on_start` again. A panic in `on_start` or `on_stop` is a failure of the context,
/// which ends with [`Error::ThreadPanicked`](crate::Error::ThreadPanicked);
/// [`Store::fail`] ends it with an error of your choice.
///
/// What a receiver stores gets the socket sources' guarantees for free: the buffer is
/// bounded (`store` waits while it is full, and at the rate backpressure or
/// `max_rate` allows), lines longer than the builder's `max_line_length` are skipped
/// and counted as malformed, and with the write-ahead log on every stored line is
/// logged before it enters a batch, so it survives a crash. (The log holds text lines,
/// which is why receivers store `String`s.)
///
/// ```
/// use rill_runtime::StreamingContext;
/// use std::time::Duration;
/// use rill_runtime::sources::{Receiver, Store};
///
/// /// Stores the lines it was given, then idles until it is stopped.
/// struct Lines(Vec<String>);
///
/// impl Receiver for Lines {
///     fn on_start(&mut self, store: &Store) -> rill_runtime::Result<()> {
///         store.store_many(std::mem::take(&mut self.0));
///         Ok(())
///     }
///     fn on_stop(&mut self) {}
/// }
///
/// let ctx = StreamingContext::manual(Duration::from_secs(1));
/// let receiver = Lines(vec!["a".into(), "b".into()]);
/// let lines = rill_runtime::private::source(&ctx, rill_runtime::sources::receiver_stream(receiver));
/// let seen = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
/// let out = seen.clone();
/// rill_runtime::private::register_job(&ctx, "pipeline", "receiver_stream\n", move |b| {
///     out.lock().unwrap().extend(lines.take(b).concat());
///     Ok(())
/// });
/// ctx.start()?;
/// // The receiver runs on its own thread: wait for its lines to arrive.
/// while seen.lock().unwrap().len() < 2 {
///     std::thread::sleep(Duration::from_millis(10));
///     ctx.advance(1)?;
/// }
/// ctx.stop()?;
/// assert_eq!(*seen.lock().unwrap(), ["a", "b"]);
/// # Ok::<(), rill_runtime::Error>(())
/// ```
pub trait Receiver: Send + 'static {
    /// Starts receiving: reads here until [`Store::is_stopped`], or starts threads that
    /// store through clones of `store` and returns. An error restarts the receiver.
    fn on_start(&mut self, store: &Store) -> crate::Result<()>;

    /// Ends whatever `on_start` started (threads, connections); called when the context
    /// stops and before every restart.
    fn on_stop(&mut self);

    /// A one-line description for logs and `explain()`.
    fn describe(&self) -> String {
        "receiver_stream".into()
    }

    /// How long a restart waits between `on_stop` and `on_start` (Spark: 2 s).
    fn restart_delay(&self) -> Duration {
        Duration::from_secs(2)
    }
}

/// What a [`Receiver`] stores its lines through; cheap to clone into its own threads.
#[derive(Clone)]
pub struct Store {
    sink: BlockSink,
    stop: Arc<AtomicBool>,
    restart: Arc<Mutex<Option<String>>>,
    stats: Arc<SourceStats>,
    max_line_length: usize,
    stored: Arc<AtomicU64>,
}

impl Store {
    /// Stores one line (waits while the buffer is full). False if the receiver is
    /// stopping or restarting, or the line could not be logged: the line is dropped
    /// and the reading should end.
    ///
    /// Every call hands over a block of its own (and logs it, with the write-ahead log
    /// on): prefer [`store_many`](Self::store_many) for lines read together.
    pub fn store(&self, line: impl Into<String>) -> bool {
        self.store_many(std::iter::once(line.into()))
    }

    /// Stores lines read together, in blocks; false as for [`store`](Self::store).
    pub fn store_many<I>(&self, lines: I) -> bool
    where
        I: IntoIterator,
        I::Item: Into<String>,
    {
        let mut block = Vec::new();
        for line in lines {
            let line = line.into();
            if line.len() > self.max_line_length {
                self.stats.malformed();
                continue;
            }
            // A line of its own, handed back as this `String` at the cut (no copy).
            block.push(Line::from(line));
            if block.len() >= self.sink.max_block_lines() && !self.hand_over(&mut block) {
                return false;
            }
        }
        self.hand_over(&mut block)
    }

    fn hand_over(&self, block: &mut Vec<Line>) -> bool {
        if self.is_stopped() {
            block.clear();
            return false;
        }
        let n = block.len() as u64;
        let ok = self.sink.hand_over(std::mem::take(block), &self.stop);
        if ok {
            self.stored.fetch_add(n, Ordering::Relaxed);
        }
        ok
    }

    /// Whether the receiver is stopping (the context stops, or a restart was asked
    /// for): a reading loop ends when it is true.
    pub fn is_stopped(&self) -> bool {
        self.stop.load(Ordering::Relaxed) || lock(&self.restart).is_some()
    }

    /// Asks for a restart: `on_stop`, then `on_start` again after the receiver's
    /// [`restart_delay`](Receiver::restart_delay). Returns at once.
    pub fn restart(&self, reason: impl Into<String>) {
        lock(&self.restart).get_or_insert_with(|| reason.into());
    }

    /// Reports an error that does not stop the receiver (logged as a warning).
    pub fn report_error(&self, error: &dyn std::fmt::Display) {
        tracing::warn!(error = %error, "a receiver reported an error");
    }

    /// Ends the context with `error` (at the next batch).
    pub fn fail(&self, error: crate::Error) {
        self.sink.fail(error);
    }

    /// Lines stored so far (since the context started).
    pub fn stored(&self) -> u64 {
        self.stored.load(Ordering::Relaxed)
    }
}

/// Sleeps `d` in short steps; false if `stop` was set meanwhile.
fn sleep_unless_stopped(d: Duration, stop: &AtomicBool) -> bool {
    let mut left = d;
    while !left.is_zero() && !stop.load(Ordering::Relaxed) {
        let step = left.min(POLL);
        std::thread::sleep(step);
        left -= step;
    }
    !stop.load(Ordering::Relaxed)
}

/// Runs `receiver` until the context stops: starts it, waits, restarts it when asked.
fn supervise<R: Receiver>(mut receiver: R, store: Store) {
    let stop = store.stop.clone();
    while !stop.load(Ordering::Relaxed) {
        if let Err(e) = receiver.on_start(&store) {
            store.restart(format!("on_start failed: {e}"));
        }
        while !store.is_stopped() {
            std::thread::sleep(POLL.min(Duration::from_millis(10)));
        }
        receiver.on_stop();
        if stop.load(Ordering::Relaxed) {
            break;
        }
        let reason = lock(&store.restart).clone().unwrap_or_default();
        tracing::warn!(receiver = %receiver.describe(), %reason, "restarting the receiver");
        let delay = receiver.restart_delay();
        if !sleep_unless_stopped(delay, &stop) {
            break;
        }
        *lock(&store.restart) = None;
    }
}

/// The source of a user [`Receiver`].
pub struct ReceiverSource<R> {
    receiver: Mutex<Option<R>>,
    describe: String,
    receiving: Receiving,
    max_line_length: usize,
}

impl<R: Receiver> ReceiverSource<R> {
    /// A source running `receiver`; returns the source and its slot.
    pub fn new(
        receiver: R,
        stats: Arc<SourceStats>,
        partitions: usize,
        limits: super::receiver::ReceiverLimits,
    ) -> (Arc<Self>, Arc<Slot<String>>) {
        let (receiving, slot) = Receiving::new(stats, partitions);
        let src = ReceiverSource {
            describe: receiver.describe(),
            receiver: Mutex::new(Some(receiver)),
            receiving,
            max_line_length: limits.max_line_length,
        };
        (Arc::new(src), slot)
    }
}

impl<R: Receiver> SourceControl for ReceiverSource<R> {
    fn describe(&self) -> String {
        self.describe.clone()
    }

    fn start(&self) -> crate::Result<()> {
        let Some(receiver) = lock(&self.receiver).take() else {
            return Err(crate::Error::Config(format!(
                "{} was started twice",
                self.describe
            )));
        };
        let max_line_length = self.max_line_length;
        self.receiving.spawn(
            format!("rill-receiver-{}", self.describe),
            move |sink, stop, stats| {
                let store = Store {
                    sink,
                    stop,
                    restart: Arc::new(Mutex::new(None)),
                    stats,
                    max_line_length,
                    stored: Arc::new(AtomicU64::new(0)),
                };
                supervise(receiver, store)
            },
        )
    }

    fn receiving(&self) -> Option<&Receiving> {
        Some(&self.receiving)
    }
}
