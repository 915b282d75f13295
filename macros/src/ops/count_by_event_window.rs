//! `count_by_event_window(len, slide[, emit])`: on a watermarked stream, the number of
//! records in each event-time window, as `(EventWindow, u64)`.

use super::args::{LEN, SLIDE};
use super::with_watermark::{APPLIES, EMIT, WindowArgs, global_window_step, window_state};
use super::{Batch, Kept, Op, OpDef, Role};
use crate::codegen::Gen;
use crate::plan::NodeId;
use proc_macro2::TokenStream;
use quote::quote;

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
        let ty = quote!(count_by_event_window::CountByEventWindow);
        Some(window_state(g, n, ty, ARGS, false))
    }

    fn driver(&self, g: &mut Gen, n: NodeId) -> TokenStream {
        let ops = quote!(::rill::__private::ops);
        let (one, add) = (
            quote!(#ops::count_by_event_window::one),
            quote!(#ops::count_by_key_and_event_window::add),
        );
        global_window_step(g, n, one, add)
    }
}

/// Its windows: `len, slide[, emit]` from the first argument.
const ARGS: WindowArgs = WindowArgs {
    first: 0,
    sliding: true,
};
