//! Parameter transforms that keep AR polynomials stationary and MA polynomials
//! invertible during optimization (Monahan 1984, as statsmodels'
//! `constrain_stationary_univariate`): unconstrained values map to partial
//! autocorrelations in (-1, 1), and the Durbin-Levinson recursion maps those to
//! coefficients.

/// Coefficients `φ` of a stationary AR polynomial `1 - φ1 B - ... - φp B^p` from
/// unconstrained values.
pub fn constrain(unconstrained: &[f64]) -> Vec<f64> {
    let n = unconstrained.len();
    let r: Vec<f64> = unconstrained
        .iter()
        .map(|x| x / (1.0 + x * x).sqrt())
        .collect();
    let mut y = vec![vec![0.0; n]; n];
    for k in 0..n {
        for i in 0..k {
            y[k][i] = y[k - 1][i] + r[k] * y[k - 1][k - i - 1];
        }
        y[k][k] = r[k];
    }
    if n == 0 {
        Vec::new()
    } else {
        y[n - 1].iter().map(|v| -v).collect()
    }
}

/// The inverse of [`constrain`]: unconstrained values of stationary coefficients.
pub fn unconstrain(constrained: &[f64]) -> Vec<f64> {
    let n = constrained.len();
    let mut y = vec![vec![0.0; n]; n];
    if n == 0 {
        return Vec::new();
    }
    y[n - 1] = constrained.iter().map(|v| -v).collect();
    for k in (1..n).rev() {
        let rk = y[k][k].clamp(-0.999_999, 0.999_999);
        for i in 0..k {
            y[k - 1][i] = (y[k][i] - rk * y[k][k - i - 1]) / (1.0 - rk * rk);
        }
    }
    (0..n)
        .map(|k| {
            let r = y[k][k].clamp(-0.999_999, 0.999_999);
            r / (1.0 - r * r).sqrt()
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_and_stays_stationary() {
        for u in [vec![0.3], vec![-1.2, 0.7], vec![2.0, -0.5, 0.1]] {
            let c = constrain(&u);
            let back = unconstrain(&c);
            for (a, b) in u.iter().zip(&back) {
                assert!((a - b).abs() < 1e-9, "{u:?} -> {c:?} -> {back:?}");
            }
        }
        let c = constrain(&[10.0, 10.0]);
        // AR(2) stationarity triangle.
        assert!(
            c[1].abs() < 1.0 && c[0] + c[1] < 1.0 && c[1] - c[0] < 1.0,
            "{c:?}"
        );
    }
}
