//! `count_by_key_and_event_window(len, slide[, emit])`: on a watermarked `(key, value)`
//! stream, each key's number of records per event-time window, as `(EventWindow, key,
//! u64)`.

use super::args::{LEN, SLIDE};
use super::with_watermark::{APPLIES, EMIT, keeps_late, watermark_of, windows};
use super::{Kept, KeyedState, Op, OpDef, Role};
use crate::codegen::{Gen, context_partitions, state};
use crate::plan::NodeId;
use proc_macro2::TokenStream;
use quote::{quote, quote_spanned};

pub static DEF: OpDef = OpDef {
    state_args: &[("len", 0), ("slide", 1)],
    applies_to: Some((Op::WithWatermark, APPLIES)),
    ..OpDef::new(
        "count_by_key_and_event_window",
        &[LEN, SLIDE, EMIT],
        Role::KeyedState(&CountByKeyAndEventWindow),
    )
    .optional_after(2)
};

struct CountByKeyAndEventWindow;

impl KeyedState for CountByKeyAndEventWindow {
    fn state(&self, g: &Gen, n: NodeId) -> Kept {
        let ops = quote!(::rill::__private::ops);
        let (ws, parts) = (windows(g, n, 0, Some(1), 2), context_partitions());
        let keep = keeps_late(g, n);
        Kept::checkpointed(quote!(
            #ops::count_by_key_and_event_window::CountByKeyAndEventWindow::new(#ws, #parts, #keep)
        ))
    }

    fn read(&self, g: &mut Gen, n: NodeId) -> TokenStream {
        let c = quote!(::rill::__private::ops::count_by_key_and_event_window);
        let st = state(n);
        let span = g.plan.nodes[n].span;
        let (wm, time) = watermark_of(g, n);
        g.keyed_state_read(
            n,
            quote_spanned!(span=> ::core::option::Option::Some(#st.step(__b, __x0, #wm, #time, #c::one, #c::add))),
        )
    }
}
