//! `count_by_event_window(len, slide[, emit])`: on a watermarked stream, the number of
//! records in each event-time window, as `(EventWindow, u64)`.

use super::args::{LEN, SLIDE};
use super::with_watermark::{APPLIES, EMIT, keeps_late, watermark_of, windows};
use super::{Batch, Kept, Op, OpDef, Role};
use crate::codegen::{Gen, state};
use crate::plan::NodeId;
use proc_macro2::TokenStream;
use quote::{format_ident, quote, quote_spanned};

pub static DEF: OpDef = OpDef {
    state_args: &[("len", 0), ("slide", 1)],
    applies_to: Some((Op::WithWatermark, APPLIES)),
    ..OpDef::new(
        "count_by_event_window",
        &[LEN, SLIDE, EMIT],
        Role::Batch(&CountByEventWindow),
    )
    .optional_after(2)
};

struct CountByEventWindow;

impl Batch for CountByEventWindow {
    fn state(&self, g: &Gen, n: NodeId) -> Option<Kept> {
        let ops = quote!(::rill::__private::ops);
        let ws = windows(g, n, 0, Some(1), 2);
        let keep = keeps_late(g, n);
        Some(Kept::checkpointed(quote!(
            #ops::count_by_event_window::CountByEventWindow::new(#ws, #keep)
        )))
    }

    fn driver(&self, g: &mut Gen, n: NodeId) -> TokenStream {
        let ops = quote!(::rill::__private::ops);
        let st = state(n);
        let a = format_ident!("__a");
        let span = g.plan.nodes[n].span;
        let bind = g.bind(g.plan.nodes[n].inputs[0], false, &a);
        let (wm, time) = watermark_of(g, n);
        quote_spanned!(span=> #bind ::core::option::Option::Some(#st.step(__b, &#a[..], #wm, #time, #ops::count_by_event_window::one, #ops::count_by_key_and_event_window::add, &__arena)?))
    }
}
