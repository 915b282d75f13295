//! `count_by_key_and_session_window(gap[, emit])`: on a watermarked `(key, value)`
//! stream, each key's number of records per session (records less than `gap` apart), as
//! `(EventWindow, key, u64)`: Nexmark's q11.

use super::with_watermark::{APPLIES, EMIT, GAP, keeps_late, watermark_of, windows};
use super::{Kept, KeyedState, Op, OpDef, Role};
use crate::codegen::{Gen, context_partitions, state};
use crate::plan::NodeId;
use proc_macro2::TokenStream;
use quote::{quote, quote_spanned};

pub static DEF: OpDef = OpDef {
    state_args: &[("gap", 0)],
    applies_to: Some((Op::WithWatermark, APPLIES)),
    ..OpDef::new(
        "count_by_key_and_session_window",
        &[GAP, EMIT],
        Role::KeyedState(&CountByKeyAndSessionWindow),
    )
    .optional_after(1)
};

struct CountByKeyAndSessionWindow;

impl KeyedState for CountByKeyAndSessionWindow {
    fn state(&self, g: &Gen, n: NodeId) -> Kept {
        let ops = quote!(::rill::__private::ops);
        let (ws, parts) = (windows(g, n, 0, None, 1), context_partitions());
        let keep = keeps_late(g, n);
        Kept::checkpointed(quote!(
            #ops::count_by_key_and_session_window::CountByKeyAndSessionWindow::new(#ws, #parts, #keep)
        ))
    }

    fn read(&self, g: &mut Gen, n: NodeId) -> TokenStream {
        let ops = quote!(::rill::__private::ops);
        let st = state(n);
        let span = g.plan.nodes[n].span;
        let (wm, time) = watermark_of(g, n);
        g.keyed_state_read(
            n,
            quote_spanned!(span=> ::core::option::Option::Some(#st.step(__b, __x0, #wm, #time, #ops::count_by_key_and_session_window::one, #ops::count_by_key_and_event_window::add))),
        )
    }
}
