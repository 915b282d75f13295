//! `flat_map(f)`: every item of `f(&record)`; items may borrow from the record, which
//! stays alive while the rest of the stage runs over them.

use super::{Arg, Narrow, OpDef, Role, Takes};
use crate::codegen::{Gen, Rec, Rest};
use crate::plan::NodeId;
use proc_macro2::TokenStream;
use quote::{quote, quote_spanned};

pub static DEF: OpDef = OpDef::new(
    "flat_map",
    &[(Arg::Func, "a function from `&record` to an iterable")],
    Role::Narrow(&FlatMap),
);

struct FlatMap;

impl Narrow for FlatMap {
    fn takes(&self) -> Takes {
        Takes::Borrows
    }

    fn step(&self, g: &mut Gen, n: NodeId, r: Rec, rest: Rest<'_>) -> TokenStream {
        let f = g.call_target(n, 0, quote!(::rill::__private::interp::flat_map));
        let span = g.arg_span(n, 0);
        let x = r.by_ref();
        let (y, cont) = rest.owned(g);
        quote_spanned!(span=> for #y in ::core::iter::IntoIterator::into_iter(::rill::__private::call_ref(#x, #f)) { #cont })
    }
}
