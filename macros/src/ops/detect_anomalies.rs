//! `detect_anomalies(spec, slide)`: each key's values that fall outside the forecast of
//! its ARIMA model, refitted every slide.

use super::args::{ARIMA_SPEC, SLIDE};
use super::forecast_arima::arima_state;
use super::{Kept, KeyedState, OpDef, Role};
use crate::codegen::{Gen, state};
use crate::plan::NodeId;
use proc_macro2::TokenStream;
use quote::{quote, quote_spanned};

// Refitted every slide: a window as long as its slide.
pub static DEF: OpDef = OpDef::new(
    "detect_anomalies",
    &[ARIMA_SPEC, SLIDE],
    Role::KeyedState(&DetectAnomalies),
)
.window(1, 1);

struct DetectAnomalies;

impl KeyedState for DetectAnomalies {
    fn state(&self, g: &Gen, n: NodeId) -> Kept {
        arima_state(g, n)
    }

    fn read(&self, g: &mut Gen, n: NodeId) -> TokenStream {
        let some = quote!(::core::option::Option::Some);
        let st = state(n);
        let span = g.plan.nodes[n].span;
        g.keyed_state_read(n, quote_spanned!(span=> #some(#st.detect(__b, __x0))))
    }
}
