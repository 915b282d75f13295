//! `forecast_arima(spec, slide)`: each key's series, refitted every slide, and its
//! forecast.

use super::args::{ARIMA_SPEC, SLIDE};
use super::{Kept, KeyedState, OpDef, Role};
use crate::codegen::{Gen, context_partitions, state, window_spec};
use crate::plan::NodeId;
use proc_macro2::TokenStream;
use quote::{quote, quote_spanned};

// Refitted every slide: a window as long as its slide.
pub static DEF: OpDef = OpDef::new(
    "forecast_arima",
    &[ARIMA_SPEC, SLIDE],
    Role::KeyedState(&ForecastArima),
)
.window(1, 1);

struct ForecastArima;

/// The ARIMA state of node `n` (shared with `detect_anomalies`).
pub fn arima_state(g: &Gen, n: NodeId) -> Kept {
    let ops = quote!(::rill::__private::ops);
    let (spec, ws, parts) = (g.value(n, 0), window_spec(n), context_partitions());
    Kept::checkpointed(quote!(#ops::forecast_arima::ArimaState::new(#spec, #ws, #parts)))
}

impl KeyedState for ForecastArima {
    fn state(&self, g: &Gen, n: NodeId) -> Kept {
        arima_state(g, n)
    }

    fn read(&self, g: &mut Gen, n: NodeId) -> TokenStream {
        let st = state(n);
        let span = g.plan.nodes[n].span;
        g.keyed_state_read(n, quote_spanned!(span=> #st.forecast(__b, __x0)))
    }
}
