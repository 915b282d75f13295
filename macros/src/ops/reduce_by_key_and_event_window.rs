//! `reduce_by_key_and_event_window(f, len, slide[, emit])`: on a watermarked `(key,
//! value)` stream, each key's values per event-time window reduced with `f`, as
//! `(EventWindow, key, value)`.

use super::args::{LEN, REDUCE, SLIDE};
use super::with_watermark::{APPLIES, EMIT, keeps_late, watermark_of, windows};
use super::{Kept, KeyedState, Op, OpDef, Role};
use crate::codegen::{Gen, context_partitions, state};
use crate::plan::NodeId;
use proc_macro2::TokenStream;
use quote::{quote, quote_spanned};

pub static DEF: OpDef = OpDef {
    state_args: &[("len", 1), ("slide", 2)],
    applies_to: Some((Op::WithWatermark, APPLIES)),
    ..OpDef::new(
        "reduce_by_key_and_event_window",
        &[REDUCE, LEN, SLIDE, EMIT],
        Role::KeyedState(&ReduceByKeyAndEventWindow),
    )
    .optional_after(3)
};

struct ReduceByKeyAndEventWindow;

impl KeyedState for ReduceByKeyAndEventWindow {
    fn state(&self, g: &Gen, n: NodeId) -> Kept {
        let ops = quote!(::rill::__private::ops);
        let (ws, parts) = (windows(g, n, 1, Some(2), 3), context_partitions());
        let keep = keeps_late(g, n);
        Kept::checkpointed(quote!(
            #ops::reduce_by_key_and_event_window::ReduceByKeyAndEventWindow::new(#ws, #parts, #keep)
        ))
    }

    fn read(&self, g: &mut Gen, n: NodeId) -> TokenStream {
        let ops = quote!(::rill::__private::ops);
        let st = state(n);
        let span = g.plan.nodes[n].span;
        let (wm, time) = watermark_of(g, n);
        let f = g.func(n, 0);
        g.keyed_state_read(
            n,
            quote_spanned!(span=> ::core::option::Option::Some(#st.step(__b, __x0, #wm, #time, #ops::reduce_by_key_and_event_window::pair, #f))),
        )
    }
}
