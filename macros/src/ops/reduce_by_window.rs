//! `reduce_by_window(f, len, slide)`: the window's records reduced with `f`, from
//! per-batch partial results kept for the window's length.

use super::args::{LEN, REDUCE, SLIDE};
use super::{Global, Kept, Merge, OpDef, Role};
use crate::codegen::{Gen, partial, state, window_spec};
use crate::plan::NodeId;
use proc_macro2::TokenStream;
use quote::{format_ident, quote, quote_spanned};

pub static DEF: OpDef = OpDef::new(
    "reduce_by_window",
    &[REDUCE, LEN, SLIDE],
    Role::Global(&ReduceByWindow),
)
.window(1, 2);

struct ReduceByWindow;

impl Global for ReduceByWindow {
    fn partial(&self) -> Merge {
        Merge::Reduce(0)
    }

    fn state(&self, _g: &Gen, n: NodeId) -> Option<Kept> {
        let ops = quote!(::rill::__private::ops);
        let ws = window_spec(n);
        Some(Kept::checkpointed(
            quote!(#ops::reduce_by_window::ReduceByWindow::new(#ws)),
        ))
    }

    fn merge(&self, g: &mut Gen, n: NodeId) -> TokenStream {
        let st = state(n);
        let a = format_ident!("__a");
        let span = g.plan.nodes[n].span;
        let pv = partial(n);
        let f = g.func(n, 0);
        quote_spanned!(span=> let ::core::option::Option::Some(#a) = #pv else { break '__step ::core::option::Option::None; }; #st.step(__b, #a, #f))
    }
}
