//! `count_by_key_and_event_window(len, slide[, emit])`: on a watermarked `(key, value)`
//! stream, each key's number of records per event-time window, as `(EventWindow, key,
//! u64)`.

use super::args::{LEN, SLIDE};
use super::with_watermark::{APPLIES, EMIT, WindowArgs, keyed_window_step, window_state};
use super::{Kept, KeyedState, Op, OpDef, Role};
use crate::codegen::Gen;
use crate::plan::NodeId;
use proc_macro2::TokenStream;
use quote::quote;

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
        window_state(
            g,
            n,
            quote!(count_by_key_and_event_window::CountByKeyAndEventWindow),
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
            quote!(#ops::count_by_key_and_event_window::one),
            merge,
        )
    }
}

/// Its windows: `len, slide[, emit]` from the first argument.
const ARGS: WindowArgs = WindowArgs {
    first: 0,
    sliding: true,
};
