//! Nelder–Mead minimization, enough for the handful of parameters of an ARIMA model.

/// Minimizes `f` from `start`, with initial steps `step` per coordinate; returns the
/// best point and its value after at most `max_evals` evaluations or when the simplex's
/// values agree within `tol`.
pub fn nelder_mead(
    f: &mut dyn FnMut(&[f64]) -> f64,
    start: &[f64],
    step: &[f64],
    tol: f64,
    max_evals: usize,
) -> (Vec<f64>, f64) {
    let n = start.len();
    if n == 0 {
        let v = f(start);
        return (Vec::new(), v);
    }
    let mut evals = 0;
    let mut eval = |x: &[f64], evals: &mut usize| {
        *evals += 1;
        let v = f(x);
        if v.is_finite() { v } else { f64::INFINITY }
    };
    let mut simplex: Vec<(Vec<f64>, f64)> = Vec::with_capacity(n + 1);
    let v0 = eval(start, &mut evals);
    simplex.push((start.to_vec(), v0));
    for i in 0..n {
        let mut x = start.to_vec();
        x[i] += step[i];
        let v = eval(&x, &mut evals);
        simplex.push((x, v));
    }
    while evals < max_evals {
        simplex.sort_by(|a, b| a.1.total_cmp(&b.1));
        let (best, worst) = (simplex[0].1, simplex[n].1);
        if (worst - best).abs() <= tol * (1.0 + best.abs()) {
            break;
        }
        let centroid: Vec<f64> = (0..n)
            .map(|j| simplex[..n].iter().map(|p| p.0[j]).sum::<f64>() / n as f64)
            .collect();
        let along = |t: f64| -> Vec<f64> {
            (0..n)
                .map(|j| centroid[j] + t * (simplex[n].0[j] - centroid[j]))
                .collect()
        };
        let xr = along(-1.0);
        let fr = eval(&xr, &mut evals);
        if fr < simplex[0].1 {
            let xe = along(-2.0);
            let fe = eval(&xe, &mut evals);
            simplex[n] = if fe < fr { (xe, fe) } else { (xr, fr) };
        } else if fr < simplex[n - 1].1 {
            simplex[n] = (xr, fr);
        } else {
            let (xc, fc) = if fr < simplex[n].1 {
                let x = along(-0.5);
                let v = eval(&x, &mut evals);
                (x, v)
            } else {
                let x = along(0.5);
                let v = eval(&x, &mut evals);
                (x, v)
            };
            if fc < simplex[n].1.min(fr) {
                simplex[n] = (xc, fc);
            } else {
                let b = simplex[0].0.clone();
                for p in simplex.iter_mut().skip(1) {
                    for (pj, bj) in p.0.iter_mut().zip(&b) {
                        *pj = bj + 0.5 * (*pj - bj);
                    }
                    p.1 = eval(&p.0, &mut evals);
                }
            }
        }
    }
    simplex.sort_by(|a, b| a.1.total_cmp(&b.1));
    let (x, v) = simplex.swap_remove(0);
    (x, v)
}

#[cfg(test)]
mod tests {
    #[test]
    fn finds_the_minimum_of_a_quadratic() {
        let mut f = |x: &[f64]| (x[0] - 1.0).powi(2) + 10.0 * (x[1] + 2.0).powi(2);
        let (x, v) = super::nelder_mead(&mut f, &[0.0, 0.0], &[0.5, 0.5], 1e-12, 2000);
        assert!(
            (x[0] - 1.0).abs() < 1e-4 && (x[1] + 2.0).abs() < 1e-4 && v < 1e-8,
            "{x:?}"
        );
    }
}
