//! `count_by_key_and_session_window(gap[, emit])`: on a watermarked `(key, value)`
//! stream, each key's number of records per session (records less than `gap` apart), as
//! `(EventWindow, key, u64)`: Nexmark's q11.

use super::with_watermark::{APPLIES, EMIT, GAP, WindowArgs, keyed_window_step, window_state};
use super::{Kept, KeyedState, Op, OpDef, Role};
use crate::codegen::Gen;
use crate::plan::NodeId;
use proc_macro2::TokenStream;
use quote::quote;

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
        window_state(
            g,
            n,
            quote!(count_by_key_and_session_window::CountByKeyAndSessionWindow),
            ARGS,
            true,
        )
    }

    fn read(&self, g: &mut Gen, n: NodeId) -> TokenStream {
        let ops = quote!(::rill::__private::ops);
        let merge = quote!(#ops::count_by_key_and_event_window::add);
        keyed_window_step(
            g,
            n,
            quote!(#ops::count_by_key_and_session_window::one),
            merge,
        )
    }
}

/// Its windows: `gap[, emit]` from the first argument.
const ARGS: WindowArgs = WindowArgs {
    first: 0,
    sliding: false,
};
