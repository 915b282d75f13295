//! Input checks of a fit: non-finite values, and degenerate fits (zero innovation
//! variance) on series that are constant or deterministic once differenced. The rule is
//! documented on [`FitError::Degenerate`].

use super::FitError;

/// A fit whose σ² is at most this fraction of the differenced series' variance is
/// degenerate: the model explains all but a ten-billionth of the variance.
const NEGLIGIBLE: f64 = 1e-10;

/// The differenced series is constant "to within rounding" when its standard deviation
/// is at most this fraction of the largest `|y|`: the rounding error of a difference of
/// values of size `|y|` is a few multiples of 2.2e-16 × `|y|` (times the sum of the
/// differencing polynomial's coefficients), well under this.
const ROUNDING: f64 = 1e-13;

/// The first non-finite value of `y`, as an error.
pub fn check_finite(y: &[f64]) -> Result<(), FitError> {
    match y.iter().position(|v| !v.is_finite()) {
        Some(index) => Err(FitError::NonFinite {
            index,
            value: y[index],
        }),
        None => Ok(()),
    }
}

/// The spread of a differenced series `x`, against which a fit's σ² is judged.
pub struct Spread {
    /// The mean of `x`.
    pub mean: f64,
    /// The variance of `x` about its mean.
    pub variance: f64,
    /// The mean of `x²`.
    mean_square: f64,
    /// The variance that rounding alone gives a differenced series of `y`.
    floor: f64,
}

impl Spread {
    /// The spread of `x`, the differenced `y` (not empty).
    pub fn of(y: &[f64], x: &[f64]) -> Spread {
        let n = x.len() as f64;
        let mean = x.iter().sum::<f64>() / n;
        let variance = x.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / n;
        let mean_square = x.iter().map(|v| v * v).sum::<f64>() / n;
        let level = y.iter().fold(0.0f64, |m, v| m.max(v.abs()));
        Spread {
            mean,
            variance,
            mean_square,
            floor: (ROUNDING * level).powi(2),
        }
    }

    /// Whether `x` is constant to within rounding.
    fn is_constant(&self) -> bool {
        self.variance <= self.floor
    }

    /// Refuses, before any fitting, what can only be fitted degenerately: a constant `x`
    /// when a constant is estimated (it is the mean, with nothing left), and an all-zero
    /// `x` in any case.
    pub fn check_before(&self, constant: bool) -> Result<(), FitError> {
        if self.is_constant() && (constant || self.mean_square <= self.floor) {
            return Err(FitError::Degenerate {
                sigma2: 0.0,
                variance: self.variance,
            });
        }
        Ok(())
    }

    /// Refuses a fit whose σ² is negligible against the variance of `x` (its mean square
    /// when `x` is constant, which a near-unit-root AR part without a constant can mimic).
    pub fn check_fit(&self, sigma2: f64) -> Result<(), FitError> {
        let variance = if self.is_constant() {
            self.mean_square
        } else {
            self.variance
        };
        if sigma2 <= (NEGLIGIBLE * variance).max(self.floor) {
            return Err(FitError::Degenerate { sigma2, variance });
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::forecast::{Arima, Order};

    /// 120 points of an AR(1) with φ = 0.6 around 10.
    fn ar1() -> Vec<f64> {
        let mut s = 2024u64;
        let mut x = 0.0;
        (0..120)
            .map(|_| {
                s ^= s << 13;
                s ^= s >> 7;
                s ^= s << 17;
                x = 0.6 * x + ((s >> 11) as f64 / (1u64 << 53) as f64 - 0.5);
                10.0 + x
            })
            .collect()
    }

    fn is_degenerate(r: Result<Arima, FitError>) -> bool {
        matches!(r, Err(FitError::Degenerate { .. }))
    }

    #[test]
    fn a_nan_is_reported_with_its_index() {
        let mut y = ar1();
        y[7] = f64::NAN;
        let e = Arima::fit(&y, Order::arima(1, 0, 1), true, None).unwrap_err();
        assert!(
            matches!(e, FitError::NonFinite { index: 7, value } if value.is_nan()),
            "{e:?}"
        );
        assert!(e.to_string().contains("index 7"), "{e}");
        let e = Arima::fit_auto(&y, 2, 0, 2, true, None).unwrap_err();
        assert!(matches!(e, FitError::NonFinite { index: 7, .. }), "{e:?}");
    }

    #[test]
    fn an_infinity_is_reported_with_its_index() {
        let mut y = ar1();
        y[7] = f64::INFINITY;
        y[50] = f64::NEG_INFINITY;
        let e = Arima::fit(&y, Order::arima(1, 1, 1), false, None).unwrap_err();
        assert_eq!(
            e,
            FitError::NonFinite {
                index: 7,
                value: f64::INFINITY
            }
        );
        assert!(e.to_string().contains("inf at index 7"), "{e}");
    }

    #[test]
    fn a_constant_series_is_degenerate() {
        let y = vec![5.0; 100];
        assert!(is_degenerate(Arima::fit(
            &y,
            Order::arima(1, 0, 1),
            true,
            None
        )));
        assert!(is_degenerate(Arima::fit(
            &y,
            Order::arima(0, 0, 0),
            true,
            None
        )));
        // Without a constant, an AR part near the unit root mimics the level.
        assert!(is_degenerate(Arima::fit(
            &y,
            Order::arima(1, 0, 0),
            false,
            None
        )));
        assert!(is_degenerate(Arima::fit(
            &y,
            Order::arima(1, 0, 1),
            false,
            None
        )));
        // Differenced, it is all zero.
        assert!(is_degenerate(Arima::fit(
            &y,
            Order::arima(0, 1, 0),
            false,
            None
        )));
        assert!(is_degenerate(Arima::fit(
            &y,
            Order::arima(1, 1, 1),
            true,
            None
        )));
        assert!(is_degenerate(Arima::fit(
            &y,
            Order::sarima(1, 0, 0, 0, 1, 1, 4),
            false,
            None
        )));
        assert!(is_degenerate(Arima::fit(
            &[0.0; 50],
            Order::arima(1, 0, 0),
            true,
            None
        )));
    }

    #[test]
    fn a_linear_series_with_drift_is_degenerate() {
        // 0.1 t is not exact in binary: the differences vary in their last bits.
        for (level, slope) in [(3.0, 0.1), (1e6, 0.001), (-40.0, -2.5)] {
            let y: Vec<f64> = (0..100).map(|t| level + slope * t as f64).collect();
            for order in [Order::arima(0, 1, 0), Order::arima(1, 1, 1)] {
                let r = Arima::fit(&y, order, true, None);
                assert!(
                    is_degenerate(r.clone()),
                    "{level} + {slope} t, {order:?}: {r:?}"
                );
            }
            assert!(is_degenerate(Arima::fit(
                &y,
                Order::arima(1, 1, 0),
                false,
                None
            )));
            assert!(is_degenerate(Arima::fit(
                &y,
                Order::arima(0, 2, 1),
                false,
                None
            )));
        }
    }

    #[test]
    fn honest_fits_on_the_same_shapes_are_kept() {
        // A random walk around a linear series without drift: sigma2 is the step's square.
        let y: Vec<f64> = (0..100).map(|t| 3.0 + 0.1 * t as f64).collect();
        let m = Arima::fit(&y, Order::arima(0, 1, 0), false, None).unwrap();
        assert!((m.sigma2 - 0.01).abs() < 1e-9, "{m:?}");
        // A level far above small noise is not degenerate.
        let y: Vec<f64> = ar1().iter().map(|v| 1e6 + 1e-3 * v).collect();
        let m = Arima::fit(&y, Order::arima(1, 0, 0), true, None).unwrap();
        assert!((m.ar[0] - 0.6).abs() < 0.15, "{m:?}");
        // Nor is a counter whose increments vary little against its size.
        let mut total = 1e12;
        let y: Vec<f64> = ar1()
            .iter()
            .map(|v| {
                total += 1000.0 + v;
                total
            })
            .collect();
        assert!(Arima::fit(&y, Order::arima(1, 1, 0), true, None).is_ok());
    }

    #[test]
    fn fit_auto_never_picks_a_degenerate_fit() {
        let constant = vec![5.0; 100];
        let e = Arima::fit_auto(&constant, 2, 0, 2, true, None).unwrap_err();
        assert!(matches!(e, FitError::Degenerate { .. }), "{e:?}");
        assert!(e.to_string().starts_with("degenerate fit"), "{e}");
        // Without a constant, ARIMA(0,0,q) fits are honest (if poor) and AR ones are
        // degenerate: one of the honest ones is chosen.
        let m = Arima::fit_auto(&constant, 2, 0, 2, false, None).unwrap();
        assert!(m.ar.is_empty() && m.sigma2 > 1e-3, "{m:?}");
        let linear: Vec<f64> = (0..100).map(|t| 3.0 + 0.1 * t as f64).collect();
        let e = Arima::fit_auto(&linear, 1, 1, 1, true, None).unwrap_err();
        assert!(matches!(e, FitError::Degenerate { .. }), "{e:?}");
        // An honest series still gets its model.
        let m = Arima::fit_auto(&ar1(), 2, 0, 2, true, None).unwrap();
        assert!(m.sigma2 > 0.01, "{m:?}");
    }
}
