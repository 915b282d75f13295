//! `map_with_state(spec)`: a function called for every record with its key's state, as
//! Spark's `mapWithState`. The function gets the key, `Some(value)`, and a [`State`] it
//! may read, update or remove; what it returns is the mapped stream. The companion
//! `state_snapshots()` stream holds every `(key, state)` after each batch.
//!
//! With a timeout, a key idle for longer than the timeout (its last update strictly
//! before `batch time - timeout`) is called once more with `None` and a state that
//! `is_timing_out()`, and removed. rill checks timeouts at every batch; Spark checks them
//! only at its checkpoint interval (every 10 batches by default), so rill reports a
//! timed-out key as soon as it times out, where Spark may report it several batches later.

use super::group_by_key::group;
use super::keyed_state::{KeyMap, for_partitions, partitioned};
use crate::checkpoint::durable::{Durable, Persist, load, save};
use crate::{Batch, Error, Parts, Time};
use std::hash::Hash;
use std::marker::PhantomData;
use std::time::Duration;

/// The state of one key as a `map_with_state` function sees it.
#[derive(Debug)]
pub struct State<S> {
    value: Option<S>,
    updated: bool,
    removed: bool,
    timing_out: bool,
    misuse: Option<&'static str>,
}

impl<S> State<S> {
    fn new(value: Option<S>, timing_out: bool) -> Self {
        State {
            value,
            updated: false,
            removed: false,
            timing_out,
            misuse: None,
        }
    }

    /// Whether the key has state.
    pub fn exists(&self) -> bool {
        self.value.is_some()
    }

    /// The state, if any (Spark's `getOption`).
    pub fn get(&self) -> Option<&S> {
        self.value.as_ref()
    }

    /// The state, if any (Spark's name for [`get`](Self::get)).
    pub fn get_option(&self) -> Option<&S> {
        self.value.as_ref()
    }

    /// Sets the state. Not allowed after `remove()` or while timing out (the batch then
    /// fails with an error, as Spark's `IllegalArgumentException`).
    pub fn update(&mut self, s: S) {
        if self.removed {
            self.misuse = Some("update() after remove()");
        } else if self.timing_out {
            self.misuse = Some("update() on a state that is timing out");
        } else {
            self.value = Some(s);
            self.updated = true;
        }
    }

    /// Removes the key's state. Not allowed twice or while timing out.
    pub fn remove(&mut self) {
        if self.removed {
            self.misuse = Some("remove() after remove()");
        } else if self.timing_out {
            self.misuse = Some("remove() on a state that is timing out");
        } else {
            self.value = None;
            self.removed = true;
        }
    }

    /// The state to change in place, if any: a change counts as an
    /// [`update`](Self::update). `None` without state, after `remove()`, and while
    /// timing out (the state can then only be read, with [`get`](Self::get)).
    ///
    /// ```
    /// # use rill_runtime::ops::map_with_state::State;
    /// fn add(seen: &mut State<Vec<u64>>, v: u64) {
    ///     match seen.get_mut() {
    ///         Some(all) => all.push(v),
    ///         None => seen.update(vec![v]),
    ///     }
    /// }
    /// ```
    pub fn get_mut(&mut self) -> Option<&mut S> {
        if self.timing_out || self.removed {
            return None;
        }
        let value = self.value.as_mut()?;
        self.updated = true;
        Some(value)
    }

    /// Removes the key's state and returns it (`None` if there was none, or while
    /// timing out: then nothing is removed and the value, if any, stays readable). Not
    /// allowed twice.
    pub fn take(&mut self) -> Option<S> {
        if self.timing_out {
            self.misuse = Some("take() on a state that is timing out");
            return None;
        }
        let value = self.value.take();
        self.remove();
        value
    }

    /// Whether the key is being called because it timed out (then there is no value).
    pub fn is_timing_out(&self) -> bool {
        self.timing_out
    }
}

/// What `map_with_state` does: the function, an optional idle timeout and initial state.
///
/// ```
/// use rill_runtime::ops::map_with_state::{State, StateSpec};
/// use std::time::Duration;
///
/// let spec = StateSpec::function(|word: &String, one: Option<u64>, state: &mut State<u64>| {
///     let total = one.unwrap_or(0) + state.get().copied().unwrap_or(0);
///     if !state.is_timing_out() {
///         state.update(total);
///     }
///     (word.clone(), total)
/// })
/// .timeout(Duration::from_secs(30))
/// .initial_state(vec![("hello".to_string(), 10)]);
/// # let _ = spec;
/// ```
pub struct StateSpec<K, V, S, T, F> {
    f: F,
    timeout: Option<Duration>,
    initial: Vec<(K, S)>,
    _types: PhantomData<fn(V) -> T>,
}

impl<K, V, S, T, F> StateSpec<K, V, S, T, F>
where
    F: Fn(&K, Option<V>, &mut State<S>) -> T,
{
    /// A spec calling `f(key, value, state)` for every record.
    pub fn function(f: F) -> Self {
        StateSpec {
            f,
            timeout: None,
            initial: Vec::new(),
            _types: PhantomData,
        }
    }

    /// Keys idle longer than `d` are called once more with no value, then removed.
    pub fn timeout(mut self, d: Duration) -> Self {
        self.timeout = Some(d);
        self
    }

    /// State the keys start with (its update time is the first batch's time).
    pub fn initial_state(mut self, initial: Vec<(K, S)>) -> Self {
        self.initial = initial;
        self
    }
}

/// The running state of one `map_with_state`.
pub struct MapWithState<K, V, S, T, F> {
    f: F,
    timeout: Option<Duration>,
    initial: Option<Vec<(K, S)>>,
    parts: Vec<KeyMap<K, (S, Time)>>,
    _types: PhantomData<fn(V) -> T>,
}

/// The mapped records and, when asked for, the state after the batch.
pub type MappedWithState<T, K, S> = (Parts<T>, Option<Parts<(K, S)>>);

impl<K, V, S, T, F> MapWithState<K, V, S, T, F>
where
    K: Hash + Eq + Clone + Send + Sync,
    V: Send,
    S: Clone + Send + Sync,
    T: Send,
    F: Fn(&K, Option<V>, &mut State<S>) -> T + Sync + Send,
{
    /// State over `partitions` hash partitions.
    pub fn new(spec: StateSpec<K, V, S, T, F>, partitions: usize) -> Self {
        MapWithState {
            f: spec.f,
            timeout: spec.timeout,
            initial: Some(spec.initial),
            parts: (0..partitions.max(1)).map(|_| KeyMap::default()).collect(),
            _types: PhantomData,
        }
    }

    /// Calls the function for every shuffled record in arrival order, then times out idle
    /// keys; returns the mapped records and, if `snapshots`, the state.
    pub fn step(
        &mut self,
        batch: &Batch<'_>,
        chunks: Vec<Vec<Vec<(K, V)>>>,
        snapshots: bool,
    ) -> crate::Result<MappedWithState<T, K, S>> {
        let t = batch.time();
        if let Some(initial) = self.initial.take() {
            let n = self.parts.len();
            let stamped = initial.into_iter().map(|(k, s)| (k, (s, t))).collect();
            self.parts = partitioned(n, stamped);
        }
        let (f, timeout) = (&self.f, self.timeout);
        let results = for_partitions(batch, chunks, &mut self.parts, |chunks, state| {
            let mut out = Vec::new();
            for (k, values) in group(chunks).into_groups() {
                for v in values {
                    let (prev, prev_time) = match state.remove(&k) {
                        Some((s, at)) => (Some(s), Some(at)),
                        None => (None, None),
                    };
                    let mut st = State::new(prev, false);
                    out.push(f(&k, Some(v), &mut st));
                    if let Some(m) = st.misuse {
                        return Err(m);
                    }
                    if st.removed {
                        continue;
                    }
                    let at = if st.updated || timeout.is_some() {
                        Some(t)
                    } else {
                        prev_time
                    };
                    if let (Some(s), Some(at)) = (st.value, at) {
                        state.insert(k.clone(), (s, at));
                    }
                }
            }
            if let Some(d) = timeout {
                let limit = t.minus(d);
                let idle: Vec<K> = state
                    .iter()
                    .filter(|(_, (_, at))| *at < limit)
                    .map(|(k, _)| k.clone())
                    .collect();
                for k in idle {
                    if let Some((s, _)) = state.remove(&k) {
                        let mut st = State::new(Some(s), true);
                        out.push(f(&k, None, &mut st));
                        if let Some(m) = st.misuse {
                            return Err(m);
                        }
                    }
                }
            }
            let snap = snapshots.then(|| {
                state
                    .iter()
                    .map(|(k, (s, _))| (k.clone(), s.clone()))
                    .collect()
            });
            Ok((out, snap))
        });
        let mut mapped = Vec::with_capacity(results.len());
        let mut snaps = snapshots.then(Vec::new);
        for r in results {
            let (out, snap) =
                r.map_err(|m| Error::Pipeline(format!("map_with_state at {t}: {m}")))?;
            mapped.push(out);
            if let (Some(all), Some(s)) = (snaps.as_mut(), snap) {
                all.push(s);
            }
        }
        Ok((mapped, snaps))
    }
}

/// The saved form of a `map_with_state`: initial state not yet applied, and every key's
/// state with its last update time.
type SavedMapWithState<K, S> = (Option<Vec<(K, S)>>, Vec<(K, (S, Time))>);

impl<K, V, S, T, F> Durable for MapWithState<K, V, S, T, F>
where
    K: Hash + Eq + Clone + Persist,
    S: Clone + Persist,
{
    fn save(&self) -> crate::Result<Vec<u8>> {
        let all: Vec<(K, (S, Time))> = self
            .parts
            .iter()
            .flatten()
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect();
        save(&(self.initial.clone(), all))
    }

    fn load(&mut self, bytes: &[u8]) -> crate::Result<()> {
        let (initial, all): SavedMapWithState<K, S> = load(bytes)?;
        self.initial = initial;
        self.parts = partitioned(self.parts.len(), all);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn state_api_follows_spark() {
        let mut s = State::new(Some(1), false);
        assert!(s.exists());
        assert_eq!(s.get(), Some(&1));
        s.update(2);
        assert_eq!(s.get(), Some(&2));
        s.remove();
        assert!(!s.exists());
        s.update(3);
        assert_eq!(s.misuse, Some("update() after remove()"));
        let mut t = State::new(Some(1), true);
        t.remove();
        assert!(t.misuse.is_some());
    }

    #[test]
    fn get_mut_is_an_update_and_take_a_remove() {
        let mut s = State::new(Some(vec![1]), false);
        s.get_mut().unwrap().push(2);
        assert!(s.updated);
        assert_eq!(s.get(), Some(&vec![1, 2]));
        assert_eq!(s.take(), Some(vec![1, 2]));
        assert!(s.removed && !s.exists());
        assert_eq!(s.get_mut(), None);
        assert_eq!(s.take(), None);
        assert_eq!(s.misuse, Some("remove() after remove()"));
        let mut none = State::<u8>::new(None, false);
        assert_eq!(none.get_mut(), None);
        assert!(!none.updated);
        let mut timing_out = State::new(Some(3), true);
        assert_eq!(timing_out.get_mut(), None);
        assert_eq!(timing_out.take(), None);
        assert!(timing_out.misuse.is_some());
    }
}
