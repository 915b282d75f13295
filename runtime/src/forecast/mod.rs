//! Time-series forecasting: ARIMA and seasonal ARIMA fitted by exact maximum likelihood.

pub mod arima;
mod degenerate;
mod error;
mod kalman;
mod optimize;
mod transform;

pub use arima::{Arima, FitError, Forecast, Order};
