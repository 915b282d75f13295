//! `forecast_arima(spec, slide)` and `detect_anomalies(spec, slide)`: per key of a stream
//! of `(key, f64)` observations, the last `n` values; every slide an ARIMA model is
//! refitted per key (starting from the previous fit's parameters) and
//!
//! - `forecast_arima` emits `(key, forecasts)`: the next `h` values with 95% intervals;
//! - `detect_anomalies` emits an [`Alert`] for every observation outside its one-step-ahead
//!   95% interval under the key's current model (checked as observations arrive).

use super::group_by_key::group;
use super::keyed_state::{KeyMap, for_partitions, partitioned};
use super::window::WindowSpec;
use crate::checkpoint::durable::{Durable, Persist, load, save};
use crate::forecast::{Arima, Forecast, Order};
use crate::{Batch, Parts};
use std::collections::VecDeque;
use std::hash::Hash;

/// What model to fit per key, on how much history, and how far to forecast.
#[derive(Clone, Debug)]
pub struct ArimaSpec {
    order: Order,
    auto: Option<(usize, usize)>,
    constant: bool,
    history: usize,
    horizon: usize,
}

impl ArimaSpec {
    /// A fixed order; a constant (the mean) is estimated when there is no differencing,
    /// as statsmodels' default; 200 values of history; 10 steps ahead.
    pub fn new(order: Order) -> ArimaSpec {
        ArimaSpec {
            order,
            auto: None,
            constant: order.d == 0 && order.sd == 0,
            history: 200,
            horizon: 10,
        }
    }

    /// The order chosen per key by AICc among `p ≤ max_p`, `q ≤ max_q` with `d` differences.
    pub fn auto(max_p: usize, d: usize, max_q: usize) -> ArimaSpec {
        ArimaSpec {
            auto: Some((max_p, max_q)),
            ..ArimaSpec::new(Order::arima(0, d, 0))
        }
    }

    /// Whether to estimate a constant (the mean, or the drift of a differenced series).
    pub fn constant(mut self, on: bool) -> Self {
        self.constant = on;
        self
    }

    /// How many of each key's last values the model is fitted on.
    pub fn history(mut self, n: usize) -> Self {
        self.history = n.max(3);
        self
    }

    /// How many steps ahead to forecast.
    pub fn horizon(mut self, h: usize) -> Self {
        self.horizon = h.max(1);
        self
    }

    fn fit(&self, y: &[f64], previous: Option<&Arima>) -> Option<Arima> {
        let fitted = match self.auto {
            Some((max_p, max_q)) => {
                Arima::fit_auto(y, max_p, self.order.d, max_q, self.constant, previous)
            }
            None => Arima::fit(y, self.order, self.constant, previous),
        };
        match fitted {
            Ok(m) => Some(m),
            Err(e) => {
                tracing::debug!(error = %e, "no model for a key this slide");
                None
            }
        }
    }

    /// Observations a key needs before a model is fitted.
    fn min_obs(&self) -> usize {
        let o = self.order;
        (o.p + o.q + o.d + (o.sp + o.sq + o.sd) * o.s + 10).min(self.history)
    }
}

/// An observation outside its one-step-ahead 95% interval.
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Alert<K> {
    /// The key.
    pub key: K,
    /// The observed value.
    pub value: f64,
    /// The value the model expected.
    pub expected: f64,
    /// Lower bound of the interval.
    pub lower: f64,
    /// Upper bound of the interval.
    pub upper: f64,
}

/// One key's history and model.
#[derive(Clone, Debug, Default, serde::Serialize, serde::Deserialize)]
struct KeyModel {
    values: VecDeque<f64>,
    model: Option<Arima>,
}

/// The state of one `forecast_arima` or `detect_anomalies`.
pub struct ArimaState<K> {
    spec: ArimaSpec,
    slide: WindowSpec,
    parts: Vec<KeyMap<K, KeyModel>>,
}

impl<K: Hash + Eq + Clone + Send + Sync> ArimaState<K> {
    /// Empty state over `partitions` hash partitions, refitting every `slide`.
    pub fn new(spec: ArimaSpec, slide: WindowSpec, partitions: usize) -> Self {
        ArimaState {
            spec,
            slide,
            parts: (0..partitions.max(1)).map(|_| KeyMap::default()).collect(),
        }
    }

    /// Adds a batch's observations; at a slide, refits and returns every key's forecasts.
    pub fn forecast(
        &mut self,
        batch: &Batch<'_>,
        chunks: Vec<Vec<Vec<(K, f64)>>>,
    ) -> Option<Parts<(K, Vec<Forecast>)>> {
        let fires = self.slide.fires(batch.time(), batch.zero_time());
        let spec = &self.spec;
        let out = for_partitions(batch, chunks, &mut self.parts, |chunks, keys| {
            for (k, values) in group(chunks).into_groups() {
                let km = keys.entry(k).or_default();
                push_all(&mut km.values, values, spec.history);
            }
            if !fires {
                return Vec::new();
            }
            let mut out = Vec::new();
            for (k, km) in keys.iter_mut() {
                if km.values.len() < spec.min_obs() {
                    continue;
                }
                let y: Vec<f64> = km.values.iter().copied().collect();
                if let Some(m) = spec.fit(&y, km.model.as_ref()) {
                    out.push((k.clone(), m.forecast(spec.horizon)));
                    km.model = Some(m);
                }
            }
            out
        });
        fires.then_some(out)
    }

    /// Checks a batch's observations against each key's model as they arrive; returns the
    /// alerts. At a slide, refits the models.
    pub fn detect(
        &mut self,
        batch: &Batch<'_>,
        chunks: Vec<Vec<Vec<(K, f64)>>>,
    ) -> Parts<Alert<K>> {
        let fires = self.slide.fires(batch.time(), batch.zero_time());
        let spec = &self.spec;
        for_partitions(batch, chunks, &mut self.parts, |chunks, keys| {
            let mut alerts = Vec::new();
            for (k, values) in group(chunks).into_groups() {
                let km = keys.entry(k.clone()).or_default();
                for v in values {
                    if let Some(m) = &km.model {
                        let y: Vec<f64> = km.values.iter().copied().collect();
                        if let Some(f) = m.refilter(&y).map(|m| m.next()) {
                            if v < f.lower || v > f.upper {
                                alerts.push(Alert {
                                    key: k.clone(),
                                    value: v,
                                    expected: f.mean,
                                    lower: f.lower,
                                    upper: f.upper,
                                });
                            }
                        }
                    }
                    push_all(&mut km.values, [v], spec.history);
                }
            }
            if fires {
                for km in keys.values_mut() {
                    if km.values.len() >= spec.min_obs() {
                        let y: Vec<f64> = km.values.iter().copied().collect();
                        if let Some(m) = spec.fit(&y, km.model.as_ref()) {
                            km.model = Some(m);
                        }
                    }
                }
            }
            alerts
        })
    }
}

fn push_all(history: &mut VecDeque<f64>, values: impl IntoIterator<Item = f64>, n: usize) {
    for v in values {
        if v.is_finite() {
            history.push_back(v);
        }
    }
    while history.len() > n {
        history.pop_front();
    }
}

impl<K: Hash + Eq + Clone + Persist> Durable for ArimaState<K> {
    fn save(&self) -> crate::Result<Vec<u8>> {
        let all: Vec<(&K, &KeyModel)> = self.parts.iter().flatten().collect();
        save(&all)
    }

    fn load(&mut self, bytes: &[u8]) -> crate::Result<()> {
        let all: Vec<(K, KeyModel)> = load(bytes)?;
        self.parts = partitioned(self.parts.len(), all);
        Ok(())
    }
}

impl<K: crate::Record> crate::Record for Alert<K> {
    type Owned = Alert<K::Owned>;
    fn into_owned(self) -> Self::Owned {
        Alert {
            key: self.key.into_owned(),
            value: self.value,
            expected: self.expected,
            lower: self.lower,
            upper: self.upper,
        }
    }
}
