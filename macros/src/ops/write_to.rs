//! `write_to(sink)`: each batch's records written to a user's [`Sink`], which the context
//! commits once every output of the batch succeeded.
//!
//! [`Sink`]: https://docs.rs/rill/latest/rill/sink/trait.Sink.html

use super::{Arg, OpDef, Output, Role};
use crate::codegen::{Gen, out_handle};
use crate::plan::NodeId;
use proc_macro2::TokenStream;
use quote::{quote, quote_spanned};

pub static DEF: OpDef = OpDef::new(
    "write_to",
    &[(Arg::Value, "a value implementing `rill::sink::Sink`")],
    Role::Output(&WriteTo),
);

struct WriteTo;

impl Output for WriteTo {
    fn setup(&self, g: &Gen, o: NodeId) -> Option<TokenStream> {
        let h = out_handle(o);
        let span = g.plan.nodes[o].span;
        let sink = g.value(o, 0);
        Some(quote_spanned!(span=> let #h = ::rill::__private::sink_output(__ctx, #sink);))
    }

    fn run(&self, g: &mut Gen, o: NodeId) -> TokenStream {
        let p = quote!(::rill::__private);
        let some = quote!(::core::option::Option::Some);
        let span = g.plan.nodes[o].span;
        let h = out_handle(o);
        let records = g.take(g.plan.nodes[o].inputs[0]);
        quote_spanned!(span=> if let #some(__o) = #records { #p::write_to(__b.time(), #p::concat_parts(__o), &#h)?; })
    }
}
