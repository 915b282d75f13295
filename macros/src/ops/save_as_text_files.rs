//! `save_as_text_files(prefix, suffix)`: each batch into a directory
//! `prefix-<time>.suffix`, one file per partition.

use super::{Arg, OpDef, Output, Role};
use crate::codegen::{Gen, out_handle};
use crate::plan::NodeId;
use proc_macro2::TokenStream;
use quote::{quote, quote_spanned};

pub static DEF: OpDef = OpDef::new(
    "save_as_text_files",
    &[(Arg::Value, "the prefix"), (Arg::Value, "the suffix")],
    Role::Output(&SaveAsTextFiles),
);

struct SaveAsTextFiles;

impl Output for SaveAsTextFiles {
    fn setup(&self, g: &Gen, o: NodeId) -> Option<TokenStream> {
        let h = out_handle(o);
        let span = g.plan.nodes[o].span;
        let (prefix, suffix) = (g.value(o, 0), g.value(o, 1));
        Some(
            quote_spanned!(span=> let #h = ::rill::__private::sinks::text_files::TextFiles::new(#prefix, #suffix);),
        )
    }

    fn run(&self, g: &mut Gen, o: NodeId) -> TokenStream {
        let node = &g.plan.nodes[o];
        let v = Gen::var(node.inputs[0]);
        let span = node.span;
        let some = quote!(::core::option::Option::Some);
        let h = out_handle(o);
        quote_spanned!(span=> if let #some(__o) = &#v { #h.write(__b.time(), __o)?; })
    }
}
