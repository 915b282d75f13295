//! `reduce_by_event_window(f, len, slide[, emit])`: on a watermarked stream, all records
//! of each event-time window reduced with `f`, as `(EventWindow, record)`: partials per
//! partition, merged on the driver.

use super::args::{LEN, REDUCE, SLIDE};
use super::with_watermark::{APPLIES, EMIT, WindowArgs, global_window_step, window_state};
use super::{Batch, Kept, Op, OpDef, Role};
use crate::codegen::Gen;
use crate::plan::NodeId;
use proc_macro2::TokenStream;
use quote::quote;

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
        let ty = quote!(reduce_by_event_window::ReduceByEventWindow);
        Some(window_state(g, n, ty, ARGS, false))
    }

    fn driver(&self, g: &mut Gen, n: NodeId) -> TokenStream {
        let cloned = quote!(::rill::__private::ops::reduce_by_event_window::cloned);
        let f = g.func(n, 0);
        global_window_step(g, n, cloned, f)
    }
}

/// Its windows: `len, slide[, emit]` after the function.
const ARGS: WindowArgs = WindowArgs {
    first: 1,
    sliding: true,
};
