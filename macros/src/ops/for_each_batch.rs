//! `for_each_batch(f)`: `f(time, records)` at every batch; `f` may be `FnMut`.

use super::{Arg, OpDef, Output, Role};
use crate::codegen::Gen;
use crate::plan::NodeId;
use proc_macro2::TokenStream;
use quote::{quote, quote_spanned};

pub static DEF: OpDef = OpDef::new(
    "for_each_batch",
    &[(Arg::FuncMut, "a function `|time, records| ...`")],
    Role::Output(&ForEachBatch),
);

struct ForEachBatch;

impl Output for ForEachBatch {
    fn run(&self, g: &mut Gen, o: NodeId) -> TokenStream {
        let p = quote!(::rill::__private);
        let some = quote!(::core::option::Option::Some);
        let records = g.output_records(o);
        let f = g.func(o, 0);
        let fspan = g.arg_span(o, 0);
        let call = quote_spanned!(fspan=> #p::sinks::for_each::for_each_batch(__b.time(), #p::concat_parts(__o), #f));
        quote!(if let #some(__o) = #records { #call; })
    }
}
