//! Narrow operators: the per-record code fused into a stage loop, one function each.
//!
//! Each function gets the record and a continuation (the rest of the chain) and nests
//! it, so a record produced by `flat_map` may borrow from its input for as long as the
//! rest of the chain runs. The user's closure is placed at the call through
//! `call_val`/`call_ref`, which fixes its argument type there.

use super::{Gen, Mode, Rec};
use crate::ops::Op;
use crate::plan::{NodeId, Sink};
use proc_macro2::TokenStream;
use quote::{format_ident, quote, quote_spanned};

impl Gen<'_> {
    /// Function argument `i` of node `n` as it is called per record: the closure itself
    /// (fused), or a boxed operator made once per partition (unfused).
    fn call_target(&mut self, n: NodeId, i: usize, ctor: &str) -> TokenStream {
        let f = self.func(n, i);
        match &self.witness {
            Some(w) => {
                let op = format_ident!("__op{}", n);
                let ctor = format_ident!("{}", ctor);
                self.prelude
                    .push(quote!(let #op = ::rill::__private::interp::#ctor(#w, #f);));
                quote!(&*#op)
            }
            None => f,
        }
    }

    /// The nested code of `chain` applied to `r`, ending in `sink`.
    pub fn chain(&mut self, chain: &[NodeId], r: Rec, sink: Sink) -> TokenStream {
        let Some((&n, rest)) = chain.split_first() else {
            return self.sink_record(sink, &r);
        };
        match self.plan.nodes[n]
            .op()
            .expect("a narrow node is an operator")
        {
            Op::Map => self.map(n, r, rest, sink),
            Op::Filter => self.filter(n, r, rest, sink),
            Op::FlatMap => self.flat_map(n, r, rest, sink),
            Op::MapValues => self.map_values(n, r, rest, sink),
            Op::FlatMapValues => self.flat_map_values(n, r, rest, sink),
            other => unreachable!("{other:?} is not narrow"),
        }
    }

    /// A fresh variable for the owned record an operator makes, and the rest of the
    /// chain applied to it.
    fn next_owned(&mut self, rest: &[NodeId], sink: Sink) -> (proc_macro2::Ident, TokenStream) {
        let y = self.fresh("r");
        let cont = self.chain(
            rest,
            Rec {
                var: y.clone(),
                mode: Mode::Owned,
            },
            sink,
        );
        (y, cont)
    }

    /// `map(f)`: `f(record)`.
    fn map(&mut self, n: NodeId, r: Rec, rest: &[NodeId], sink: Sink) -> TokenStream {
        let f = self.call_target(n, 0, "map");
        let span = self.arg_span(n, 0);
        let x = r.owned();
        let (y, cont) = self.next_owned(rest, sink);
        quote_spanned!(span=> let #y = ::rill::__private::call_val(#x, #f); #cont)
    }

    /// `filter(p)`: `p(&record)`.
    fn filter(&mut self, n: NodeId, r: Rec, rest: &[NodeId], sink: Sink) -> TokenStream {
        let f = self.call_target(n, 0, "filter");
        let span = self.arg_span(n, 0);
        let x = r.by_ref();
        let cont = self.chain(rest, r, sink);
        quote_spanned!(span=> if ::rill::__private::call_ref(#x, #f) { #cont })
    }

    /// `flat_map(f)`: every item of `f(&record)`; items may borrow from the record.
    fn flat_map(&mut self, n: NodeId, r: Rec, rest: &[NodeId], sink: Sink) -> TokenStream {
        let f = self.call_target(n, 0, "flat_map");
        let span = self.arg_span(n, 0);
        let x = r.by_ref();
        let (y, cont) = self.next_owned(rest, sink);
        quote_spanned!(span=> for #y in ::core::iter::IntoIterator::into_iter(::rill::__private::call_ref(#x, #f)) { #cont })
    }

    /// `map_values(f)`: `(k, f(v))`.
    fn map_values(&mut self, n: NodeId, r: Rec, rest: &[NodeId], sink: Sink) -> TokenStream {
        let f = self.call_target(n, 0, "map_values");
        let span = self.arg_span(n, 0);
        let op_span = self.plan.nodes[n].span;
        let x = r.owned();
        let (k, v) = (self.fresh("k"), self.fresh("v"));
        let (y, cont) = self.next_owned(rest, sink);
        let destructure = quote_spanned!(op_span=> let (#k, #v) = #x;);
        quote_spanned!(span=> #destructure let #y = (#k, ::rill::__private::call_val(#v, #f)); #cont)
    }

    /// `flat_map_values(f)`: `(k, item)` for every item of `f(v)`, the value taken by
    /// value as Spark's `flatMapValues` takes it.
    fn flat_map_values(&mut self, n: NodeId, r: Rec, rest: &[NodeId], sink: Sink) -> TokenStream {
        let f = self.call_target(n, 0, "flat_map_values");
        let span = self.arg_span(n, 0);
        let op_span = self.plan.nodes[n].span;
        let x = r.owned();
        let (k, v, w) = (self.fresh("k"), self.fresh("v"), self.fresh("w"));
        let (y, cont) = self.next_owned(rest, sink);
        let destructure = quote_spanned!(op_span=> let (#k, #v) = #x;);
        quote_spanned!(span=>
            #destructure
            for #w in ::core::iter::IntoIterator::into_iter(::rill::__private::call_val(#v, #f)) {
                let #y = (::core::clone::Clone::clone(&#k), #w);
                #cont
            }
        )
    }
}
