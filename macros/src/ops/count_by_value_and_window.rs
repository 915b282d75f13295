//! `count_by_value_and_window(len, slide)`: each distinct record's count over the
//! window, counted on the map side and kept as an invertible window (a count leaving
//! the window is subtracted; keys at zero are dropped).

use super::args::{LEN, SLIDE};
use super::{Kept, KeyedState, MapSide, Merge, OpDef, Role};
use crate::codegen::{Gen, context_partitions, state, window_spec};
use crate::plan::NodeId;
use proc_macro2::TokenStream;
use quote::{quote, quote_spanned};

pub static DEF: OpDef = OpDef::new(
    "count_by_value_and_window",
    &[LEN, SLIDE],
    Role::KeyedState(&CountByValueAndWindow),
)
.window(0, 1);

struct CountByValueAndWindow;

impl KeyedState for CountByValueAndWindow {
    fn map_side(&self) -> MapSide {
        MapSide::Combine(Merge::Count)
    }

    fn state(&self, _g: &Gen, n: NodeId) -> Kept {
        let ops = quote!(::rill::__private::ops);
        let (ws, parts) = (window_spec(n), context_partitions());
        Kept::checkpointed(quote!(#ops::reduce_by_key_and_window_inv::InvWindow::new(#ws, #parts)))
    }

    fn read(&self, g: &mut Gen, n: NodeId) -> TokenStream {
        let rt = quote!(::rill::__private::ops);
        let st = state(n);
        let span = g.plan.nodes[n].span;
        g.keyed_state_read(
            n,
            quote_spanned!(span=> #st.step_with_filter(
                __b,
                __x0,
                #rt::count_by_value::add,
                #rt::count_by_value_and_window::sub,
                #rt::count_by_value_and_window::nonzero,
            )),
        )
    }
}
