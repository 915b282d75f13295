//! ARIMA(p, d, q) and seasonal SARIMA(p, d, q)(P, D, Q, s) fitted by exact maximum
//! likelihood: the series is differenced, a constant (the mean, or the drift of a
//! differenced series) is estimated with the ARMA coefficients, and the likelihood of the
//! ARMA part comes from the Kalman filter started at the stationary distribution. AR
//! parts are kept stationary and MA parts invertible by reparameterization, as statsmodels
//! does. Forecast intervals come from the ψ-weights of the full (integrated) model.

use super::degenerate::{Spread, check_finite};
use super::kalman::StateSpace;
use super::optimize::nelder_mead;
use super::transform::{constrain, unconstrain};

/// The orders of a (seasonal) ARIMA model.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize)]
pub struct Order {
    /// AR order.
    pub p: usize,
    /// Differences.
    pub d: usize,
    /// MA order.
    pub q: usize,
    /// Seasonal AR order.
    pub sp: usize,
    /// Seasonal differences.
    pub sd: usize,
    /// Seasonal MA order.
    pub sq: usize,
    /// Season length (0: not seasonal).
    pub s: usize,
}

impl Order {
    /// ARIMA(p, d, q).
    pub fn arima(p: usize, d: usize, q: usize) -> Order {
        Order {
            p,
            d,
            q,
            ..Order::default()
        }
    }

    /// SARIMA(p, d, q)(P, D, Q, s).
    pub fn sarima(
        p: usize,
        d: usize,
        q: usize,
        sp: usize,
        sd: usize,
        sq: usize,
        s: usize,
    ) -> Order {
        Order {
            p,
            d,
            q,
            sp,
            sd,
            sq,
            s,
        }
    }
}

/// A fitted model.
#[derive(Clone, Debug, serde::Serialize, serde::Deserialize)]
pub struct Arima {
    /// The orders.
    pub order: Order,
    /// Whether a constant was estimated (the mean, or the drift when differenced).
    pub constant: bool,
    /// AR coefficients φ (`y_t = φ1 y_{t-1} + ...`).
    pub ar: Vec<f64>,
    /// MA coefficients θ (`... + ε_t + θ1 ε_{t-1} + ...`).
    pub ma: Vec<f64>,
    /// Seasonal AR coefficients.
    pub sar: Vec<f64>,
    /// Seasonal MA coefficients.
    pub sma: Vec<f64>,
    /// The constant (0 without one).
    pub mean: f64,
    /// Innovation variance.
    pub sigma2: f64,
    /// Log-likelihood of the differenced series.
    pub loglik: f64,
    /// Observations used (after differencing).
    pub nobs: usize,
    /// The last values of the series, for undoing the differences.
    tail: Vec<f64>,
    /// The Kalman state after the series (unit variance), for forecasting.
    state: Vec<f64>,
}

/// One forecast step: the expected value and its 95% interval.
#[derive(Clone, Copy, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Forecast {
    /// Expected value.
    pub mean: f64,
    /// Lower bound of the 95% interval.
    pub lower: f64,
    /// Upper bound of the 95% interval.
    pub upper: f64,
}

pub use super::error::FitError;

/// `(1 - Σ a_i B^i)(1 - Σ b_j B^{js})` as the coefficients `c` of `1 - Σ c_k B^k`.
fn multiply_ar(a: &[f64], b: &[f64], s: usize) -> Vec<f64> {
    let len = a.len() + b.len() * s;
    let mut poly = vec![0.0; len + 1];
    poly[0] = 1.0;
    for (i, ai) in a.iter().enumerate() {
        poly[i + 1] -= ai;
    }
    let mut out = poly.clone();
    for (j, bj) in b.iter().enumerate() {
        let shift = (j + 1) * s;
        for (k, pk) in poly.iter().enumerate() {
            if k + shift <= len {
                out[k + shift] -= bj * pk;
            }
        }
    }
    out[1..].iter().map(|c| -c).collect()
}

/// `(1 + Σ a_i B^i)(1 + Σ b_j B^{js})` as the coefficients `c` of `1 + Σ c_k B^k`.
fn multiply_ma(a: &[f64], b: &[f64], s: usize) -> Vec<f64> {
    let neg = |v: &[f64]| v.iter().map(|x| -x).collect::<Vec<_>>();
    neg(&multiply_ar(&neg(a), &neg(b), s))
}

/// The differencing polynomial `(1 - B)^d (1 - B^s)^D` as `1 - Σ c_k B^k`.
fn differencing(order: &Order) -> Vec<f64> {
    let mut c: Vec<f64> = Vec::new();
    for _ in 0..order.d {
        c = multiply_ar(&c, &[1.0], 1);
    }
    for _ in 0..order.sd {
        c = multiply_ar(&c, &[1.0], order.s);
    }
    c
}

fn difference(y: &[f64], order: &Order) -> Vec<f64> {
    let mut x = y.to_vec();
    for _ in 0..order.d {
        x = x.windows(2).map(|w| w[1] - w[0]).collect();
    }
    for _ in 0..order.sd {
        x = (order.s..x.len()).map(|i| x[i] - x[i - order.s]).collect();
    }
    x
}

struct Layout {
    order: Order,
    constant: bool,
}

impl Layout {
    fn len(&self) -> usize {
        let o = &self.order;
        o.p + o.q + o.sp + o.sq + usize::from(self.constant)
    }

    /// Unconstrained vector → (ar, ma, sar, sma, mean).
    fn split(&self, u: &[f64]) -> (Vec<f64>, Vec<f64>, Vec<f64>, Vec<f64>, f64) {
        let o = &self.order;
        let mut at = 0;
        let mut take = |n: usize| {
            let s = &u[at..at + n];
            at += n;
            s
        };
        let ar = constrain(take(o.p));
        let ma: Vec<f64> = constrain(take(o.q)).iter().map(|v| -v).collect();
        let sar = constrain(take(o.sp));
        let sma: Vec<f64> = constrain(take(o.sq)).iter().map(|v| -v).collect();
        let mean = if self.constant { take(1)[0] } else { 0.0 };
        (ar, ma, sar, sma, mean)
    }

    fn join(&self, m: &Arima) -> Vec<f64> {
        let neg = |v: &[f64]| v.iter().map(|x| -x).collect::<Vec<_>>();
        let mut u = unconstrain(&m.ar);
        u.extend(unconstrain(&neg(&m.ma)));
        u.extend(unconstrain(&m.sar));
        u.extend(unconstrain(&neg(&m.sma)));
        if self.constant {
            u.push(m.mean);
        }
        u
    }
}

/// The concentrated log-likelihood of `x - mean` under the ARMA part, with σ² and the
/// final Kalman state.
fn likelihood(x: &[f64], ar: &[f64], ma: &[f64], mean: f64) -> Option<(f64, f64, Vec<f64>)> {
    let ss = StateSpace::new(ar, ma);
    let centred: Vec<f64> = x.iter().map(|v| v - mean).collect();
    let f = ss.filter(&centred)?;
    let n = x.len() as f64;
    let sigma2 = f.sum_sq / n;
    if sigma2.is_nan() || sigma2 <= 0.0 {
        return None;
    }
    let ll = -0.5 * n * ((2.0 * std::f64::consts::PI).ln() + sigma2.ln() + 1.0) - 0.5 * f.sum_log_f;
    Some((ll, sigma2, f.state))
}

impl Arima {
    /// Fits `order` (with a constant if `constant`) to `y` by maximum likelihood, starting
    /// from `start`'s parameters when given (a refit of the same key).
    ///
    /// Refuses a series holding a NaN or an infinity ([`FitError::NonFinite`], naming the
    /// first), and a fit that reproduces the series exactly, as on a constant series
    /// ([`FitError::Degenerate`], which says when a fit is).
    pub fn fit(
        y: &[f64],
        order: Order,
        constant: bool,
        start: Option<&Arima>,
    ) -> Result<Arima, FitError> {
        check_finite(y)?;
        if (order.sp + order.sd + order.sq > 0) && order.s < 2 {
            return Err(FitError::InvalidOrder(
                "a seasonal order needs a season length of at least 2".into(),
            ));
        }
        let x = difference(y, &order);
        let needed = order.p + order.q + order.s * (order.sp + order.sq) + 2;
        if x.len() < needed.max(3) {
            return Err(FitError::TooShort {
                observations: x.len(),
                needed: needed.max(3),
            });
        }
        let spread = Spread::of(y, &x);
        spread.check_before(constant)?;
        let layout = Layout { order, constant };
        let mean0 = spread.mean;
        let sd = spread.variance.sqrt().max(1e-8);
        let warm = start.filter(|s| s.order == order && s.constant == constant);
        let mut u0 = match warm {
            Some(s) => layout.join(s),
            None => {
                let mut u = vec![0.0; layout.len()];
                if constant {
                    u[layout.len() - 1] = mean0;
                }
                u
            }
        };
        let mut step = vec![if warm.is_some() { 0.1 } else { 0.3 }; layout.len()];
        if constant {
            let last = layout.len() - 1;
            step[last] = sd * if warm.is_some() { 0.05 } else { 0.2 };
        }
        let mut objective = |u: &[f64]| {
            let (ar, ma, sar, sma, mean) = layout.split(u);
            let full_ar = multiply_ar(&ar, &sar, order.s);
            let full_ma = multiply_ma(&ma, &sma, order.s);
            likelihood(&x, &full_ar, &full_ma, mean).map_or(f64::INFINITY, |(ll, _, _)| -ll)
        };
        let rounds = if warm.is_some() { 1 } else { 3 };
        let mut best = f64::INFINITY;
        for round in 0..rounds {
            let (u, v) = nelder_mead(
                &mut objective,
                &u0,
                &step,
                1e-10,
                if warm.is_some() { 400 } else { 3000 },
            );
            let improved = best - v;
            u0 = u;
            best = v;
            if round > 0 && improved < 1e-9 {
                break;
            }
            for s in step.iter_mut() {
                *s *= 0.3;
            }
        }
        let (ar, ma, sar, sma, mean) = layout.split(&u0);
        let full_ar = multiply_ar(&ar, &sar, order.s);
        let full_ma = multiply_ma(&ma, &sma, order.s);
        let (loglik, sigma2, state) =
            likelihood(&x, &full_ar, &full_ma, mean).ok_or(FitError::NoLikelihood)?;
        spread.check_fit(sigma2)?;
        let lags = order.d + order.sd * order.s;
        Ok(Arima {
            order,
            constant,
            ar,
            ma,
            sar,
            sma,
            mean,
            sigma2,
            loglik,
            nobs: x.len(),
            tail: y[y.len().saturating_sub(lags)..].to_vec(),
            state,
        })
    }

    /// The number of estimated parameters (coefficients, constant and σ²).
    pub fn n_params(&self) -> usize {
        self.ar.len()
            + self.ma.len()
            + self.sar.len()
            + self.sma.len()
            + usize::from(self.constant)
            + 1
    }

    /// The small-sample corrected Akaike criterion.
    pub fn aicc(&self) -> f64 {
        let k = self.n_params() as f64;
        let n = self.nobs as f64;
        -2.0 * self.loglik
            + 2.0 * k
            + if n - k - 1.0 > 0.0 {
                2.0 * k * (k + 1.0) / (n - k - 1.0)
            } else {
                f64::INFINITY
            }
    }

    /// The next `h` values with 95% intervals.
    pub fn forecast(&self, h: usize) -> Vec<Forecast> {
        let o = &self.order;
        let full_ar = multiply_ar(&self.ar, &self.sar, o.s);
        let full_ma = multiply_ma(&self.ma, &self.sma, o.s);
        let ss = StateSpace::new(&full_ar, &full_ma);
        let z: Vec<f64> = ss
            .forecast(&self.state, h)
            .into_iter()
            .map(|v| v + self.mean)
            .collect();
        // Undo the differences: y_t = z_t + Σ c_k y_{t-k}.
        let diff = differencing(o);
        let mut hist = self.tail.clone();
        let mut means = Vec::with_capacity(h);
        for zt in z {
            let n = hist.len();
            let y: f64 = zt
                + diff
                    .iter()
                    .enumerate()
                    .map(|(k, c)| c * hist[n - 1 - k])
                    .sum::<f64>();
            hist.push(y);
            means.push(y);
        }
        // ψ-weights of φ(B)Φ(B^s)(1-B)^d(1-B^s)^D y = θ(B)Θ(B^s) ε.
        let total_ar = {
            let mut c = full_ar.clone();
            let mut poly = vec![1.0];
            poly.extend(c.iter().map(|v| -v));
            let mut dpoly = vec![1.0];
            dpoly.extend(diff.iter().map(|v| -v));
            let mut prod = vec![0.0; poly.len() + dpoly.len() - 1];
            for (i, a) in poly.iter().enumerate() {
                for (j, b) in dpoly.iter().enumerate() {
                    prod[i + j] += a * b;
                }
            }
            c = prod[1..].iter().map(|v| -v).collect();
            c
        };
        let mut psi = vec![1.0];
        for j in 1..h {
            let mut v = if j <= full_ma.len() {
                full_ma[j - 1]
            } else {
                0.0
            };
            for (i, phi) in total_ar.iter().enumerate().take(j) {
                v += phi * psi[j - 1 - i];
            }
            psi.push(v);
        }
        let mut acc = 0.0;
        means
            .into_iter()
            .zip(psi)
            .map(|(mean, p)| {
                acc += p * p;
                let half = 1.959_963_984_540_054 * (self.sigma2 * acc).sqrt();
                Forecast {
                    mean,
                    lower: mean - half,
                    upper: mean + half,
                }
            })
            .collect()
    }

    /// The same model (parameters kept) run over a new history `y`: its forecasts start
    /// after `y`. `None` if the likelihood cannot be evaluated.
    pub fn refilter(&self, y: &[f64]) -> Option<Arima> {
        let o = self.order;
        let x = difference(y, &o);
        if x.is_empty() {
            return None;
        }
        let full_ar = multiply_ar(&self.ar, &self.sar, o.s);
        let full_ma = multiply_ma(&self.ma, &self.sma, o.s);
        let (loglik, _, state) = likelihood(&x, &full_ar, &full_ma, self.mean)?;
        let lags = o.d + o.sd * o.s;
        Some(Arima {
            loglik,
            nobs: x.len(),
            tail: y[y.len().saturating_sub(lags)..].to_vec(),
            state,
            ..self.clone()
        })
    }

    /// Fits every order with `p ≤ max_p` and `q ≤ max_q` (and the given differences) and
    /// keeps the one with the smallest AICc. Degenerate fits ([`FitError::Degenerate`])
    /// are never kept; when every order fails, the error is the first degenerate one if
    /// any (else the last error), so a constant series is reported as such.
    pub fn fit_auto(
        y: &[f64],
        max_p: usize,
        d: usize,
        max_q: usize,
        constant: bool,
        start: Option<&Arima>,
    ) -> Result<Arima, FitError> {
        check_finite(y)?;
        let mut best: Option<Arima> = None;
        let (mut degenerate, mut last_err) = (None, None);
        for p in 0..=max_p {
            for q in 0..=max_q {
                match Arima::fit(y, Order::arima(p, d, q), constant, start) {
                    Ok(m) if best.as_ref().is_none_or(|b| m.aicc() < b.aicc()) => best = Some(m),
                    Ok(_) => {}
                    Err(e @ FitError::Degenerate { .. }) => {
                        degenerate.get_or_insert(e);
                    }
                    Err(e) => last_err = Some(e),
                }
            }
        }
        // The loops run at least once, so one of the three is set.
        best.ok_or_else(|| {
            degenerate
                .or(last_err)
                .unwrap_or(FitError::InvalidOrder("no order to fit".into()))
        })
    }

    /// The one-step-ahead interval (for anomaly detection).
    pub fn next(&self) -> Forecast {
        self.forecast(1)[0]
    }
}

impl crate::Record for Forecast {
    type Owned = Forecast;
    fn into_owned(self) -> Forecast {
        self
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn polynomials_multiply() {
        // (1 - 0.5B)(1 - 0.2B^2) = 1 - 0.5B - 0.2B^2 + 0.1B^3
        let c = multiply_ar(&[0.5], &[0.2], 2);
        assert_eq!(c.len(), 3);
        assert!(
            (c[0] - 0.5).abs() < 1e-12 && (c[1] - 0.2).abs() < 1e-12 && (c[2] + 0.1).abs() < 1e-12,
            "{c:?}"
        );
        // (1 - B)^2 = 1 - 2B + B^2
        assert_eq!(differencing(&Order::arima(0, 2, 0)), vec![2.0, -1.0]);
    }

    #[test]
    fn recovers_an_ar1() {
        let mut y = vec![0.0f64; 400];
        let mut s = 12345u64;
        let mut noise = || {
            s ^= s << 13;
            s ^= s >> 7;
            s ^= s << 17;
            ((s >> 11) as f64 / (1u64 << 53) as f64 - 0.5) * 3.46
        };
        for t in 1..y.len() {
            y[t] = 0.7 * y[t - 1] + noise();
        }
        let m = Arima::fit(&y, Order::arima(1, 0, 0), true, None).unwrap();
        assert!((m.ar[0] - 0.7).abs() < 0.08, "{m:?}");
        let f = m.forecast(3);
        assert!(f[0].lower < f[0].mean && f[0].mean < f[0].upper);
        assert!(f[2].upper - f[2].lower > f[0].upper - f[0].lower);
    }
}
