//! `reduce_by_key_and_window_inv(f, inv, len, slide, filter?)`: like
//! `reduce_by_key_and_window`, but each slide adds the batches entering the window with
//! `f` and takes those leaving it out with `inv`; `filter` drops keys as it goes.

use super::args::{FILTER, INV, LEN, REDUCE, SLIDE};
use super::{Kept, KeyedState, MapSide, Merge, OpDef, Role};
use crate::codegen::{Gen, context_partitions, state, window_spec};
use crate::plan::NodeId;
use proc_macro2::TokenStream;
use quote::{quote, quote_spanned};

pub static DEF: OpDef = OpDef::new(
    "reduce_by_key_and_window_inv",
    &[REDUCE, INV, LEN, SLIDE, FILTER],
    Role::KeyedState(&InvWindow),
)
.optional_after(4)
.window(2, 3);

struct InvWindow;

impl KeyedState for InvWindow {
    fn map_side(&self) -> MapSide {
        MapSide::Combine(Merge::Reduce(0))
    }

    fn state(&self, _g: &Gen, n: NodeId) -> Kept {
        let ops = quote!(::rill::__private::ops);
        let (ws, parts) = (window_spec(n), context_partitions());
        Kept::checkpointed(quote!(#ops::reduce_by_key_and_window_inv::InvWindow::new(#ws, #parts)))
    }

    fn read(&self, g: &mut Gen, n: NodeId) -> TokenStream {
        let st = state(n);
        let span = g.plan.nodes[n].span;
        let (f, inv) = (g.func(n, 0), g.func(n, 1));
        let call = if g.plan.nodes[n].args.len() > 4 {
            let h = g.func(n, 4);
            quote_spanned!(span=> #st.step_with_filter(__b, __x0, #f, #inv, #h))
        } else {
            quote_spanned!(span=> #st.step(__b, __x0, #f, #inv))
        };
        g.keyed_state_read(n, call)
    }
}
