//! `print()`: Spark's print: a header with the batch time and the first 10 records.

use super::{OpDef, Output, Role};
use crate::codegen::Gen;
use crate::plan::NodeId;
use proc_macro2::TokenStream;
use quote::{quote, quote_spanned};

pub static DEF: OpDef = OpDef::new("print", &[], Role::Output(&Print));

struct Print;

impl Output for Print {
    fn run(&self, g: &mut Gen, o: NodeId) -> TokenStream {
        print_records(g, o, quote!(10usize))
    }
}

/// Prints the first `num` records of output `o`'s stream at a batch where it has output
/// (`print()` and `print_n(n)`).
pub(super) fn print_records(g: &Gen, o: NodeId, num: TokenStream) -> TokenStream {
    let node = &g.plan.nodes[o];
    let v = Gen::var(node.inputs[0]);
    let span = node.span;
    let p = quote!(::rill::__private);
    let some = quote!(::core::option::Option::Some);
    quote_spanned!(span=> if let #some(__o) = &#v { #p::sinks::print::print(__b.time(), __o, #num)?; })
}
