//! `count()`: the number of records of the batch, counted per partition and summed on
//! the driver.

use super::{Global, Merge, OpDef, Role};
use crate::codegen::{Gen, partial};
use crate::plan::NodeId;
use proc_macro2::TokenStream;
use quote::{format_ident, quote};

pub static DEF: OpDef = OpDef::new("count", &[], Role::Global(&Count));

struct Count;

impl Global for Count {
    fn partial(&self) -> Merge {
        Merge::Count
    }

    fn merge(&self, _g: &mut Gen, n: NodeId) -> TokenStream {
        let rt = quote!(::rill::__private::ops);
        let some = quote!(::core::option::Option::Some);
        let a = format_ident!("__a");
        let pv = partial(n);
        quote!(let #some(#a) = #pv else { break '__step ::core::option::Option::None; }; #some(#rt::count::merge(#a)))
    }
}
