//! `reduce_by_event_window(f, len, slide[, emit])`: on a watermarked stream, all records
//! of each event-time window reduced with `f`, as `(EventWindow, record)`: partials per
//! partition, merged on the driver.

use super::args::{LEN, REDUCE, SLIDE};
use super::with_watermark::{APPLIES, EMIT, keeps_late, watermark_of, windows};
use super::{Batch, Kept, Op, OpDef, Role};
use crate::codegen::{Gen, state};
use crate::plan::NodeId;
use proc_macro2::TokenStream;
use quote::{format_ident, quote, quote_spanned};

pub static DEF: OpDef = OpDef {
    state_args: &[("len", 1), ("slide", 2)],
    applies_to: Some((Op::WithWatermark, APPLIES)),
    ..OpDef::new(
        "reduce_by_event_window",
        &[REDUCE, LEN, SLIDE, EMIT],
        Role::Batch(&ReduceByEventWindow),
    )
    .optional_after(3)
};

struct ReduceByEventWindow;

impl Batch for ReduceByEventWindow {
    fn state(&self, g: &Gen, n: NodeId) -> Option<Kept> {
        let ops = quote!(::rill::__private::ops);
        let ws = windows(g, n, 1, Some(2), 3);
        let keep = keeps_late(g, n);
        Some(Kept::checkpointed(quote!(
            #ops::reduce_by_event_window::ReduceByEventWindow::new(#ws, #keep)
        )))
    }

    fn driver(&self, g: &mut Gen, n: NodeId) -> TokenStream {
        let ops = quote!(::rill::__private::ops);
        let st = state(n);
        let a = format_ident!("__a");
        let span = g.plan.nodes[n].span;
        let bind = g.bind(g.plan.nodes[n].inputs[0], false, &a);
        let (wm, time) = watermark_of(g, n);
        let f = g.func(n, 0);
        quote_spanned!(span=> #bind ::core::option::Option::Some(#st.step(__b, &#a[..], #wm, #time, #ops::reduce_by_event_window::cloned, #f, &__arena)?))
    }
}
