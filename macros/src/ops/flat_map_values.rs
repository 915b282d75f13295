//! `flat_map_values(f)`: `(k, item)` for every item of `f(v)`, the value taken by value
//! as Spark's `flatMapValues` takes it.

use super::{Arg, Narrow, OpDef, Role, Takes};
use crate::codegen::{Gen, Rec, Rest};
use crate::plan::NodeId;
use proc_macro2::TokenStream;
use quote::{quote, quote_spanned};

pub static DEF: OpDef = OpDef::new(
    "flat_map_values",
    &[(Arg::Func, "a function from `&value` to an iterable")],
    Role::Narrow(&FlatMapValues),
);

struct FlatMapValues;

impl Narrow for FlatMapValues {
    fn takes(&self) -> Takes {
        Takes::Consumes
    }

    fn step(&self, g: &mut Gen, n: NodeId, r: Rec, rest: Rest<'_>) -> TokenStream {
        let f = g.call_target(n, 0, quote!(::rill::__private::interp::flat_map_values));
        let span = g.arg_span(n, 0);
        let op_span = g.plan.nodes[n].span;
        let x = r.owned();
        let (k, v, w) = (g.fresh("k"), g.fresh("v"), g.fresh("w"));
        let (y, cont) = rest.owned(g);
        let destructure = quote_spanned!(op_span=> let (#k, #v) = #x;);
        quote_spanned!(span=>
            #destructure
            for #w in ::core::iter::IntoIterator::into_iter(::rill::__private::call_val(#v, #f)) {
                let #y = (::core::clone::Clone::clone(&#k), #w);
                #cont
            }
        )
    }
}
