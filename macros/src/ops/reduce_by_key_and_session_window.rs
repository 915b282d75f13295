//! `reduce_by_key_and_session_window(f, gap[, emit])`: on a watermarked `(key, value)`
//! stream, each key's values per session (records less than `gap` apart) reduced with
//! `f`, as `(EventWindow, key, value)`.

use super::args::REDUCE;
use super::with_watermark::{APPLIES, EMIT, GAP, WindowArgs, keyed_window_step, window_state};
use super::{Kept, KeyedState, Op, OpDef, Role};
use crate::codegen::Gen;
use crate::plan::NodeId;
use proc_macro2::TokenStream;
use quote::quote;

pub static DEF: OpDef = OpDef {
    state_args: &[("gap", 1)],
    applies_to: Some((Op::WithWatermark, APPLIES)),
    ..OpDef::new(
        "reduce_by_key_and_session_window",
        &[REDUCE, GAP, EMIT],
        Role::KeyedState(&ReduceByKeyAndSessionWindow),
    )
    .optional_after(2)
};

struct ReduceByKeyAndSessionWindow;

impl KeyedState for ReduceByKeyAndSessionWindow {
    fn state(&self, g: &Gen, n: NodeId) -> Kept {
        window_state(
            g,
            n,
            quote!(reduce_by_key_and_session_window::ReduceByKeyAndSessionWindow),
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
            quote!(#ops::reduce_by_key_and_session_window::value),
            merge,
        )
    }
}

/// Its windows: `gap[, emit]` after the function.
const ARGS: WindowArgs = WindowArgs {
    first: 1,
    sliding: false,
};
