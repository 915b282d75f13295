//! `transform_with(other, f)`: `f` over the records of both streams' batches (with the
//! batch time first when it takes three arguments), Spark's `transformWith`, on the
//! driver.

use super::{Arg, Batch, OpDef, Role};
use crate::codegen::Gen;
use crate::plan::NodeId;
use proc_macro2::TokenStream;
use quote::{quote, quote_spanned};

pub static DEF: OpDef = OpDef::new(
    "transform_with",
    &[
        (Arg::Stream, "the other stream"),
        (
            Arg::Func,
            "a function of both batches' records (and optionally the time first)",
        ),
    ],
    Role::Batch(&TransformWith),
);

struct TransformWith;

impl Batch for TransformWith {
    fn driver(&self, g: &mut Gen, n: NodeId) -> TokenStream {
        let rt = quote!(::rill::__private::ops);
        let some = quote!(::core::option::Option::Some);
        let (binds, names) = g.bind_inputs(n);
        let (a, b) = (&names[0], &names[1]);
        let f = g.func(n, 0);
        let span = g.arg_span(n, 0);
        let (a, b) = (g.whole(quote!(#a)), g.whole(quote!(#b)));
        let call = if g.closure_arity(n, 0) == Some(3) {
            quote_spanned!(span=> #rt::transform_with::transform_with_time(__b.time(), #a, #b, __np, #f))
        } else {
            quote_spanned!(span=> #rt::transform_with::transform_with(#a, #b, __np, #f))
        };
        quote!(#binds #some(#call))
    }
}
