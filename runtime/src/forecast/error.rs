//! Why a model could not be fitted.

/// Why [`Arima::fit`](super::Arima::fit) or [`Arima::fit_auto`](super::Arima::fit_auto)
/// returned no model.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum FitError {
    /// The series holds a NaN or an infinity: `y[index] == value`. Checked before
    /// anything else, since one such value makes the whole likelihood undefined.
    NonFinite {
        /// Position of the first non-finite value in the series.
        index: usize,
        /// The value: NaN, `inf` or `-inf`.
        value: f64,
    },
    /// The model reproduces the series exactly: its innovation variance is zero, or
    /// negligible against the variance of the differenced series. This happens on a
    /// constant series (or a linear one with a drift, or any series that is constant
    /// once differenced): the likelihood then grows without bound as σ² shrinks, so the
    /// fitted coefficients are arbitrary, the intervals have zero width, and the AICc
    /// would beat every honest model. statsmodels fits such a model and warns; rill
    /// refuses it, and [`Arima::fit_auto`](super::Arima::fit_auto) never picks one.
    ///
    /// The rule, with `x` the differenced series: the fit is degenerate when σ² is at
    /// most `1e-10` times the variance of `x` about its mean. When `x` is constant to
    /// within rounding (its standard deviation is at most `1e-13` times the largest
    /// `|y|`), its mean square stands for its variance; and when a constant is estimated,
    /// or `x` is all zero, such an `x` is reported at once, without fitting, with
    /// `sigma2` 0 (the maximum-likelihood value).
    Degenerate {
        /// The innovation variance of the fit (0 when refused before fitting).
        sigma2: f64,
        /// The variance it was compared with (see above).
        variance: f64,
    },
    /// Fewer observations after differencing than the order needs.
    TooShort {
        /// Observations left after differencing.
        observations: usize,
        /// The least the order needs.
        needed: usize,
    },
    /// The orders are not valid (a seasonal order without a season length of 2 or more).
    InvalidOrder(String),
    /// The likelihood could not be evaluated at the optimum (a singular state space).
    NoLikelihood,
}

impl std::fmt::Display for FitError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            FitError::NonFinite { index, value } => write!(
                f,
                "the series holds a non-finite value: {value} at index {index}"
            ),
            FitError::Degenerate { sigma2, variance } => write!(
                f,
                "degenerate fit: innovation variance {sigma2:e} against {variance:e} for the \
                 differenced series; the series is constant (or deterministic) once \
                 differenced, so the model reproduces it exactly and its likelihood, \
                 coefficients and intervals mean nothing"
            ),
            FitError::TooShort {
                observations,
                needed,
            } => write!(
                f,
                "{observations} observations after differencing; at least {needed} needed"
            ),
            FitError::InvalidOrder(why) => f.write_str(why),
            FitError::NoLikelihood => f.write_str("the likelihood could not be evaluated"),
        }
    }
}

impl std::error::Error for FitError {}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::forecast::{Arima, Order};

    /// `?` turns a `FitError` into a `Box<dyn Error>`.
    fn fit_boxed(y: &[f64]) -> Result<f64, Box<dyn std::error::Error>> {
        let m = Arima::fit(y, Order::arima(0, 0, 0), true, None)?;
        Ok(m.mean)
    }

    #[test]
    fn is_a_std_error_behind_question_mark() {
        let y: Vec<f64> = (0..20).map(|t| (t % 3) as f64).collect();
        assert!((fit_boxed(&y).unwrap() - 1.0).abs() < 0.1);
        let mut bad = y.clone();
        bad[4] = f64::NAN;
        let e = fit_boxed(&bad).unwrap_err();
        assert_eq!(
            e.to_string(),
            "the series holds a non-finite value: NaN at index 4"
        );
        assert!(matches!(
            e.downcast_ref::<FitError>(),
            Some(FitError::NonFinite { index: 4, .. })
        ));
    }

    #[test]
    fn messages_name_the_problem() {
        let e = FitError::NonFinite {
            index: 7,
            value: f64::NEG_INFINITY,
        };
        assert_eq!(
            e.to_string(),
            "the series holds a non-finite value: -inf at index 7"
        );
        let e = FitError::Degenerate {
            sigma2: 0.0,
            variance: 0.0,
        };
        assert!(e.to_string().starts_with("degenerate fit"), "{e}");
        let e = FitError::TooShort {
            observations: 2,
            needed: 3,
        };
        assert_eq!(
            e.to_string(),
            "2 observations after differencing; at least 3 needed"
        );
    }
}
