//! Driver steps (union, transform, merging count and reduce partials, windows over whole
//! batches) and outputs.

use super::Gen;
use super::stage::partial;
use crate::ops::Op;
use crate::plan::NodeId;
use proc_macro2::TokenStream;
use quote::{format_ident, quote, quote_spanned};

impl Gen<'_> {
    /// A driver step producing node `n`'s partitions (an `Option`, like every stream).
    pub fn driver(&mut self, n: NodeId) -> TokenStream {
        let node = &self.plan.nodes[n];
        let out = Self::var(n);
        let rt = quote!(::rill::__private::ops);
        let p = quote!(::rill::__private);
        let some = quote!(::core::option::Option::Some);
        let (a, b) = (format_ident!("__a"), format_ident!("__b2"));
        let body = match node.op().expect("a driver step is an operator") {
            Op::Union => {
                let (bind_a, bind_b) = (
                    self.bind(node.inputs[0], true, &a),
                    self.bind(node.inputs[1], true, &b),
                );
                quote!(#bind_a #bind_b #some(#rt::union::union(#p::into_parts(#a), #p::into_parts(#b))))
            }
            Op::Transform => {
                let bind = self.bind(node.inputs[0], true, &a);
                let f = self.func(n, 0);
                let span = self.arg_span(n, 0);
                let call = if self.closure_arity(n, 0) == Some(2) {
                    quote_spanned!(span=> #rt::transform::transform_with_time(__b.time(), #p::concat_parts(#a), __np, #f))
                } else {
                    quote_spanned!(span=> #rt::transform::transform(#p::concat_parts(#a), __np, #f))
                };
                quote!(#bind #some(#call))
            }
            Op::Count => {
                let pv = partial(n);
                quote!(let #some(#a) = #pv else { break '__step ::core::option::Option::None; }; #some(#rt::count::merge(#a)))
            }
            Op::Reduce => {
                let pv = partial(n);
                let f = self.func(n, 0);
                let span = self.arg_span(n, 0);
                let call = quote_spanned!(span=> #rt::reduce::merge(#a, #f));
                quote!(let #some(#a) = #pv else { break '__step ::core::option::Option::None; }; #some(#call))
            }
            Op::Window | Op::CountByWindow | Op::ReduceByWindow => self.stateful_driver(n),
            Op::StateSnapshots => {
                let snaps = format_ident!("__snap{}", node.inputs[0]);
                quote!(#snaps)
            }
            other => unreachable!("{other:?} is not a driver step"),
        };
        quote!(let #out = '__step: { #body };)
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

    /// An output, run at every batch where its stream has output, except in a batch that
    /// recovery recomputes only to rebuild state (its outputs completed before a crash).
    pub fn output(&mut self, o: NodeId) -> TokenStream {
        let body = self.output_body(o);
        quote!(if __b.runs_outputs() { #body })
    }

    fn output_body(&mut self, o: NodeId) -> TokenStream {
        let node = &self.plan.nodes[o];
        let input = node.inputs[0];
        let v = Self::var(input);
        let span = node.span;
        let p = quote!(::rill::__private);
        let some = quote!(::core::option::Option::Some);
        match node.op().expect("an output is an operator") {
            Op::Print => {
                quote_spanned!(span=> if let #some(__o) = &#v { #p::sinks::print::print(__b.time(), __o, 10usize)?; })
            }
            Op::PrintN => {
                let n = self.value(o, 0);
                quote_spanned!(span=> if let #some(__o) = &#v { #p::sinks::print::print(__b.time(), __o, #n)?; })
            }
            Op::SaveAsTextFiles => {
                let h = Self::out_handle(o);
                quote_spanned!(span=> if let #some(__o) = &#v { #h.write(__b.time(), __o)?; })
            }
            Op::ForEachBatch => {
                let records = self.take(input);
                let f = self.func(o, 0);
                let fspan = self.arg_span(o, 0);
                let call = quote_spanned!(fspan=> #p::sinks::for_each::for_each_batch(__b.time(), #p::concat_parts(__o), #f));
                quote!(if let #some(__o) = #records { #call; })
            }
            Op::Collect => {
                let job = format_ident!("__outj{}", o);
                let records = self.take(input);
                quote_spanned!(span=> if let #some(__o) = #records { #job.push(#p::concat_parts(__o)); })
            }
            other => unreachable!("{other:?} is not an output"),
        }
    }
}
