//! What the event-time operators share: [`EventWindow`] (a window in event time),
//! [`Emit`] (output mode and allowed lateness), the arithmetic of windows and of the
//! watermark ([`EventWindows`]), and the late records of a batch ([`Late`]).
//!
//! Event time is milliseconds since the Unix epoch as a `u64`. See `docs/EVENT_TIME.md`.

use crate::{Batch, Key, Parts, Record, Time};
use std::fmt;
use std::time::Duration;

/// `d` in event-time milliseconds (saturating at `u64::MAX`).
///
/// ```
/// use rill_runtime::ops::event_time::ms;
/// assert_eq!(ms(std::time::Duration::from_secs(10)), 10_000);
/// ```
pub fn ms(d: Duration) -> u64 {
    u64::try_from(d.as_millis()).unwrap_or(u64::MAX)
}

/// A window of event time, `[start, end)` in milliseconds since the epoch.
#[derive(
    Clone,
    Copy,
    Debug,
    PartialEq,
    Eq,
    PartialOrd,
    Ord,
    Hash,
    Default,
    serde::Serialize,
    serde::Deserialize,
)]
pub struct EventWindow {
    /// The first millisecond of the window (inclusive).
    pub start: u64,
    /// The end of the window (exclusive).
    pub end: u64,
}

impl EventWindow {
    /// The window `[start, end)`.
    pub fn new(start: u64, end: u64) -> Self {
        EventWindow { start, end }
    }

    /// The start as a [`Time`].
    pub fn start_time(&self) -> Time {
        Time(self.start)
    }

    /// The end as a [`Time`].
    pub fn end_time(&self) -> Time {
        Time(self.end)
    }

    /// The window's length.
    pub fn len(&self) -> Duration {
        Duration::from_millis(self.end.saturating_sub(self.start))
    }

    /// Whether the window holds no millisecond.
    pub fn is_empty(&self) -> bool {
        self.end <= self.start
    }

    /// Whether event time `t` is in the window.
    pub fn contains(&self, t: u64) -> bool {
        self.start <= t && t < self.end
    }
}

impl fmt::Display for EventWindow {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "[{}, {})", self.start, self.end)
    }
}

impl Record for EventWindow {
    type Owned = EventWindow;
    #[inline]
    fn into_owned(self) -> EventWindow {
        self
    }
}

impl Key for EventWindow {
    #[inline]
    fn eq_owned(&self, owned: &EventWindow) -> bool {
        self == owned
    }
}

/// When a windowed operator emits a window.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum Mode {
    /// Once, final, when the watermark passes the window's end plus the allowed lateness.
    Append,
    /// At every batch that changed the window's value.
    Update,
}

/// An event-time operator's output mode and allowed lateness; the default is
/// [`Emit::append()`] with no lateness.
///
/// ```
/// use rill_runtime::ops::event_time::Emit;
/// use std::time::Duration;
/// let e = Emit::update().allowed_lateness(Duration::from_secs(5));
/// assert_eq!(e.lateness_ms(), 5000);
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Emit {
    mode: Mode,
    lateness_ms: u64,
}

impl Default for Emit {
    fn default() -> Self {
        Emit::append()
    }
}

impl Emit {
    /// Append mode: each window once, with its final value, when the watermark passes
    /// its end plus the allowed lateness (Structured Streaming's append mode).
    pub fn append() -> Self {
        Emit {
            mode: Mode::Append,
            lateness_ms: 0,
        }
    }

    /// Update mode: every batch, each window (and key) whose value changed in it, with
    /// its value so far (Structured Streaming's update mode).
    pub fn update() -> Self {
        Emit {
            mode: Mode::Update,
            lateness_ms: 0,
        }
    }

    /// Keeps each window's state until the watermark passes its end plus `d` (Flink's
    /// allowed lateness): records arriving until then still count.
    pub fn allowed_lateness(mut self, d: Duration) -> Self {
        self.lateness_ms = ms(d);
        self
    }

    /// The output mode.
    pub fn mode(&self) -> Mode {
        self.mode
    }

    /// The allowed lateness in milliseconds.
    pub fn lateness_ms(&self) -> u64 {
        self.lateness_ms
    }

    /// Whether a window (or session) ending at `end` is dropped under watermark `wm`:
    /// `wm >= end + lateness`. Without a watermark nothing is.
    pub fn closed(&self, end: u64, wm: Option<u64>) -> bool {
        wm.is_some_and(|w| w >= end.saturating_add(self.lateness_ms))
    }
}

/// Tumbling or sliding windows of event time, aligned to the epoch, with how they emit.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct EventWindows {
    /// Window length in milliseconds.
    pub len_ms: u64,
    /// Slide in milliseconds (equal to the length for tumbling windows).
    pub slide_ms: u64,
    /// Output mode and allowed lateness.
    pub emit: Emit,
}

impl EventWindows {
    /// Windows of `len` every `slide` for operator `op`: both positive, the slide at
    /// most the length.
    pub fn new(op: &str, len: Duration, slide: Duration, emit: Emit) -> Result<Self, String> {
        let (l, s) = (ms(len), ms(slide));
        if l == 0 || s == 0 {
            return Err(format!(
                "{op}: the window length ({len:?}) and slide ({slide:?}) must be at least 1 ms"
            ));
        }
        if s > l {
            return Err(format!(
                "{op}: the slide ({slide:?}) must not be longer than the window ({len:?})"
            ));
        }
        Ok(EventWindows {
            len_ms: l,
            slide_ms: s,
            emit,
        })
    }

    /// A session gap for operator `op`, positive; kept as the length (the slide unused).
    pub fn session(op: &str, gap: Duration, emit: Emit) -> Result<Self, String> {
        let g = ms(gap);
        if g == 0 {
            return Err(format!(
                "{op}: the session gap ({gap:?}) must be at least 1 ms"
            ));
        }
        Ok(EventWindows {
            len_ms: g,
            slide_ms: g,
            emit,
        })
    }

    /// Windows of 1 ms, in place of a definition that was refused (the pipeline's
    /// error is reported by `start()`).
    pub fn fallback() -> Self {
        EventWindows {
            len_ms: 1,
            slide_ms: 1,
            emit: Emit::default(),
        }
    }

    /// The starts of every window holding event time `t`, latest first: multiples of
    /// the slide in `(t - len, t]`, none before the epoch.
    pub fn starts(&self, t: u64) -> impl Iterator<Item = u64> + '_ {
        let last = t - t % self.slide_ms;
        let mut next = Some(last);
        std::iter::from_fn(move || {
            let s = next?;
            if s.saturating_add(self.len_ms) <= t {
                return None;
            }
            next = s.checked_sub(self.slide_ms);
            Some(s)
        })
    }

    /// The window starting at `start`.
    pub fn window(&self, start: u64) -> EventWindow {
        EventWindow::new(start, start.saturating_add(self.len_ms))
    }

    /// Whether the window starting at `start` is dropped under watermark `wm`.
    pub fn closed(&self, start: u64, wm: Option<u64>) -> bool {
        self.emit.closed(self.window(start).end, wm)
    }
}

/// The late records of one batch of an operator: how many, and the records themselves
/// when a `late_records()` stream reads them.
#[derive(Debug)]
pub struct Late<R> {
    wanted: bool,
    count: u64,
    records: Option<Parts<R>>,
}

impl<R> Late<R> {
    /// Late records kept only if `wanted`.
    pub fn new(wanted: bool) -> Self {
        Late {
            wanted,
            count: 0,
            records: None,
        }
    }

    /// Whether the records are kept.
    pub fn wanted(&self) -> bool {
        self.wanted
    }

    /// Records a batch's late records (one `Vec` per partition) and their number, and
    /// reports the number with the batch's metrics.
    pub fn set(&mut self, batch: &Batch<'_>, count: u64, records: Parts<R>) {
        self.count = count;
        if count > 0 {
            report(batch, count);
        }
        self.records = self.wanted.then_some(records);
    }

    /// How many records the last batch found late.
    pub fn count(&self) -> u64 {
        self.count
    }

    /// The last batch's late records (for `late_records()`), once.
    pub fn take(&mut self) -> Option<Parts<R>> {
        self.records.take()
    }
}

/// Reports `n` late records of this batch, into its metrics.
fn report(batch: &Batch<'_>, n: u64) {
    tracing::debug!(late = n, "event-time records later than their windows");
    batch.count_late_records(n);
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ws(len: u64, slide: u64) -> EventWindows {
        EventWindows::new(
            "t",
            Duration::from_millis(len),
            Duration::from_millis(slide),
            Emit::default(),
        )
        .expect("valid")
    }

    #[test]
    fn tumbling_windows_align_to_the_epoch() {
        let w = ws(10, 10);
        assert_eq!(w.starts(0).collect::<Vec<_>>(), vec![0]);
        assert_eq!(w.starts(9).collect::<Vec<_>>(), vec![0]);
        assert_eq!(w.starts(10).collect::<Vec<_>>(), vec![10]);
        assert_eq!(w.starts(27).collect::<Vec<_>>(), vec![20]);
    }

    #[test]
    fn sliding_windows_hold_a_time_in_len_over_slide_windows() {
        let w = ws(10, 5);
        assert_eq!(w.starts(12).collect::<Vec<_>>(), vec![10, 5]);
        assert_eq!(w.starts(15).collect::<Vec<_>>(), vec![15, 10]);
        // None before the epoch.
        assert_eq!(w.starts(3).collect::<Vec<_>>(), vec![0]);
        let w = ws(10, 3);
        assert_eq!(w.starts(12).collect::<Vec<_>>(), vec![12, 9, 6, 3]);
        for t in 0..100 {
            for s in w.starts(t) {
                assert!(w.window(s).contains(t));
            }
        }
    }

    #[test]
    fn windows_close_when_the_watermark_passes_end_plus_lateness() {
        let e = Emit::append().allowed_lateness(Duration::from_millis(5));
        assert!(!e.closed(10, None));
        assert!(!e.closed(10, Some(14)));
        assert!(e.closed(10, Some(15)));
        assert!(Emit::update().closed(10, Some(10)));
        assert!(!Emit::update().closed(10, Some(9)));
    }

    #[test]
    fn definitions_are_checked() {
        let d = Duration::from_millis;
        assert!(EventWindows::new("op", d(0), d(1), Emit::default()).is_err());
        assert!(EventWindows::new("op", d(5), d(10), Emit::default()).is_err());
        assert!(EventWindows::session("op", d(0), Emit::default()).is_err());
        assert_eq!(EventWindow::new(0, 10).to_string(), "[0, 10)");
    }
}
