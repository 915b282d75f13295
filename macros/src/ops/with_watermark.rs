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

/// What kind of event-time windows an operator keeps: where its window arguments start
/// (after the reduce function, if it has one), and whether they slide or are sessions.
#[derive(Clone, Copy)]
pub struct WindowArgs {
    /// The value argument of the window length (or the session gap).
    pub first: usize,
    /// Tumbling or sliding windows (`len, slide`), or sessions (`gap`).
    pub sliding: bool,
}

impl WindowArgs {
    /// The windows these arguments of operator `n` make.
    fn windows(self, g: &Gen, n: NodeId) -> TokenStream {
        let f = self.first;
        match self.sliding {
            true => windows(g, n, f, Some(f + 1), f + 2),
            false => windows(g, n, f, None, f + 1),
        }
    }
}

/// The checkpointed state of event-window operator `n`: `ty::new(windows,
/// [partitions,] keeps_late)`, `ty` a path under the runtime's `ops`.
pub fn window_state(g: &Gen, n: NodeId, ty: TokenStream, args: WindowArgs, keyed: bool) -> Kept {
    let ops = quote!(::rill::__private::ops);
    let ws = args.windows(g, n);
    let keep = keeps_late(g, n);
    let parts = keyed.then(crate::codegen::context_partitions);
    let parts = parts.map(|p| quote!(#p,));
    Kept::checkpointed(quote!(#ops::#ty::new(#ws, #parts #keep)))
}

/// The read side of keyed event-window operator `n`: its state's step over the
/// exchanged records, each value made a partial by `lift` and partials merged by
/// `merge` (paths under the runtime's `ops`, or the user's function).
pub fn keyed_window_step(
    g: &mut Gen,
    n: NodeId,
    lift: TokenStream,
    merge: TokenStream,
) -> TokenStream {
    let st = state(n);
    let span = g.plan.nodes[n].span;
    let (wm, time) = watermark_of(g, n);
    g.keyed_state_read(
        n,
        quote_spanned!(span=> ::core::option::Option::Some(#st.step(__b, __x0, #wm, #time, #lift, #merge))),
    )
}

/// The driver step of global event-window operator `n` over its whole batch, records
/// made partials by `lift` and merged by `merge`.
pub fn global_window_step(
    g: &mut Gen,
    n: NodeId,
    lift: TokenStream,
    merge: TokenStream,
) -> TokenStream {
    let st = state(n);
    let a = format_ident!("__a");
    let span = g.plan.nodes[n].span;
    let bind = g.bind(g.plan.nodes[n].inputs[0], false, &a);
    let (wm, time) = watermark_of(g, n);
    quote_spanned!(span=> #bind ::core::option::Option::Some(#st.step(__b, &#a[..], #wm, #time, #lift, #merge, &__arena)?))
}
