//! `reduce_by_key_and_session_window(f, gap[, emit])`: per key, the values of each
//! session reduced with `f`. A record at `t` makes a session `[t, t + gap)`; sessions of
//! a key that overlap are merged (a record may bridge two), so records less than `gap`
//! apart share a session. A session is emitted and dropped when the watermark passes its
//! end (its last record's time plus the gap) plus the allowed lateness, or, in update
//! mode, emitted at every batch that changed it. `count_by_key_and_session_window` is the
//! same state over counts. See `docs/EVENT_TIME.md`.

use super::event_time::{EventWindow, EventWindows, Late, Mode};
use super::keyed_state::{KeyMap, for_partitions, partitioned};
use crate::checkpoint::durable::{Durable, Persist, load, save};
use crate::{Batch, Parts};
use std::hash::Hash;

/// One session of a key.
#[derive(Clone, Debug)]
struct Session<A> {
    start: u64,
    end: u64,
    value: A,
    changed: bool,
}

/// The state of one session window operator over records `(K, V)` and
/// aggregates `A` of the values: each key's open sessions, in start order, disjoint.
pub struct ReduceByKeyAndSessionWindow<K, V, A> {
    spec: EventWindows,
    parts: Vec<KeyMap<K, Vec<Session<A>>>>,
    late: Late<(K, V)>,
    /// The watermark sessions were last closed under: until it moves, no session can
    /// close (a session a batch makes is not closed under that batch's watermark).
    closed_under: Option<u64>,
}

/// What one partition's step gives back: the records emitted, the number of late
/// records and the late records (when kept).
type PartOut<W, R> = (Vec<W>, u64, Vec<R>);

impl<K, V, A> ReduceByKeyAndSessionWindow<K, V, A>
where
    V: Send,
    K: Hash + Eq + Clone + Send + Sync,
    A: Clone + Send + Sync,
{
    /// No session, over `partitions` hash partitions, with the gap of `spec`; late
    /// records are kept for a `late_records()` stream if `keep_late`.
    pub fn new(spec: EventWindows, partitions: usize, keep_late: bool) -> Self {
        ReduceByKeyAndSessionWindow {
            spec,
            parts: partitioned(partitions, Vec::new()),
            late: Late::new(keep_late),
            closed_under: None,
        }
    }

    /// Adds a batch's shuffled records under watermark `wm` (each record's key and
    /// value's aggregate from `lift`, merged with `f`), then returns what the output mode emits
    /// and drops the closed sessions.
    pub fn step<T, L, F>(
        &mut self,
        batch: &Batch<'_>,
        chunks: Vec<Vec<Vec<(K, V)>>>,
        wm: Option<u64>,
        event_time: T,
        lift: L,
        f: F,
    ) -> Parts<(EventWindow, K, A)>
    where
        T: Fn(&(K, V)) -> u64 + Sync + Send,
        L: Fn(V) -> A + Sync + Send,
        F: Fn(A, A) -> A + Sync + Send,
    {
        let spec = self.spec;
        let gap = spec.len_ms;
        let keep = self.late.wanted();
        let scan = wm.is_some() && wm != self.closed_under;
        self.closed_under = wm;
        let results: Vec<PartOut<(EventWindow, K, A), (K, V)>> =
            for_partitions(batch, chunks, &mut self.parts, |chunks, keys| {
                let (mut late, mut n_late) = (Vec::new(), 0u64);
                // Sessions the watermark closed go first, so no record joins them.
                let mut out = if scan {
                    close(spec, keys, wm)
                } else {
                    Vec::new()
                };
                // Keys whose sessions this batch changed (update mode), maybe repeated.
                let mut touched: Vec<K> = Vec::new();
                for r in chunks.into_iter().flatten() {
                    let t = event_time(&r);
                    let (start, end) = (t, t.saturating_add(gap));
                    let overlaps = |s: &Session<A>| s.start < end && start < s.end;
                    let first = keys
                        .get(&r.0)
                        .and_then(|sessions| sessions.iter().position(overlaps));
                    if first.is_none() && spec.emit.closed(end, wm) {
                        n_late += 1;
                        if keep {
                            late.push(r);
                        }
                        continue;
                    }
                    let (k, v) = r;
                    let a = lift(v);
                    if spec.emit.mode() == Mode::Update {
                        touched.push(k.clone());
                    }
                    let sessions = keys.entry(k).or_default();
                    match first {
                        None => {
                            let at = sessions.partition_point(|s| s.start < start);
                            sessions.insert(
                                at,
                                Session {
                                    start,
                                    end,
                                    value: a,
                                    changed: true,
                                },
                            );
                        }
                        Some(i) => {
                            // The overlapping sessions are contiguous (sessions are
                            // disjoint and in start order): merge them and the record.
                            let n = sessions[i..].iter().take_while(|s| overlaps(s)).count();
                            let mut merged: Option<Session<A>> = None;
                            for s in sessions.drain(i..i + n) {
                                merged = Some(match merged {
                                    None => s,
                                    Some(m) => Session {
                                        start: m.start.min(s.start),
                                        end: m.end.max(s.end),
                                        value: f(m.value, s.value),
                                        changed: true,
                                    },
                                });
                            }
                            if let Some(m) = merged {
                                sessions.insert(
                                    i,
                                    Session {
                                        start: m.start.min(start),
                                        end: m.end.max(end),
                                        value: f(m.value, a),
                                        changed: true,
                                    },
                                );
                            }
                        }
                    }
                }
                if spec.emit.mode() == Mode::Update {
                    out.extend(changed(keys, touched));
                }
                (out, n_late, late)
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
    pub fn take_late(&mut self) -> Option<Parts<(K, V)>> {
        self.late.take()
    }

    /// How many records the last batch found late.
    pub fn late_count(&self) -> u64 {
        self.late.count()
    }
}

/// Drops the sessions of one partition that watermark `wm` closes, returning them in
/// append mode.
fn close<K: Hash + Eq + Clone, A>(
    spec: EventWindows,
    keys: &mut KeyMap<K, Vec<Session<A>>>,
    wm: Option<u64>,
) -> Vec<(EventWindow, K, A)> {
    let mut out = Vec::new();
    if wm.is_none() {
        return out;
    }
    let append = spec.emit.mode() == Mode::Append;
    keys.retain(|k, sessions| {
        // A key's sessions are disjoint and in start order, so their ends are in order
        // too: the closed ones are a prefix (most often empty, and nothing moves).
        let n = sessions.partition_point(|s| spec.emit.closed(s.end, wm));
        let closed = sessions.drain(..n);
        if append {
            out.extend(closed.map(|s| (EventWindow::new(s.start, s.end), k.clone(), s.value)));
        } else {
            drop(closed);
        }
        !sessions.is_empty()
    });
    out
}

/// The sessions of the `touched` keys of one partition that changed in the running
/// batch (update mode), their flags cleared (so a key touched twice is emitted once).
fn changed<K: Hash + Eq + Clone, A: Clone>(
    keys: &mut KeyMap<K, Vec<Session<A>>>,
    touched: Vec<K>,
) -> Vec<(EventWindow, K, A)> {
    let mut out = Vec::new();
    for k in touched {
        let Some(sessions) = keys.get_mut(&k) else {
            continue;
        };
        for s in sessions.iter_mut().filter(|s| s.changed) {
            s.changed = false;
            out.push((EventWindow::new(s.start, s.end), k.clone(), s.value.clone()));
        }
    }
    out
}

/// The saved form: every key's sessions as `(start, end, value)`.
type Saved<K, A> = Vec<(K, Vec<(u64, u64, A)>)>;

impl<K, V, A> Durable for ReduceByKeyAndSessionWindow<K, V, A>
where
    K: Hash + Eq + Clone + Persist,
    A: Clone + Persist,
{
    fn save(&self) -> crate::Result<Vec<u8>> {
        let all: Vec<(&K, Vec<(u64, u64, &A)>)> = self
            .parts
            .iter()
            .flatten()
            .map(|(k, ss)| (k, ss.iter().map(|s| (s.start, s.end, &s.value)).collect()))
            .collect();
        save(&all)
    }

    fn load(&mut self, bytes: &[u8]) -> crate::Result<()> {
        let all: Saved<K, A> = load(bytes)?;
        let sessions = all
            .into_iter()
            .map(|(k, ss)| {
                let ss = ss
                    .into_iter()
                    .map(|(start, end, value)| Session {
                        start,
                        end,
                        value,
                        changed: false,
                    })
                    .collect();
                (k, ss)
            })
            .collect();
        self.parts = partitioned(self.parts.len(), sessions);
        self.closed_under = None;
        Ok(())
    }
}

/// A value as its own aggregate.
#[inline]
pub fn value<V>(v: V) -> V {
    v
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ops::event_time::Emit;
    use crate::{Executor, Time};
    use std::time::Duration;

    type Sessions = ReduceByKeyAndSessionWindow<u32, u64, u64>;

    fn sessions(emit: Emit) -> Sessions {
        let spec = EventWindows::session("t", Duration::from_millis(10), emit).expect("valid");
        ReduceByKeyAndSessionWindow::new(spec, 1, true)
    }

    fn run(
        st: &mut Sessions,
        records: Vec<(u32, u64)>,
        wm: Option<u64>,
    ) -> Vec<(EventWindow, u32, u64)> {
        let exec = Executor::new(1).expect("executor");
        let b = Batch::new(Time(1000), Time(0), &exec);
        let mut out = st
            .step(&b, vec![vec![records]], wm, |r| r.1, |_| 1, |a, b| a + b)
            .concat();
        out.sort();
        out
    }

    #[test]
    fn sessions_merge_when_a_record_bridges_them() {
        let mut st = sessions(Emit::append());
        assert!(run(&mut st, vec![(1, 0), (1, 25), (2, 3)], None).is_empty());
        // 12 bridges [0, 10) and [25, 35)? No: [12, 22) overlaps neither; 18 then
        // overlaps [12, 22) and [25, 35) ([18, 28)), bridging them.
        assert!(run(&mut st, vec![(1, 12), (1, 18)], Some(5)).is_empty());
        let saved = st.save().expect("saves");
        let out = run(&mut st, vec![], Some(13));
        assert_eq!(
            out,
            vec![
                (EventWindow::new(0, 10), 1, 1),
                (EventWindow::new(3, 13), 2, 1)
            ]
        );
        let out = run(&mut st, vec![(1, 2)], Some(60));
        assert_eq!(out, vec![(EventWindow::new(12, 35), 1, 3)]);
        assert_eq!(st.late_count(), 1);
        assert_eq!(st.take_late().map(|p| p.concat()), Some(vec![(1, 2)]));
        // Restored, the same.
        let mut r = sessions(Emit::append());
        r.load(&saved).expect("loads");
        assert_eq!(run(&mut r, vec![], Some(60)).len(), 3);
    }

    #[test]
    fn records_exactly_a_gap_apart_are_two_sessions_and_update_mode_re_emits() {
        let mut st = sessions(Emit::update());
        let out = run(&mut st, vec![(1, 0), (1, 10)], None);
        assert_eq!(
            out,
            vec![
                (EventWindow::new(0, 10), 1, 1),
                (EventWindow::new(10, 20), 1, 1)
            ]
        );
        let out = run(&mut st, vec![(1, 5)], Some(1));
        assert_eq!(out, vec![(EventWindow::new(0, 20), 1, 3)]);
        assert!(run(&mut st, vec![], Some(30)).is_empty());
    }
}
