//! `filter(p)`: the records for which `p(&record)` holds.

use super::{Arg, Narrow, OpDef, Role, Takes};
use crate::codegen::{Gen, Rec, Rest};
use crate::plan::NodeId;
use proc_macro2::TokenStream;
use quote::{quote, quote_spanned};

pub static DEF: OpDef = OpDef::new(
    "filter",
    &[(Arg::Func, "a predicate on `&record`")],
    Role::Narrow(&Filter),
);

struct Filter;

impl Narrow for Filter {
    fn takes(&self) -> Takes {
        Takes::PassesOn
    }

    fn step(&self, g: &mut Gen, n: NodeId, r: Rec, rest: Rest<'_>) -> TokenStream {
        let f = g.call_target(n, 0, quote!(::rill::__private::interp::filter));
        let span = g.arg_span(n, 0);
        let x = r.by_ref();
        let cont = rest.apply(g, r);
        quote_spanned!(span=> if ::rill::__private::call_ref(#x, #f) { #cont })
    }
}
