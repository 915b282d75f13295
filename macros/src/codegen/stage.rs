//! A fused stage: a parallel loop over partitions, the narrow chain per record, a sink.
//!
//! Every stage's result is an `Option`: `None` when its input has no output at this
//! batch (a window between slides), so everything downstream skips the batch too.

use super::{Gen, Mode, Rec};
use crate::ops::{Merge, Shuffle};
use crate::plan::{At, Combine, Input, Keys, NodeId, Partitions, Sink, Stage, Write};
use proc_macro2::{Ident, TokenStream};
use quote::{format_ident, quote, quote_spanned};

/// The variable holding what a stage wrote for side `side` of shuffle `op`.
pub fn written(op: NodeId, side: usize) -> Ident {
    format_ident!("__w{}_{}", op, side)
}

/// The variable holding the exchanged buckets for side `side` of shuffle `op`.
pub fn exchanged(op: NodeId, side: usize) -> Ident {
    format_ident!("__x{}_{}", op, side)
}

/// The capacity hint of the map-side tables of combining shuffle `op`.
pub fn capacity_hint(op: NodeId) -> Ident {
    format_ident!("__cap{}", op)
}

/// The variable holding the per-partition partial results of a global node.
pub fn partial(op: NodeId) -> Ident {
    format_ident!("__p{}", op)
}

impl Gen<'_> {
    /// The code of one stage.
    pub fn stage(&mut self, st: &Stage) -> TokenStream {
        let out = match st.sink {
            Sink::Materialize(n) => Self::var(n),
            Sink::ShuffleWrite(op, side, _) => written(op, side),
            Sink::Partial(at) => partial(at.node),
        };
        if let (Input::ShuffleRead(at), true, Sink::Materialize(_)) =
            (st.input, st.chain.is_empty(), st.sink)
        {
            return self.read_into_materialized(at);
        }
        let (init, finish) = self.sink_init(st.sink);
        let rec = self.fresh("r");
        let mode = st.mode;
        // Unfused plans call operators through boxes made once per partition.
        self.witness = match (st.boxed, mode) {
            (true, Mode::Owned) => Some(quote!(&__part)),
            (true, Mode::Ref) => Some(quote!(__part)),
            (false, _) => None,
        };
        if let (
            Some(w),
            Sink::ShuffleWrite(
                op,
                _,
                Write::Combine(Combine {
                    merge: Merge::Reduce(i),
                    boxed: true,
                    ..
                }),
            ),
        ) = (&self.witness, st.sink)
        {
            let f = self.func(op, i);
            self.prelude
                .push(quote!(let __rf = ::rill::__private::interp::reduce_values(#w, #f);));
        }
        let rec0 = Rec {
            var: rec.clone(),
            mode,
        };
        let body = self.chain(&st.chain, rec0, st.sink);
        let prelude = std::mem::take(&mut self.prelude);
        let init = quote!(#init #(#prelude)*);
        match st.input {
            Input::Materialized(m) => {
                let sole = self.plan.consumers[m].len() == 1;
                let indexed = matches!(st.sink, Sink::ShuffleWrite(_, _, Write::RoundRobin(_)));
                let input = format_ident!("__in");
                let bind = self.bind(m, mode == Mode::Owned && sole, &input);
                let (method, arg, params, iter) = match (mode, indexed) {
                    // Round-robin needs the partition's index to spread small partitions.
                    (Mode::Owned, true) => (
                        quote!(map_owned),
                        quote!(#input.into_iter().enumerate().collect::<::std::vec::Vec<_>>()),
                        quote!((__pi, __part)),
                        quote!(__part),
                    ),
                    (Mode::Ref, true) => (
                        quote!(map_owned),
                        quote!(#input.iter().enumerate().collect::<::std::vec::Vec<_>>()),
                        quote!((__pi, __part)),
                        quote!(__part.iter()),
                    ),
                    (Mode::Owned, false) => (
                        quote!(map_owned),
                        quote!(#input),
                        quote!(__part),
                        quote!(__part),
                    ),
                    (Mode::Ref, false) => (
                        quote!(map_ref),
                        quote!(#input),
                        quote!(__part),
                        quote!(__part.iter()),
                    ),
                };
                quote! {
                    let #out = '__step: {
                        #bind
                        ::core::option::Option::Some(__b.#method(#arg, |#params| {
                            #init
                            for #rec in #iter { #body }
                            #finish
                        }))
                    };
                }
            }
            Input::ShuffleRead(at) => {
                let params = self.read_params(at.node);
                let records = at.op.read(self, at.node);
                let inner = quote! {{
                    #init
                    for #rec in #records { #body }
                    #finish
                }};
                let (binds, run) = self.run_over_shuffle(at.node, params, inner);
                quote! {
                    let #out = '__step: {
                        #binds
                        ::core::option::Option::Some(#run)
                    };
                }
            }
        }
    }

    /// Binds the exchanged inputs of shuffle `op` and runs `body` over their partitions.
    pub fn run_over_shuffle(
        &self,
        op: NodeId,
        params: TokenStream,
        body: TokenStream,
    ) -> (TokenStream, TokenStream) {
        let none = quote!(else { break '__step ::core::option::Option::None; };);
        let x0 = exchanged(op, 0);
        if self.plan.nodes[op].inputs.len() == 2 {
            let x1 = exchanged(op, 1);
            (
                quote!(let ::core::option::Option::Some(__x0) = #x0 #none let ::core::option::Option::Some(__x1) = #x1 #none),
                quote!(__b.map_zip(__x0, __x1, |#params| #body)),
            )
        } else {
            (
                quote!(let ::core::option::Option::Some(__x0) = #x0 #none),
                quote!(__b.map_owned(__x0, |#params| #body)),
            )
        }
    }

    /// The closure parameters of a shuffle's read side: one exchanged partition per input.
    fn read_params(&self, op: NodeId) -> TokenStream {
        if self.plan.nodes[op].inputs.len() == 2 {
            quote!(__in, __in2)
        } else {
            quote!(__in)
        }
    }

    /// A shuffle read straight into the node's materialization: no loop.
    fn read_into_materialized(&mut self, at: At<dyn Shuffle>) -> TokenStream {
        let op = at.node;
        let out = Self::var(op);
        let params = self.read_params(op);
        let records = at.op.read(self, op);
        let (binds, run) = self.run_over_shuffle(op, params, records);
        quote! {
            let #out = '__step: {
                #binds
                ::core::option::Option::Some(#run)
            };
        }
    }

    /// The sink's per-partition set-up and result.
    fn sink_init(&self, sink: Sink) -> (TokenStream, TokenStream) {
        let p = quote!(::rill::__private);
        match sink {
            Sink::Materialize(_) => (quote!(let mut __o = ::std::vec::Vec::new();), quote!(__o)),
            Sink::ShuffleWrite(op, _, Write::Combine(_)) => {
                let hint = capacity_hint(op);
                (
                    quote!(let mut __o = #p::combine::Combiner::partitioned(__np, &#hint);),
                    quote!(__o.into_buckets(&#hint)),
                )
            }
            Sink::ShuffleWrite(op, _, Write::RoundRobin(i)) => {
                let n = self.partitions(op, Partitions::Value(i));
                (
                    quote!(let mut __o = #p::ops::repartition::RoundRobin::new(#n, __pi);),
                    quote!(__o.finish()),
                )
            }
            Sink::ShuffleWrite(_, _, Write::Pairs) => (
                quote!(let mut __o = #p::combine::Buckets::new(__np);),
                quote!(__o.finish()),
            ),
            Sink::Partial(at) => match at.op.partial() {
                Merge::Count => (quote!(let mut __o: u64 = 0;), quote!(__o)),
                Merge::Reduce(_) => (
                    quote!(let mut __o = ::core::option::Option::None;),
                    quote!(__o),
                ),
            },
        }
    }

    /// What the sink does with one record.
    pub fn sink_record(&self, sink: Sink, r: &Rec) -> TokenStream {
        let p = quote!(::rill::__private);
        match sink {
            Sink::Materialize(_) => {
                let x = r.owned();
                quote!(__o.push(#x);)
            }
            Sink::ShuffleWrite(op, _, write) => {
                let span = self.plan.nodes[op].span;
                let x = &r.var;
                // `__v` at the span it is declared at (hygiene.rs).
                let v = match r.mode {
                    Mode::Owned => quote_spanned!(span=> __v),
                    Mode::Ref => quote_spanned!(span=> ::core::clone::Clone::clone(__v)),
                };
                match write {
                    Write::Combine(c) => {
                        let insert = Ident::new(
                            match c.keys {
                                Keys::AsIs => "insert_as_is",
                                Keys::Owned => "insert",
                            },
                            span,
                        );
                        match c.merge {
                            Merge::Count => {
                                quote_spanned!(span=> __o.#insert(#x, #p::ops::count_by_value::one(), #p::ops::count_by_value::add);)
                            }
                            Merge::Reduce(i) => {
                                let f = if c.boxed {
                                    quote!(&*__rf)
                                } else {
                                    self.func(op, i)
                                };
                                quote_spanned!(span=> { let (__k, __v) = #x; __o.#insert(__k, #v, #f); })
                            }
                        }
                    }
                    Write::RoundRobin(_) => {
                        let x = r.owned();
                        quote!(__o.push(#x);)
                    }
                    Write::Pairs => {
                        quote_spanned!(span=> { let (__k, __v) = #x; __o.push(__k, #v); })
                    }
                }
            }
            Sink::Partial(at) => match at.op.partial() {
                Merge::Count => quote!(__o += 1;),
                Merge::Reduce(i) => {
                    let op = at.node;
                    let f = self.func(op, i);
                    let x = r.owned();
                    let span = self.arg_span(op, i);
                    quote_spanned!(span=> #p::ops::reduce::fold(&mut __o, #x, #f);)
                }
            },
        }
    }
}
