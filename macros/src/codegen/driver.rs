//! Driver steps (union, transform, merging count and reduce partials) and outputs.

use super::Gen;
use crate::ops::Op;
use crate::plan::NodeId;
use proc_macro2::TokenStream;
use quote::{format_ident, quote, quote_spanned};

impl Gen<'_> {
    /// A driver step producing node `n`'s partitions.
    pub fn driver(&mut self, n: NodeId) -> TokenStream {
        let node = &self.plan.nodes[n];
        let out = Self::var(n);
        let rt = quote!(::rill::__private::ops);
        match node.op().expect("a driver step is an operator") {
            Op::Union => {
                let (a, b) = (self.take(node.inputs[0]), self.take(node.inputs[1]));
                quote!(let #out = #rt::union::union(#a, #b);)
            }
            Op::Transform => {
                let input = self.take(node.inputs[0]);
                let f = self.func(n, 0);
                let span = self.arg_span(n, 0);
                if self.closure_arity(n, 0) == Some(2) {
                    quote_spanned!(span=> let #out = #rt::transform::transform_with_time(__b.time(), ::rill::__private::concat(#input), __np, #f);)
                } else {
                    quote_spanned!(span=> let #out = #rt::transform::transform(::rill::__private::concat(#input), __np, #f);)
                }
            }
            Op::Count => {
                let p = format_ident!("__p{}", n);
                quote!(let #out = #rt::count::merge(#p);)
            }
            Op::Reduce => {
                let p = format_ident!("__p{}", n);
                let f = self.func(n, 0);
                let span = self.arg_span(n, 0);
                quote_spanned!(span=> let #out = #rt::reduce::merge(#p, #f);)
            }
            other => unreachable!("{other:?} is not a driver step"),
        }
    }

    fn out_handle(o: NodeId) -> proc_macro2::Ident {
        format_ident!("__out{}", o)
    }

    /// Set-up of an output before the job (handles, writers).
    pub fn output_setup(&mut self, o: NodeId, op: Op) {
        let h = Self::out_handle(o);
        let span = self.plan.nodes[o].span;
        match op {
            Op::Collect => {
                let job = format_ident!("__outj{}", o);
                self.setup.push(quote_spanned!(span=>
                    let #h = ::rill::Collected::new();
                    let #job = ::core::clone::Clone::clone(&#h);
                ));
            }
            Op::SaveAsTextFiles => {
                let (prefix, suffix) = (self.value(o, 0), self.value(o, 1));
                self.setup.push(
                    quote_spanned!(span=> let #h = ::rill::__private::sinks::text_files::TextFiles::new(#prefix, #suffix);),
                );
            }
            _ => {}
        }
    }

    /// The value an output contributes to the block's value.
    pub fn output_value(&self, o: NodeId) -> TokenStream {
        if self.plan.nodes[o].op() == Some(Op::Collect) {
            let h = Self::out_handle(o);
            quote!(#h)
        } else {
            quote!(())
        }
    }

    /// An output at every batch.
    pub fn output(&mut self, o: NodeId) -> TokenStream {
        let node = &self.plan.nodes[o];
        let input = node.inputs[0];
        let v = Self::var(input);
        let span = node.span;
        let p = quote!(::rill::__private);
        match node.op().expect("an output is an operator") {
            Op::Print => quote_spanned!(span=> #p::sinks::print::print(__b.time(), &#v, 10usize);),
            Op::PrintN => {
                let n = self.value(o, 0);
                quote_spanned!(span=> #p::sinks::print::print(__b.time(), &#v, #n);)
            }
            Op::SaveAsTextFiles => {
                let h = Self::out_handle(o);
                quote_spanned!(span=> #h.write(__b.time(), &#v)?;)
            }
            Op::ForEachBatch => {
                let records = self.take(input);
                let f = self.func(o, 0);
                let fspan = self.arg_span(o, 0);
                quote_spanned!(fspan=> #p::sinks::for_each::for_each_batch(__b.time(), #p::concat(#records), #f);)
            }
            Op::Collect => {
                let job = format_ident!("__outj{}", o);
                let records = self.take(input);
                quote_spanned!(span=> #job.push(#p::concat(#records));)
            }
            other => unreachable!("{other:?} is not an output"),
        }
    }
}
