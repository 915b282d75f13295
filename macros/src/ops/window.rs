//! `window(len, slide)`: the records of the last `len` of batches, every `slide`, kept
//! on the driver and shared by reference with what reads them.

use super::args::{LEN, SLIDE};
use super::{Batch, Kept, OpDef, Role};
use crate::codegen::{Gen, state, window_spec};
use crate::plan::NodeId;
use proc_macro2::TokenStream;
use quote::{format_ident, quote, quote_spanned};

pub static DEF: OpDef = OpDef::new("window", &[LEN, SLIDE], Role::Batch(&Window))
    .optional_after(1)
    .window(0, 1);

struct Window;

impl Batch for Window {
    fn state(&self, _g: &Gen, n: NodeId) -> Option<Kept> {
        let ops = quote!(::rill::__private::ops);
        let ws = window_spec(n);
        Some(Kept {
            make: quote!(#ops::window::Window::new(#ws)),
            // It keeps raw records, which may borrow (`&'static str`), so it is not
            // checkpointed: after a recovery it refills from the recomputed batches.
            checkpointed: false,
        })
    }

    fn shares_output(&self) -> bool {
        true
    }

    fn driver(&self, g: &mut Gen, n: NodeId) -> TokenStream {
        let st = state(n);
        let a = format_ident!("__a");
        let span = g.plan.nodes[n].span;
        let bind = g.bind(g.plan.nodes[n].inputs[0], true, &a);
        quote_spanned!(span=> #bind #st.step(__b, #a))
    }
}
