//! `reduce_by_key_and_event_window(f, len, slide[, emit])`: on a watermarked `(key,
//! value)` stream, each key's values per event-time window reduced with `f`, as
//! `(EventWindow, key, value)`.

use super::args::{LEN, REDUCE, SLIDE};
use super::with_watermark::{APPLIES, EMIT, WindowArgs, keyed_window_step, window_state};
use super::{Kept, KeyedState, Op, OpDef, Role};
use crate::codegen::Gen;
use crate::plan::NodeId;
use proc_macro2::TokenStream;
use quote::quote;

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
        window_state(
            g,
            n,
            quote!(reduce_by_key_and_event_window::ReduceByKeyAndEventWindow),
            ARGS,
            true,
        )
    }

    fn read(&self, g: &mut Gen, n: NodeId) -> TokenStream {
        let ops = quote!(::rill::__private::ops);
        let merge = g.func(n, 0);
        keyed_window_step(
            g,
            n,
            quote!(#ops::reduce_by_key_and_event_window::pair),
            merge,
        )
    }
}

/// Its windows: `len, slide[, emit]` after the function.
const ARGS: WindowArgs = WindowArgs {
    first: 1,
    sliding: true,
};
