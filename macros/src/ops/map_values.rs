//! `map_values(f)`: `(k, f(v))` for every pair.

use super::{Arg, Narrow, OpDef, Role, Takes};
use crate::codegen::{Gen, Rec, Rest};
use crate::plan::NodeId;
use proc_macro2::TokenStream;
use quote::{quote, quote_spanned};

pub static DEF: OpDef = OpDef::new(
    "map_values",
    &[(Arg::Func, "a function of the value")],
    Role::Narrow(&MapValues),
);

struct MapValues;

impl Narrow for MapValues {
    fn takes(&self) -> Takes {
        Takes::Consumes
    }

    fn step(&self, g: &mut Gen, n: NodeId, r: Rec, rest: Rest<'_>) -> TokenStream {
        let f = g.call_target(n, 0, quote!(::rill::__private::interp::map_values));
        let span = g.arg_span(n, 0);
        let op_span = g.plan.nodes[n].span;
        let x = r.owned();
        let (k, v) = (g.fresh("k"), g.fresh("v"));
        let (y, cont) = rest.owned(g);
        let destructure = quote_spanned!(op_span=> let (#k, #v) = #x;);
        quote_spanned!(span=> #destructure let #y = (#k, ::rill::__private::call_val(#v, #f)); #cont)
    }
}
