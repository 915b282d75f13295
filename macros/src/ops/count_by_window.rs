//! `count_by_window(len, slide)`: the number of records in the window, from per-batch
//! counts kept for the window's length.

use super::args::{LEN, SLIDE};
use super::{Global, Kept, Merge, OpDef, Role};
use crate::codegen::{Gen, partial, state, window_spec};
use crate::plan::NodeId;
use proc_macro2::TokenStream;
use quote::{format_ident, quote, quote_spanned};

pub static DEF: OpDef = OpDef::new(
    "count_by_window",
    &[LEN, SLIDE],
    Role::Global(&CountByWindow),
)
.window(0, 1);

struct CountByWindow;

impl Global for CountByWindow {
    fn partial(&self) -> Merge {
        Merge::Count
    }

    fn state(&self, _g: &Gen, n: NodeId) -> Option<Kept> {
        let ops = quote!(::rill::__private::ops);
        let ws = window_spec(n);
        Some(Kept::checkpointed(
            quote!(#ops::count_by_window::CountByWindow::new(#ws)),
        ))
    }

    fn merge(&self, g: &mut Gen, n: NodeId) -> TokenStream {
        let st = state(n);
        let a = format_ident!("__a");
        let span = g.plan.nodes[n].span;
        let pv = partial(n);
        quote_spanned!(span=> let ::core::option::Option::Some(#a) = #pv else { break '__step ::core::option::Option::None; }; #st.step(__b, #a))
    }
}
