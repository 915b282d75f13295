//! `union(other)`: the records of both streams, on the driver. Written as a source,
//! `union(a, b, c, ...)` is Spark's `StreamingContext.union`: a chain of this operator
//! (see `plan::build`).

use super::{Arg, Batch, OpDef, Role};
use crate::codegen::Gen;
use crate::plan::NodeId;
use proc_macro2::TokenStream;
use quote::quote;

/// The name of the context-level form, `union(a, b, ...)`.
pub const CONTEXT_UNION: &str = "union";

pub static DEF: OpDef = OpDef::new(
    "union",
    &[(Arg::Stream, "the other stream")],
    Role::Batch(&Union),
);

struct Union;

impl Batch for Union {
    fn driver(&self, g: &mut Gen, n: NodeId) -> TokenStream {
        let rt = quote!(::rill::__private::ops);
        let p = quote!(::rill::__private);
        let some = quote!(::core::option::Option::Some);
        let (binds, names) = g.bind_inputs(n);
        let (a, b) = (&names[0], &names[1]);
        quote!(#binds #some(#rt::union::union(#p::into_parts(#a), #p::into_parts(#b))))
    }
}
