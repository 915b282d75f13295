//! The exact Gaussian likelihood of a zero-mean ARMA process, from the Kalman filter on
//! its state space form (Harvey): state dimension `m = max(p, q + 1)`, the state started
//! from its stationary distribution.

/// An ARMA model in state space form with unit innovation variance.
pub struct StateSpace {
    m: usize,
    /// AR coefficients padded to `m`: `y_t = Σ φ_i y_{t-i} + ε_t + Σ θ_j ε_{t-j}`.
    phi: Vec<f64>,
    /// `R = (1, θ1, ..., θ_{m-1})`.
    r: Vec<f64>,
}

/// The filter's outcome over a series.
pub struct Filtered {
    /// Σ v_t² / F_t (with unit innovation variance).
    pub sum_sq: f64,
    /// Σ log F_t.
    pub sum_log_f: f64,
    /// The predicted state for the step after the series.
    pub state: Vec<f64>,
}

impl StateSpace {
    /// The state space of `φ(B) y = θ(B) ε` (polynomials without their leading 1).
    pub fn new(ar: &[f64], ma: &[f64]) -> StateSpace {
        let m = ar.len().max(ma.len() + 1).max(1);
        let mut phi = vec![0.0; m];
        phi[..ar.len()].copy_from_slice(ar);
        let mut r = vec![0.0; m];
        r[0] = 1.0;
        r[1..=ma.len()].copy_from_slice(ma);
        StateSpace { m, phi, r }
    }

    /// `x ↦ T x`: first element Σ φ_i x_i... in companion form, `(T x)_i = φ_i x_0 + x_{i+1}`.
    fn transition(&self, x: &[f64], out: &mut [f64]) {
        let m = self.m;
        for i in 0..m {
            out[i] = self.phi[i] * x[0] + if i + 1 < m { x[i + 1] } else { 0.0 };
        }
    }

    /// The stationary state covariance P solving `P = T P T' + R R'`, or `None` when the
    /// system is singular (a non-stationary AR part).
    pub fn stationary_cov(&self) -> Option<Vec<f64>> {
        let m = self.m;
        let n = m * m;
        // (I - T⊗T) vec(P) = vec(RR'), with T[i][0] = φ_i, T[i][i+1] = 1.
        let t = |i: usize, j: usize| -> f64 {
            let mut v = if j == 0 { self.phi[i] } else { 0.0 };
            if j == i + 1 {
                v += 1.0;
            }
            v
        };
        let mut a = vec![0.0; n * n];
        let mut b = vec![0.0; n];
        for i in 0..m {
            for j in 0..m {
                let row = i * m + j;
                b[row] = self.r[i] * self.r[j];
                for k in 0..m {
                    let tik = t(i, k);
                    if tik == 0.0 {
                        continue;
                    }
                    for l in 0..m {
                        let tjl = t(j, l);
                        if tjl != 0.0 {
                            a[row * n + k * m + l] -= tik * tjl;
                        }
                    }
                }
                a[row * n + row] += 1.0;
            }
        }
        solve(&mut a, &mut b, n)?;
        Some(b)
    }

    /// Runs the filter over `y` (zero mean). Once the covariance has converged (as it
    /// does for a stationary, invertible ARMA model) the gain is fixed and only the state
    /// is updated.
    pub fn filter(&self, y: &[f64]) -> Option<Filtered> {
        let m = self.m;
        let mut p = self.stationary_cov()?;
        let mut a = vec![0.0; m];
        let (mut sum_sq, mut sum_log_f) = (0.0, 0.0);
        let mut ta = vec![0.0; m];
        let mut pu = vec![0.0; m * m];
        let mut tmp = vec![0.0; m * m];
        let mut gain = vec![0.0; m];
        let mut steady = false;
        let mut f = 0.0;
        let mut log_f = 0.0;
        for &obs in y {
            if !steady {
                f = p[0];
                if f.is_nan() || f <= 1e-12 || !f.is_finite() {
                    return None;
                }
                log_f = f.ln();
                for i in 0..m {
                    gain[i] = p[i * m] / f;
                }
            }
            let v = obs - a[0];
            sum_sq += v * v / f;
            sum_log_f += log_f;
            // Update and predict the state: a = T (a + k v).
            for i in 0..m {
                a[i] += gain[i] * v;
            }
            self.transition(&a, &mut ta);
            std::mem::swap(&mut a, &mut ta);
            if steady {
                continue;
            }
            // P_upd = P - P e1 e1' P / f; then P = T P_upd T' + R R'.
            for i in 0..m {
                for j in 0..m {
                    pu[i * m + j] = p[i * m + j] - gain[i] * p[j * m];
                }
            }
            // tmp = T * pu (rows): (T x)_i = phi_i x_0 + x_{i+1}.
            for i in 0..m {
                for j in 0..m {
                    let next = if i + 1 < m { pu[(i + 1) * m + j] } else { 0.0 };
                    tmp[i * m + j] = self.phi[i] * pu[j] + next;
                }
            }
            // P = tmp * T' + R R'.
            let mut change: f64 = 0.0;
            for i in 0..m {
                for j in 0..m {
                    let next = if j + 1 < m { tmp[i * m + j + 1] } else { 0.0 };
                    let val = tmp[i * m] * self.phi[j] + next + self.r[i] * self.r[j];
                    change = change.max((val - p[i * m + j]).abs());
                    p[i * m + j] = val;
                }
            }
            steady = change < 1e-12;
        }
        Some(Filtered {
            sum_sq,
            sum_log_f,
            state: a,
        })
    }

    /// Point forecasts of the next `h` values from a filtered state.
    pub fn forecast(&self, state: &[f64], h: usize) -> Vec<f64> {
        let mut a = state.to_vec();
        let mut next = vec![0.0; self.m];
        let mut out = Vec::with_capacity(h);
        for _ in 0..h {
            out.push(a[0]);
            self.transition(&a, &mut next);
            a.copy_from_slice(&next);
        }
        out
    }
}

/// Solves `A x = b` in place (b becomes x) by Gaussian elimination with partial pivoting.
fn solve(a: &mut [f64], b: &mut [f64], n: usize) -> Option<()> {
    for c in 0..n {
        let piv = (c..n).max_by(|i, j| a[i * n + c].abs().total_cmp(&a[j * n + c].abs()))?;
        if a[piv * n + c].abs() < 1e-12 {
            return None;
        }
        if piv != c {
            for k in 0..n {
                a.swap(piv * n + k, c * n + k);
            }
            b.swap(piv, c);
        }
        let d = a[c * n + c];
        for r in c + 1..n {
            let f = a[r * n + c] / d;
            if f == 0.0 {
                continue;
            }
            for k in c..n {
                a[r * n + k] -= f * a[c * n + k];
            }
            b[r] -= f * b[c];
        }
    }
    for c in (0..n).rev() {
        let mut s = b[c];
        for k in c + 1..n {
            s -= a[c * n + k] * b[k];
        }
        b[c] = s / a[c * n + c];
    }
    Some(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ar1_stationary_variance() {
        let ss = StateSpace::new(&[0.5], &[]);
        let p = ss.stationary_cov().unwrap();
        assert!((p[0] - 1.0 / (1.0 - 0.25)).abs() < 1e-12);
    }

    #[test]
    fn ma1_variance_is_one_plus_theta_squared() {
        let ss = StateSpace::new(&[], &[0.4]);
        let p = ss.stationary_cov().unwrap();
        assert!((p[0] - 1.16).abs() < 1e-12, "{p:?}");
    }
}
