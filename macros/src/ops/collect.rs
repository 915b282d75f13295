//! `collect()`: every batch's records, handed back by the handle that is the output's
//! value in the block.

use super::{OpDef, Output, Role};
use crate::codegen::{Gen, out_handle, source_tag};
use crate::plan::{Kind, NodeId};
use proc_macro2::{Ident, TokenStream};
use quote::{format_ident, quote, quote_spanned};

pub static DEF: OpDef = OpDef::new("collect", &[], Role::Output(&Collect));

struct Collect;

/// The job's clone of the handle.
fn job_handle(o: NodeId) -> Ident {
    format_ident!("__outj{}", o)
}

impl Output for Collect {
    fn setup(&self, g: &Gen, o: NodeId) -> Option<TokenStream> {
        let (h, job) = (out_handle(o), job_handle(o));
        let span = g.plan.nodes[o].span;
        Some(quote_spanned!(span=>
            let #h = ::rill::Collected::new();
            let #job = ::core::clone::Clone::clone(&#h);
        ))
    }

    fn run(&self, g: &mut Gen, o: NodeId) -> TokenStream {
        let p = quote!(::rill::__private);
        let some = quote!(::core::option::Option::Some);
        let span = g.plan.nodes[o].span;
        let job = job_handle(o);
        let records = g.output_records(o);
        let input = g.plan.nodes[o].inputs[0];
        if g.plan.nodes[input].kind != Kind::Source {
            return quote_spanned!(span=> if let #some(__o) = #records { #job.push(#p::concat_parts(__o)); });
        }
        // A socket source's lines (`rill::source::Line`) are collected as `String`s,
        // picked by the source value's type (`private::pick`).
        let tag = source_tag(input);
        quote_spanned!(span=> if let #some(__o) = #records {
            let __c = #p::concat_parts(__o);
            #[allow(unused_imports)]
            use #p::pick::{CollectAny as _, CollectLines as _};
            #job.push((&&#tag).rill_collect_kind().collected(__c));
        })
    }

    fn value(&self, o: NodeId) -> TokenStream {
        let h = out_handle(o);
        quote!(#h)
    }
}
