//! `window(len, slide)`: the batches with time in `(t - len, t]`, at every `t` that is a
//! multiple of `slide` after the clock's zero time (Spark's `WindowedDStream`). Early
//! windows are partial. Batches are kept as shared partitions, so overlapping windows
//! share them and a slide copies no record.
//!
//! [`WindowSpec`] holds the arithmetic every window operator shares.

use crate::checkpoint::durable::{Durable, Persist, load, save};
use crate::{Batch, Time};
use std::collections::VecDeque;
use std::sync::Arc;
use std::time::Duration;

/// A window's length and slide, checked against the slide of the stream it windows.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct WindowSpec {
    /// Window length in milliseconds.
    pub len_ms: u64,
    /// Slide in milliseconds.
    pub slide_ms: u64,
}

impl WindowSpec {
    /// A window of `len` sliding by `slide` over a stream producing every `parent`.
    /// Both must be positive multiples of `parent`, as Spark requires.
    pub fn new(
        op: &str,
        len: Duration,
        slide: Duration,
        parent: Duration,
    ) -> Result<WindowSpec, String> {
        let (l, s, p) = (
            len.as_millis() as u64,
            slide.as_millis() as u64,
            parent.as_millis() as u64,
        );
        if l == 0 || s == 0 {
            return Err(format!(
                "{op}: the window length ({len:?}) and slide ({slide:?}) must be positive"
            ));
        }
        if p == 0 || l % p != 0 || s % p != 0 {
            return Err(format!(
                "{op}: the window length ({len:?}) and slide ({slide:?}) must be multiples of the stream's interval ({parent:?})"
            ));
        }
        Ok(WindowSpec {
            len_ms: l,
            slide_ms: s,
        })
    }

    /// The slide as a duration.
    pub fn slide(&self) -> Duration {
        Duration::from_millis(self.slide_ms)
    }

    /// Whether the window produces output at `t` (a multiple of the slide after `zero`).
    pub fn fires(&self, t: Time, zero: Time) -> bool {
        t > zero && (t.millis() - zero.millis()) % self.slide_ms == 0
    }

    /// Whether the batch at `b` is inside the window ending at `t`: `b` in `(t - len, t]`.
    pub fn contains(&self, b: Time, t: Time) -> bool {
        b <= t && b.millis() + self.len_ms > t.millis()
    }

    /// Whether the batch at `b` falls in the half-open range `(from, to]`.
    pub fn between(b: Time, from: i128, to: i128) -> bool {
        let b = b.millis() as i128;
        b > from && b <= to
    }
}

/// Partitions that can be kept in a window without copying their records.
pub trait IntoShared<T> {
    /// The partition as a shared `Arc<Vec<T>>`.
    fn into_shared(self) -> Arc<Vec<T>>;
}

impl<T> IntoShared<T> for Vec<T> {
    fn into_shared(self) -> Arc<Vec<T>> {
        Arc::new(self)
    }
}

impl<T> IntoShared<T> for Arc<Vec<T>> {
    fn into_shared(self) -> Arc<Vec<T>> {
        self
    }
}

/// The state of one `window()`: the batches that a future window can still contain.
pub struct Window<T> {
    spec: WindowSpec,
    batches: VecDeque<(Time, Vec<Arc<Vec<T>>>)>,
}

impl<T> Window<T> {
    /// An empty window.
    pub fn new(spec: WindowSpec) -> Self {
        Window {
            spec,
            batches: VecDeque::new(),
        }
    }

    /// Adds the parent's batch; at a firing time returns the window's partitions, in time
    /// order, sharing the kept batches.
    pub fn step<P: IntoShared<T>>(
        &mut self,
        batch: &Batch<'_>,
        parts: Vec<P>,
    ) -> Option<Vec<Arc<Vec<T>>>> {
        let t = batch.time();
        // Empty partitions are kept: entry `i` of a window is partition `i mod partitions`
        // of its batch, which a cluster's processes agree on (see `Batch::gather`).
        let shared: Vec<Arc<Vec<T>>> = parts.into_iter().map(IntoShared::into_shared).collect();
        self.batches.push_back((t, shared));
        while let Some((b, _)) = self.batches.front() {
            if self.spec.contains(*b, t) {
                break;
            }
            self.batches.pop_front();
        }
        if !self.spec.fires(t, batch.zero_time()) {
            return None;
        }
        Some(
            self.batches
                .iter()
                .flat_map(|(_, p)| p.iter().cloned())
                .collect(),
        )
    }
}

impl<T: Clone + Persist> Durable for Window<T> {
    fn save(&self) -> crate::Result<Vec<u8>> {
        let all: Vec<(Time, Vec<&Vec<T>>)> = self
            .batches
            .iter()
            .map(|(t, parts)| (*t, parts.iter().map(|p| &**p).collect()))
            .collect();
        save(&all)
    }

    fn load(&mut self, bytes: &[u8]) -> crate::Result<()> {
        let all: Vec<(Time, Vec<Vec<T>>)> = load(bytes)?;
        self.batches = all
            .into_iter()
            .map(|(t, parts)| (t, parts.into_iter().map(Arc::new).collect()))
            .collect();
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Executor;

    pub(crate) fn spec(l: u64, s: u64) -> WindowSpec {
        WindowSpec::new(
            "window",
            Duration::from_secs(l),
            Duration::from_secs(s),
            Duration::from_secs(1),
        )
        .unwrap()
    }

    fn run(l: u64, s: u64, batches: usize) -> Vec<(u64, Vec<u32>)> {
        let exec = Executor::new(1).unwrap();
        let mut w = Window::new(spec(l, s));
        let mut out = Vec::new();
        for i in 1..=batches as u64 {
            let b = Batch::new(Time(i * 1000), Time(0), &exec);
            if let Some(parts) = w.step(&b, vec![vec![i as u32]]) {
                out.push((
                    i * 1000,
                    parts.iter().flat_map(|p| p.iter().copied()).collect(),
                ));
            }
        }
        out
    }

    #[test]
    fn sparks_window_examples() {
        // W=2s, S=1s: the first window holds batch 1 only.
        assert_eq!(
            run(2, 1, 3),
            vec![(1000, vec![1]), (2000, vec![1, 2]), (3000, vec![2, 3])]
        );
        // W=4s, S=2s: outputs at 2000 (1-2), 4000 (1-4), 6000 (3-6).
        assert_eq!(
            run(4, 2, 6),
            vec![
                (2000, vec![1, 2]),
                (4000, vec![1, 2, 3, 4]),
                (6000, vec![3, 4, 5, 6])
            ]
        );
        // W=2s, S=3s: batches 2-3 at 3000, 5-6 at 6000.
        assert_eq!(run(2, 3, 6), vec![(3000, vec![2, 3]), (6000, vec![5, 6])]);
    }

    #[test]
    fn rejects_lengths_that_are_not_multiples() {
        let one = Duration::from_secs(1);
        assert!(WindowSpec::new("w", Duration::from_millis(1500), one, one).is_err());
        assert!(WindowSpec::new("w", one, Duration::ZERO, one).is_err());
        assert!(WindowSpec::new("w", Duration::from_secs(4), Duration::from_secs(2), one).is_ok());
    }
}
