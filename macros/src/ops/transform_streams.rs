//! `transform([a, b, ...], f)`, written as a source: `f` over the batches of several
//! streams of one record type, one `Vec` per stream in the order given (with the batch
//! time first when it takes two arguments), Spark's `StreamingContext.transform`, on
//! the driver. As a method on one stream it is `a.transform_streams(f)`, the same with
//! that stream alone.

use super::{Arg, Batch, OpDef, Role};
use crate::codegen::Gen;
use crate::plan::NodeId;
use proc_macro2::TokenStream;
use quote::{quote, quote_spanned};

/// The name of the form written as a source, `transform([a, b, ...], f)`.
pub const CONTEXT_TRANSFORM: &str = "transform";

pub static DEF: OpDef = OpDef::new(
    "transform_streams",
    &[(
        Arg::Func,
        "a function of the streams' batches, one `Vec` each (and optionally the time first)",
    )],
    Role::Batch(&TransformStreams),
);

struct TransformStreams;

impl Batch for TransformStreams {
    fn driver(&self, g: &mut Gen, n: NodeId) -> TokenStream {
        let rt = quote!(::rill::__private::ops);
        let some = quote!(::core::option::Option::Some);
        let (binds, names) = g.bind_inputs(n);
        let wholes = names.iter().map(|a| g.whole(quote!(#a)));
        let batches = quote!(::std::vec![#(#wholes),*]);
        let f = g.func(n, 0);
        let span = g.arg_span(n, 0);
        let call = if g.closure_arity(n, 0) == Some(2) {
            quote_spanned!(span=> #rt::transform_streams::transform_streams_with_time(__b.time(), #batches, __np, #f))
        } else {
            quote_spanned!(span=> #rt::transform_streams::transform_streams(#batches, __np, #f))
        };
        quote!(#binds #some(#call))
    }
}
