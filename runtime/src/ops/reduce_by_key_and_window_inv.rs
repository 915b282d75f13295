//! `reduce_by_key_and_window_inv(f, inv, len, slide[, filter])`: the windowed reduction
//! kept incrementally, as Spark's `ReducedWindowedDStream`. At each firing the previous
//! window's value of a key is updated with the batches that left the window (`inv`) and
//! those that entered it (`f`), so the cost depends on the keys of those batches, not on
//! the window's length. Like Spark, a key whose value fell back to the neutral value
//! stays (e.g. `("a", 0)`) unless `filter` drops it; the filtered result is also the state
//! the next window starts from.
//!
//! With `slide > len` (windows with gaps) the batches between windows belong to neither,
//! so the result is still the reduction of exactly the window's batches.

use super::keyed_state::partitioned;
use super::keyed_state::{KeyMap, for_partitions};
use super::reduce_by_key::reduce_side;
use super::reduce_by_key_and_window::{load_batches, save_batches};
use super::window::WindowSpec;
use crate::checkpoint::durable::{Durable, Persist, load, save};
use crate::combine::{Combined, Combiner};
use crate::{Batch, Key, Parts, Time};
use std::collections::VecDeque;

struct Part<K, V> {
    batches: VecDeque<(Time, Vec<(K, V)>)>,
    prev: KeyMap<K, V>,
}

/// The state of one inverse-reduced keyed window.
pub struct InvWindow<K, V> {
    spec: WindowSpec,
    parts: Vec<Part<K, V>>,
}

impl<K, V> InvWindow<K, V>
where
    K: Key<Owned = K> + Clone + Send + Sync,
    V: Clone + Send + Sync,
{
    /// An empty window over `partitions` hash partitions.
    pub fn new(spec: WindowSpec, partitions: usize) -> Self {
        InvWindow {
            spec,
            parts: (0..partitions.max(1))
                .map(|_| Part {
                    batches: VecDeque::new(),
                    prev: KeyMap::default(),
                })
                .collect(),
        }
    }

    /// Adds a batch's shuffled pairs; at a firing time returns every key's windowed value.
    pub fn step<Q: Key<Owned = K> + Send, F, G>(
        &mut self,
        batch: &Batch<'_>,
        chunks: Vec<Vec<Combined<Q, V>>>,
        f: F,
        inv: G,
    ) -> Option<Parts<(K, V)>>
    where
        F: Fn(V, V) -> V + Sync + Send,
        G: Fn(V, V) -> V + Sync + Send,
    {
        self.step_filtered(batch, chunks, f, inv, None::<NoFilter<K, V>>)
    }

    /// [`step_filtered`](Self::step_filtered) with a filter that is always given.
    pub fn step_with_filter<Q: Key<Owned = K> + Send, F, G, H>(
        &mut self,
        batch: &Batch<'_>,
        chunks: Vec<Vec<Combined<Q, V>>>,
        f: F,
        inv: G,
        filter: H,
    ) -> Option<Parts<(K, V)>>
    where
        F: Fn(V, V) -> V + Sync + Send,
        G: Fn(V, V) -> V + Sync + Send,
        H: Fn(&K, &V) -> bool + Sync + Send,
    {
        self.step_filtered(batch, chunks, f, inv, Some(filter))
    }

    /// [`step`](Self::step), keeping only the keys `filter` accepts (in the result and in
    /// the state the next window starts from).
    pub fn step_filtered<Q: Key<Owned = K> + Send, F, G, H>(
        &mut self,
        batch: &Batch<'_>,
        chunks: Vec<Vec<Combined<Q, V>>>,
        f: F,
        inv: G,
        filter: Option<H>,
    ) -> Option<Parts<(K, V)>>
    where
        F: Fn(V, V) -> V + Sync + Send,
        G: Fn(V, V) -> V + Sync + Send,
        H: Fn(&K, &V) -> bool + Sync + Send,
    {
        let t = batch.time();
        let fires = self.spec.fires(t, batch.zero_time());
        let (len, slide) = (self.spec.len_ms as i128, self.spec.slide_ms as i128);
        let now = t.millis() as i128;
        let out = for_partitions(batch, chunks, &mut self.parts, |chunks, part| {
            part.batches.push_back((t, reduce_side(chunks, &f)));
            if !fires {
                return Vec::new();
            }
            // Batches that left: in the previous window, not in this one; that entered: the reverse.
            let reduce_range = |from: i128, to: i128| {
                let mut c = Combiner::new();
                for (b, pairs) in &part.batches {
                    if WindowSpec::between(*b, from, to) {
                        for (k, v) in pairs {
                            c.insert(k.clone(), v.clone(), &f);
                        }
                    }
                }
                c.into_pairs()
            };
            let old = reduce_range(now - slide - len, (now - slide).min(now - len));
            let new = reduce_range((now - len).max(now - slide), now);
            for (k, o) in old {
                if let Some(p) = part.prev.remove(&k) {
                    part.prev.insert(k, inv(p, o));
                }
            }
            for (k, n) in new {
                let v = match part.prev.remove(&k) {
                    Some(p) => f(p, n),
                    None => n,
                };
                part.prev.insert(k, v);
            }
            if let Some(keep) = &filter {
                part.prev.retain(|k, v| keep(k, v));
            }
            while part
                .batches
                .front()
                .is_some_and(|(b, _)| (b.millis() as i128) <= now - len)
            {
                part.batches.pop_front();
            }
            part.prev
                .iter()
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect()
        });
        fires.then_some(out)
    }
}

/// No filter (the type of `None` for [`InvWindow::step`]).
pub type NoFilter<K, V> = fn(&K, &V) -> bool;
impl<K, V> Durable for InvWindow<K, V>
where
    K: Key<Owned = K> + Clone + Send + Sync + Persist,
    V: Clone + Send + Sync + Persist,
{
    fn save(&self) -> crate::Result<Vec<u8>> {
        let batches: Vec<&VecDeque<(Time, Vec<(K, V)>)>> =
            self.parts.iter().map(|p| &p.batches).collect();
        let prev: Vec<(&K, &V)> = self.parts.iter().flat_map(|p| p.prev.iter()).collect();
        save(&(save_batches(&batches), prev))
    }

    fn load(&mut self, bytes: &[u8]) -> crate::Result<()> {
        let (batches, prev): (Vec<(Time, Vec<(K, V)>)>, Vec<(K, V)>) = load(bytes)?;
        let n = self.parts.len();
        let prev = partitioned(n, prev);
        self.parts = load_batches(n, batches)
            .into_iter()
            .zip(prev)
            .map(|(batches, prev)| Part { batches, prev })
            .collect();
        Ok(())
    }
}
