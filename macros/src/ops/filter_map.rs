//! `filter_map(f)`: the `Some` values of `f(record)`, the record taken by value (Rust's
//! `Iterator::filter_map`): selecting one variant of an enum and moving its fields out
//! needs no clone, where `flat_map` (which borrows the record) would.

use super::{Arg, Narrow, OpDef, Role, Takes};
use crate::codegen::{Gen, Rec, Rest};
use crate::plan::NodeId;
use proc_macro2::TokenStream;
use quote::{quote, quote_spanned};

pub static DEF: OpDef = OpDef::new(
    "filter_map",
    &[(Arg::Func, "a function from the record to an `Option`")],
    Role::Narrow(&FilterMap),
);

struct FilterMap;

impl Narrow for FilterMap {
    fn takes(&self) -> Takes {
        Takes::Consumes
    }

    fn step(&self, g: &mut Gen, n: NodeId, r: Rec, rest: Rest<'_>) -> TokenStream {
        let f = g.call_target(n, 0, quote!(::rill::__private::interp::filter_map));
        let span = g.arg_span(n, 0);
        let x = r.owned();
        let (y, cont) = rest.owned(g);
        quote_spanned!(span=> if let ::core::option::Option::Some(#y) = ::rill::__private::call_val(#x, #f) { #cont })
    }
}
