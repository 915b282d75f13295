//! `reduce_by_key_and_window(f, len, slide)`: each key's values over the window reduced
//! with `f`, from per-batch reductions kept per key.

use super::args::{LEN, REDUCE, SLIDE};
use super::{Kept, KeyedState, MapSide, Merge, OpDef, Role};
use crate::codegen::{Gen, context_partitions, state, window_spec};
use crate::plan::NodeId;
use proc_macro2::TokenStream;
use quote::{quote, quote_spanned};

pub static DEF: OpDef = OpDef::new(
    "reduce_by_key_and_window",
    &[REDUCE, LEN, SLIDE],
    Role::KeyedState(&ReduceByKeyAndWindow),
)
.window(1, 2);

struct ReduceByKeyAndWindow;

impl KeyedState for ReduceByKeyAndWindow {
    fn map_side(&self) -> MapSide {
        MapSide::Combine(Merge::Reduce(0))
    }

    fn state(&self, _g: &Gen, n: NodeId) -> Kept {
        let ops = quote!(::rill::__private::ops);
        let (ws, parts) = (window_spec(n), context_partitions());
        Kept::checkpointed(
            quote!(#ops::reduce_by_key_and_window::ReduceByKeyAndWindow::new(#ws, #parts)),
        )
    }

    fn read(&self, g: &mut Gen, n: NodeId) -> TokenStream {
        let st = state(n);
        let span = g.plan.nodes[n].span;
        let f = g.func(n, 0);
        g.keyed_state_read(n, quote_spanned!(span=> #st.step(__b, __x0, #f)))
    }
}
