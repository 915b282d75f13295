//! `with_watermark(event_time, delay)`: the same records, with a watermark the
//! event-time operators applied to this stream use: the largest event time of the
//! batches before this one minus the delay. Also what those operators share here: where
//! they find the watermark and the event-time function, and how their windows are made.

use super::{Arg, Batch, Kept, Op, OpDef, Role};
use crate::codegen::{Gen, state};
use crate::plan::NodeId;
use proc_macro2::TokenStream;
use quote::{format_ident, quote, quote_spanned};

pub static DEF: OpDef = OpDef::new(
    "with_watermark",
    &[
        (
            Arg::Func,
            "the event time of a record in ms since the epoch `|record| -> u64`",
        ),
        (Arg::Value, "the delay (a Duration)"),
    ],
    Role::Batch(&WithWatermark),
);

/// The optional output mode and allowed lateness of an event-time operator.
pub const EMIT: (Arg, &str) = (
    Arg::Value,
    "an optional Emit (`Emit::append()` or `Emit::update()`, `.allowed_lateness(d)`)",
);

/// A session gap.
pub const GAP: (Arg, &str) = (Arg::Value, "the session gap (a Duration)");

/// The error when an event-time operator is not applied to a `with_watermark` stream.
pub const APPLIES: &str = "event-time windows apply to the stream `with_watermark(event_time, delay)` returns: `stream.with_watermark(|r| r.time, delay).<operator>(...)`";

struct WithWatermark;

impl Batch for WithWatermark {
    fn state(&self, g: &Gen, n: NodeId) -> Option<Kept> {
        let ops = quote!(::rill::__private::ops);
        let delay = g.value(n, 1);
        Some(Kept::checkpointed(
            quote!(#ops::with_watermark::WithWatermark::new(#delay)),
        ))
    }

    fn driver(&self, g: &mut Gen, n: NodeId) -> TokenStream {
        let st = state(n);
        let a = format_ident!("__a");
        let span = g.plan.nodes[n].span;
        let bind = g.bind(g.plan.nodes[n].inputs[0], true, &a);
        let f = g.func(n, 0);
        quote_spanned!(span=> #bind #st.step(__b, &#a, #f)?; ::core::option::Option::Some(#a))
    }
}

/// For event-time operator `n` (applied to a `with_watermark` stream): the watermark of
/// the running batch and the event-time function.
pub fn watermark_of(g: &Gen, n: NodeId) -> (TokenStream, TokenStream) {
    let wm = g.plan.nodes[n].inputs[0];
    let st = state(wm);
    (quote!(#st.watermark()), g.func(wm, 0))
}

/// Whether a `late_records()` stream reads operator `n`'s late records.
pub fn keeps_late(g: &Gen, n: NodeId) -> bool {
    g.plan.consumers[n]
        .iter()
        .any(|c| g.plan.nodes[*c].op() == Some(Op::LateRecords))
}

/// The windows of event-time operator `n`: `len` and `slide` (value arguments; `slide`
/// `None` for a session gap `len`) and the optional `Emit` at value argument `emit`. A
/// definition that is refused is reported by `start()`.
pub fn windows(g: &Gen, n: NodeId, len: usize, slide: Option<usize>, emit: usize) -> TokenStream {
    let p = quote!(::rill::__private);
    let et = quote!(#p::ops::event_time);
    let node = &g.plan.nodes[n];
    let name = node.op_name();
    let e = if node.args.len() > emit {
        g.value(n, emit)
    } else {
        quote!(#et::Emit::default())
    };
    let l = g.value(n, len);
    let made = match slide {
        Some(s) => {
            let s = g.value(n, s);
            quote!(#et::EventWindows::new(#name, #l, #s, #e))
        }
        None => quote!(#et::EventWindows::session(#name, #l, #e)),
    };
    let span = node.span;
    quote_spanned! {span=>
        match #made {
            ::core::result::Result::Ok(__w) => __w,
            ::core::result::Result::Err(__e) => {
                #p::pipeline_error(__ctx, __e);
                #et::EventWindows::fallback()
            }
        }
    }
}
