//! `map_partitions(f)`: `f` over each partition's records as an iterator, returning any
//! iterable (Spark's `mapPartitions`), the partitions in parallel.

use super::{Arg, Batch, OpDef, Role};
use crate::codegen::Gen;
use crate::plan::NodeId;
use proc_macro2::TokenStream;
use quote::{quote, quote_spanned};

pub static DEF: OpDef = OpDef::new(
    "map_partitions",
    &[(
        Arg::Func,
        "a function of one partition's records (an iterator) returning an iterable",
    )],
    Role::Batch(&MapPartitions),
);

struct MapPartitions;

impl Batch for MapPartitions {
    fn driver(&self, g: &mut Gen, n: NodeId) -> TokenStream {
        let rt = quote!(::rill::__private::ops);
        let p = quote!(::rill::__private);
        let some = quote!(::core::option::Option::Some);
        let (binds, a) = g.bind_inputs(n);
        let a = &a[0];
        let f = g.func(n, 0);
        let span = g.arg_span(n, 0);
        let call =
            quote_spanned!(span=> #rt::map_partitions::map_partitions(__b, #p::into_parts(#a), #f));
        quote!(#binds #some(#call))
    }
}
