//! `map(f)`: `f(record)` for every record.

use super::{Arg, Narrow, OpDef, Role, Takes};
use crate::codegen::{Gen, Rec, Rest};
use crate::plan::NodeId;
use proc_macro2::TokenStream;
use quote::{quote, quote_spanned};

pub static DEF: OpDef = OpDef::new(
    "map",
    &[(Arg::Func, "a function of the record")],
    Role::Narrow(&Map),
);

struct Map;

impl Narrow for Map {
    fn takes(&self) -> Takes {
        Takes::Consumes
    }

    fn step(&self, g: &mut Gen, n: NodeId, r: Rec, rest: Rest<'_>) -> TokenStream {
        let f = g.call_target(n, 0, quote!(::rill::__private::interp::map));
        let span = g.arg_span(n, 0);
        let x = r.owned();
        let (y, cont) = rest.owned(g);
        quote_spanned!(span=> let #y = ::rill::__private::call_val(#x, #f); #cont)
    }
}
