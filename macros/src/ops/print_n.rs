//! `print_n(n)`: `print()` with the first `n` records.

use super::{Arg, OpDef, Output, Role};
use crate::codegen::Gen;
use crate::plan::NodeId;
use proc_macro2::TokenStream;
use quote::{quote, quote_spanned};

pub static DEF: OpDef = OpDef::new(
    "print_n",
    &[(Arg::Value, "the number of records to print")],
    Role::Output(&PrintN),
);

struct PrintN;

impl Output for PrintN {
    fn run(&self, g: &mut Gen, o: NodeId) -> TokenStream {
        let node = &g.plan.nodes[o];
        let v = Gen::var(node.inputs[0]);
        let span = node.span;
        let p = quote!(::rill::__private);
        let some = quote!(::core::option::Option::Some);
        let n = g.value(o, 0);
        quote_spanned!(span=> if let #some(__o) = &#v { #p::sinks::print::print(__b.time(), __o, #n)?; })
    }
}
