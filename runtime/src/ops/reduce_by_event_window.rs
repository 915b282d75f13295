//! `reduce_by_event_window(f, len, slide[, emit])`: all records of each event-time
//! window reduced with `f`; `count_by_event_window` is the same state over counts. Each
//! partition reduces its records per window in parallel; the partials are merged on the
//! driver into one aggregate per open window. See `docs/EVENT_TIME.md`.

use super::event_time::{EventWindow, EventWindows, Late, Mode};
use crate::checkpoint::durable::{Durable, Persist, load, save};
use crate::wire::{Arena, Wire};
use crate::{Batch, Parts};
use std::collections::{BTreeMap, BTreeSet};

/// One partition's share of a batch, as every process of a cluster gathers it: its
/// aggregate per window start and the number of its late records. (The late records
/// themselves stay with the process that owns their partition.)
pub type Partial<A> = (Vec<(u64, A)>, u64);

/// The state of one global event-time window operator over records `T` and aggregates
/// `A`.
pub struct ReduceByEventWindow<T, A> {
    spec: EventWindows,
    windows: BTreeMap<u64, A>,
    late: Late<T>,
}

impl<T, A> ReduceByEventWindow<T, A>
where
    T: Clone + Send + Sync,
    A: Clone + Send,
{
    /// No open window; late records are kept for a `late_records()` stream if
    /// `keep_late`.
    pub fn new(spec: EventWindows, keep_late: bool) -> Self {
        ReduceByEventWindow {
            spec,
            windows: BTreeMap::new(),
            late: Late::new(keep_late),
        }
    }

    /// Adds a batch's records under watermark `wm`: each record's aggregate (`lift`) goes
    /// into every open window holding its event time, merged with `f`; returns what the
    /// output mode emits (in window order, one partition) and drops the closed windows.
    ///
    /// In a cluster each process reduces its own partitions and the partials of every
    /// partition are gathered (through `arena`), so every process keeps the same windows.
    #[allow(clippy::too_many_arguments)]
    pub fn step<'a, E, L, F>(
        &mut self,
        batch: &Batch<'_>,
        parts: &[Vec<T>],
        wm: Option<u64>,
        event_time: E,
        lift: L,
        f: F,
        arena: &'a Arena,
    ) -> crate::Result<Parts<(EventWindow, A)>>
    where
        E: Fn(&T) -> u64 + Sync + Send,
        L: Fn(&T) -> A + Sync + Send,
        F: Fn(A, A) -> A + Sync + Send,
        Partial<A>: Wire<'a>,
    {
        let spec = self.spec;
        let keep = self.late.wanted();
        let partials: Vec<(Partial<A>, Vec<T>)> = batch.map_ref(parts, |p| {
            let mut acc: BTreeMap<u64, A> = BTreeMap::new();
            let (mut late, mut n_late) = (Vec::new(), 0u64);
            for r in p {
                let t = event_time(r);
                let mut any = false;
                for s in spec.starts(t).filter(|s| !spec.closed(*s, wm)) {
                    any = true;
                    let a = lift(r);
                    let merged = match acc.remove(&s) {
                        Some(old) => f(old, a),
                        None => a,
                    };
                    acc.insert(s, merged);
                }
                if !any {
                    n_late += 1;
                    if keep {
                        late.push(r.clone());
                    }
                }
            }
            ((acc.into_iter().collect(), n_late), late)
        });
        let (partials, late): (Vec<Partial<A>>, Vec<Vec<T>>) = partials.into_iter().unzip();
        let partials = batch.gather(partials, arena)?;
        let mut changed = BTreeSet::new();
        let mut n_late = 0;
        for (acc, n) in partials {
            for (s, a) in acc {
                let merged = match self.windows.remove(&s) {
                    Some(old) => f(old, a),
                    None => a,
                };
                self.windows.insert(s, merged);
                changed.insert(s);
            }
            n_late += n;
        }
        self.late.set(batch, n_late, late);
        let mut out = Vec::new();
        if spec.emit.mode() == Mode::Update {
            for s in changed {
                if let Some(a) = self.windows.get(&s) {
                    out.push((spec.window(s), a.clone()));
                }
            }
        }
        while let Some(entry) = self.windows.first_entry() {
            let s = *entry.key();
            if !spec.closed(s, wm) {
                break;
            }
            let a = entry.remove();
            if spec.emit.mode() == Mode::Append {
                out.push((spec.window(s), a));
            }
        }
        Ok(vec![out])
    }

    /// The late records of the last batch, if a `late_records()` stream reads them.
    pub fn take_late(&mut self) -> Option<Parts<T>> {
        self.late.take()
    }

    /// How many records the last batch found late.
    pub fn late_count(&self) -> u64 {
        self.late.count()
    }
}

impl<T, A: Persist> Durable for ReduceByEventWindow<T, A> {
    fn save(&self) -> crate::Result<Vec<u8>> {
        save(&self.windows)
    }

    fn load(&mut self, bytes: &[u8]) -> crate::Result<()> {
        self.windows = load(bytes)?;
        Ok(())
    }
}

/// A record as its own aggregate (for reducing the records themselves).
#[inline]
pub fn cloned<T: Clone>(r: &T) -> T {
    r.clone()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ops::event_time::Emit;
    use crate::{Executor, Time};
    use std::time::Duration;

    #[test]
    fn sliding_windows_take_a_record_in_each_of_its_windows() {
        let exec = Executor::new(2).expect("executor");
        let b = Batch::new(Time(1000), Time(0), &exec);
        let d = Duration::from_millis;
        let spec = EventWindows::new("t", d(10), d(5), Emit::append()).expect("valid");
        let mut st: ReduceByEventWindow<u64, u64> = ReduceByEventWindow::new(spec, false);
        let add = |a: u64, b: u64| a + b;
        let arena = Arena::new();
        let out = st.step(&b, &[vec![7], vec![12]], None, |t| *t, cloned, add, &arena);
        assert_eq!(out.expect("steps"), vec![vec![]]);
        let saved = st.save().expect("saves");
        let out = st
            .step(&b, &[vec![]], Some(15), |t| *t, cloned, add, &arena)
            .expect("steps");
        assert_eq!(
            out,
            vec![vec![
                (EventWindow::new(0, 10), 7),
                (EventWindow::new(5, 15), 19)
            ]]
        );
        st.load(&saved).expect("loads");
        let out = st
            .step(&b, &[vec![3]], Some(10), |t| *t, cloned, add, &arena)
            .expect("steps");
        assert_eq!(out, vec![vec![(EventWindow::new(0, 10), 7)]]);
        assert_eq!(st.late_count(), 1);
    }
}
