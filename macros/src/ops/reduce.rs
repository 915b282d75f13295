//! `reduce(f)`: the batch's records reduced with `f`, per partition and then on the
//! driver.

use super::args::REDUCE;
use super::{Global, Merge, OpDef, Role};
use crate::codegen::{Gen, partial};
use crate::plan::NodeId;
use proc_macro2::TokenStream;
use quote::{format_ident, quote, quote_spanned};

pub static DEF: OpDef = OpDef::new("reduce", &[REDUCE], Role::Global(&Reduce));

struct Reduce;

impl Global for Reduce {
    fn partial(&self) -> Merge {
        Merge::Reduce(0)
    }

    fn merge(&self, g: &mut Gen, n: NodeId) -> TokenStream {
        let rt = quote!(::rill::__private::ops);
        let some = quote!(::core::option::Option::Some);
        let a = format_ident!("__a");
        let pv = partial(n);
        let f = g.func(n, 0);
        let span = g.arg_span(n, 0);
        let call = quote_spanned!(span=> #rt::reduce::merge(#a, #f));
        quote!(let #some(#a) = #pv else { break '__step ::core::option::Option::None; }; #some(#call))
    }
}
