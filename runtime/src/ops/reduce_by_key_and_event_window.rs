//! `reduce_by_key_and_event_window(f, len, slide[, emit])`: per key, the values of each
//! event-time window reduced with `f`; `count_by_key_and_event_window` is the same state
//! over counts. Each partition keeps, for the keys it owns, one aggregate per window
//! still open (ordered by window start, so closing is popping the oldest), never the
//! records. See `docs/EVENT_TIME.md` for when windows are emitted and dropped.

use super::event_time::{EventWindow, EventWindows, Late, Mode};
use super::keyed_state::{KeyMap, for_partitions};
use crate::checkpoint::durable::{Durable, Persist, load, save, split_by_key};
use crate::{Batch, Parts};
use std::collections::BTreeMap;
use std::hash::Hash;

/// One partition's open windows: per window start, each key's aggregate (`None` only
/// while it is being merged) and whether it changed in the running batch.
type Windows<K, A> = BTreeMap<u64, KeyMap<K, (Option<A>, bool)>>;

/// The state of one keyed event-time window operator over records `R`, keys `K` and
/// aggregates `A`.
pub struct ReduceByKeyAndEventWindow<R, K, A> {
    spec: EventWindows,
    parts: Vec<Windows<K, A>>,
    late: Late<R>,
}

/// What one partition's step gives back: the records emitted, the number of late
/// records and the late records (when kept).
type PartOut<W, R> = (Vec<W>, u64, Vec<R>);

impl<R, K, A> ReduceByKeyAndEventWindow<R, K, A>
where
    R: Send,
    K: Hash + Eq + Clone + Send + Sync,
    A: Clone + Send + Sync,
{
    /// No open window, over `partitions` hash partitions; late records are kept for a
    /// `late_records()` stream if `keep_late`.
    pub fn new(spec: EventWindows, partitions: usize, keep_late: bool) -> Self {
        ReduceByKeyAndEventWindow {
            spec,
            parts: (0..partitions.max(1)).map(|_| Windows::new()).collect(),
            late: Late::new(keep_late),
        }
    }

    /// Adds a batch's shuffled records under watermark `wm`: each record's key and
    /// aggregate (`lift`) go into every open window holding its event time, merged with
    /// `f`; then returns what the output mode emits and drops the closed windows.
    pub fn step<T, L, F>(
        &mut self,
        batch: &Batch<'_>,
        chunks: Vec<Vec<Vec<R>>>,
        wm: Option<u64>,
        event_time: T,
        lift: L,
        f: F,
    ) -> Parts<(EventWindow, K, A)>
    where
        T: Fn(&R) -> u64 + Sync + Send,
        L: Fn(R) -> (K, A) + Sync + Send,
        F: Fn(A, A) -> A + Sync + Send,
    {
        let spec = self.spec;
        let keep = self.late.wanted();
        let results: Vec<PartOut<(EventWindow, K, A), R>> =
            for_partitions(batch, chunks, &mut self.parts, |chunks, windows| {
                let (mut late, mut n_late) = (Vec::new(), 0u64);
                let mut touched: Vec<(u64, K)> = Vec::new();
                let mut starts: Vec<u64> = Vec::new();
                for r in chunks.into_iter().flatten() {
                    let t = event_time(&r);
                    starts.clear();
                    starts.extend(spec.starts(t).filter(|s| !spec.closed(*s, wm)));
                    if starts.is_empty() {
                        n_late += 1;
                        if keep {
                            late.push(r);
                        }
                        continue;
                    }
                    let (k, a) = lift(r);
                    for &s in &starts {
                        let keys = windows.entry(s).or_default();
                        // One lookup: the aggregate is taken out, merged and put back.
                        let fresh = match keys.get_mut(&k) {
                            Some((slot, changed)) => {
                                if let Some(old) = slot.take() {
                                    *slot = Some(f(old, a.clone()));
                                }
                                !std::mem::replace(changed, true)
                            }
                            None => {
                                keys.insert(k.clone(), (Some(a.clone()), true));
                                true
                            }
                        };
                        if fresh && spec.emit.mode() == Mode::Update {
                            touched.push((s, k.clone()));
                        }
                    }
                }
                (emit(spec, windows, touched, wm), n_late, late)
            });
        let mut out = Vec::with_capacity(results.len());
        let mut late = Vec::with_capacity(results.len());
        let mut n_late = 0;
        for (o, n, l) in results {
            out.push(o);
            n_late += n;
            late.push(l);
        }
        self.late.set(batch, n_late, late);
        out
    }

    /// The late records of the last batch, if a `late_records()` stream reads them.
    pub fn take_late(&mut self) -> Option<Parts<R>> {
        self.late.take()
    }

    /// How many records the last batch found late.
    pub fn late_count(&self) -> u64 {
        self.late.count()
    }
}

/// One partition's output: in update mode the `(window, key)`s that changed (their
/// flags cleared), in append mode the windows that close; closed windows are dropped.
fn emit<K: Hash + Eq + Clone, A: Clone>(
    spec: EventWindows,
    windows: &mut Windows<K, A>,
    touched: Vec<(u64, K)>,
    wm: Option<u64>,
) -> Vec<(EventWindow, K, A)> {
    let mut out = Vec::new();
    for (s, k) in touched {
        if let Some((Some(a), changed)) = windows.get_mut(&s).and_then(|keys| keys.get_mut(&k)) {
            *changed = false;
            out.push((spec.window(s), k, a.clone()));
        }
    }
    while let Some(entry) = windows.first_entry() {
        let s = *entry.key();
        if !spec.closed(s, wm) {
            break;
        }
        let keys = entry.remove();
        if spec.emit.mode() == Mode::Append {
            out.extend(
                keys.into_iter()
                    .filter_map(|(k, (a, _))| a.map(|a| (spec.window(s), k, a))),
            );
        }
    }
    out
}

impl<R, K, A> Durable for ReduceByKeyAndEventWindow<R, K, A>
where
    K: Hash + Eq + Clone + Persist,
    A: Clone + Persist,
{
    fn save(&self) -> crate::Result<Vec<u8>> {
        let all: Vec<(&K, (u64, &A))> = self
            .parts
            .iter()
            .flat_map(|w| w.iter())
            .flat_map(|(s, keys)| {
                keys.iter()
                    .filter_map(move |(k, (a, _))| a.as_ref().map(|a| (k, (*s, a))))
            })
            .collect();
        save(&all)
    }

    fn load(&mut self, bytes: &[u8]) -> crate::Result<()> {
        let all: Vec<(K, (u64, A))> = load(bytes)?;
        let n = self.parts.len();
        self.parts = split_by_key(n, all)
            .into_iter()
            .map(|part| {
                let mut w = Windows::new();
                for (k, (s, a)) in part {
                    w.entry(s)
                        .or_insert_with(KeyMap::default)
                        .insert(k, (Some(a), false));
                }
                w
            })
            .collect();
        Ok(())
    }
}

/// A keyed record as it is: the key and the value to reduce.
#[inline]
pub fn pair<K, V>(r: (K, V)) -> (K, V) {
    r
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ops::event_time::Emit;
    use crate::{Executor, Time};
    use std::time::Duration;

    fn state(emit: Emit) -> ReduceByKeyAndEventWindow<(u32, u64), u32, u64> {
        let d = Duration::from_millis;
        let spec = EventWindows::new("t", d(10), d(10), emit).expect("valid");
        ReduceByKeyAndEventWindow::new(spec, 2, true)
    }

    #[test]
    fn append_emits_a_window_once_when_the_watermark_passes_its_end() {
        let exec = Executor::new(1).expect("executor");
        let b = Batch::new(Time(1000), Time(0), &exec);
        let mut st = state(Emit::append());
        let time = |r: &(u32, u64)| r.1;
        let add = |a: u64, b: u64| a + b;
        let chunks = |rs: Vec<(u32, u64)>| vec![vec![rs], vec![]];
        let out = st.step(&b, chunks(vec![(1, 3), (1, 12)]), None, time, pair, add);
        assert!(out.concat().is_empty());
        let out = st.step(&b, chunks(vec![(1, 5)]), Some(9), time, pair, add);
        assert!(out.concat().is_empty());
        let saved = st.save().expect("saves");
        let out = st.step(&b, chunks(vec![(1, 7)]), Some(10), time, pair, add);
        assert_eq!(out.concat(), vec![(EventWindow::new(0, 10), 1, 8)]);
        assert_eq!(st.late_count(), 1);
        assert_eq!(st.take_late().map(|p| p.concat()), Some(vec![(1, 7)]));
        // Restored into another parallelism, the same batch gives the same output.
        let spec = EventWindows::new(
            "t",
            Duration::from_millis(10),
            Duration::from_millis(10),
            Emit::append(),
        )
        .expect("valid");
        let mut r = ReduceByKeyAndEventWindow::new(spec, 1, false);
        r.load(&saved).expect("loads");
        let out = r.step(&b, vec![vec![vec![(1, 7)]]], Some(10), time, pair, add);
        assert_eq!(out.concat(), vec![(EventWindow::new(0, 10), 1, 8)]);
    }

    #[test]
    fn update_emits_what_changed() {
        let exec = Executor::new(1).expect("executor");
        let b = Batch::new(Time(1000), Time(0), &exec);
        let mut st = state(Emit::update());
        let time = |r: &(u32, u64)| r.1;
        let add = |a: u64, b: u64| a + b;
        let chunks = |rs: Vec<(u32, u64)>| vec![vec![rs], vec![]];
        let out = st.step(
            &b,
            chunks(vec![(1, 3), (1, 4), (2, 15)]),
            None,
            time,
            pair,
            add,
        );
        let mut got = out.concat();
        got.sort();
        assert_eq!(
            got,
            vec![
                (EventWindow::new(0, 10), 1, 7),
                (EventWindow::new(10, 20), 2, 15)
            ]
        );
        let out = st.step(&b, chunks(vec![(2, 11)]), Some(5), time, pair, add);
        assert_eq!(out.concat(), vec![(EventWindow::new(10, 20), 2, 26)]);
    }
}
