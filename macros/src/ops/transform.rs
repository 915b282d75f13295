//! `transform(f)`: `f` over the batch's records (with the batch time first when it
//! takes two arguments), on the driver.

use super::{Arg, Batch, OpDef, Role};
use crate::codegen::Gen;
use crate::plan::NodeId;
use proc_macro2::TokenStream;
use quote::{quote, quote_spanned};

pub static DEF: OpDef = OpDef::new(
    "transform",
    &[(
        Arg::Func,
        "a function of the batch's records (and optionally the time first)",
    )],
    Role::Batch(&Transform),
);

struct Transform;

impl Batch for Transform {
    fn driver(&self, g: &mut Gen, n: NodeId) -> TokenStream {
        let rt = quote!(::rill::__private::ops);
        let some = quote!(::core::option::Option::Some);
        let (binds, a) = g.bind_inputs(n);
        let a = &a[0];
        let f = g.func(n, 0);
        let span = g.arg_span(n, 0);
        let whole = g.whole(quote!(#a));
        let call = if g.closure_arity(n, 0) == Some(2) {
            quote_spanned!(span=> #rt::transform::transform_with_time(__b.time(), #whole, __np, #f))
        } else {
            quote_spanned!(span=> #rt::transform::transform(#whole, __np, #f))
        };
        quote!(#binds #some(#call))
    }
}
