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
        Some(sink_setup(g, o, g.value(o, 0)))
    }

    fn run(&self, g: &mut Gen, o: NodeId) -> TokenStream {
        sink_write(g, o)
    }
}

/// Set-up code of an output writing to the sink `sink` (an expression): registers it
/// with the context. Every output that writes batches (`write_to`, `print`, `print_n`,
/// `save_as_text_files`) is a sink, so they share this code.
pub(super) fn sink_setup(g: &Gen, o: NodeId, sink: TokenStream) -> TokenStream {
    let h = out_handle(o);
    let span = g.plan.nodes[o].span;
    quote_spanned!(span=> let #h = ::rill::__private::sink_output(__ctx, #sink);)
}

/// Job code of an output set up by [`sink_setup`]: writes the batch's partitions, if
/// its stream has output at this batch.
pub(super) fn sink_write(g: &mut Gen, o: NodeId) -> TokenStream {
    let p = quote!(::rill::__private);
    let some = quote!(::core::option::Option::Some);
    let span = g.plan.nodes[o].span;
    let h = out_handle(o);
    let records = g.output_records(o);
    quote_spanned!(span=> if let #some(__o) = #records { #p::write_to(__b.time(), __o, &#h)?; })
}
