//! A fused stage: a parallel loop over partitions, the narrow chain per record, a sink.

use super::{Gen, Mode, Rec};
use crate::ops::Op;
use crate::plan::{Input, NodeId, Sink, Stage};
use proc_macro2::TokenStream;
use quote::{format_ident, quote, quote_spanned};

/// The variable holding what a stage wrote for side `side` of shuffle `op`.
pub fn written(op: NodeId, side: usize) -> proc_macro2::Ident {
    format_ident!("__w{}_{}", op, side)
}

/// The variable holding the exchanged buckets for side `side` of shuffle `op`.
pub fn exchanged(op: NodeId, side: usize) -> proc_macro2::Ident {
    format_ident!("__x{}_{}", op, side)
}

fn partial(op: NodeId) -> proc_macro2::Ident {
    format_ident!("__p{}", op)
}

impl Gen<'_> {
    /// How a stage reads a materialized input: by reference when the input is shared or
    /// a `flat_map` may borrow from it; else by value, so `map` moves records.
    fn input_mode(&self, st: &Stage) -> Mode {
        let Input::Materialized(m) = st.input else {
            return Mode::Owned;
        };
        if self.plan.consumers[m].len() > 1 {
            return Mode::Ref;
        }
        for n in &st.chain {
            match self.plan.nodes[*n].op() {
                Some(Op::Filter) => continue,
                Some(Op::FlatMap | Op::FlatMapValues) => return Mode::Ref,
                _ => return Mode::Owned,
            }
        }
        Mode::Owned
    }

    /// The code of one stage.
    pub fn stage(&mut self, st: &Stage) -> TokenStream {
        let out = match st.sink {
            Sink::Materialize(n) => Self::var(n),
            Sink::ShuffleWrite(op, side) => written(op, side),
            Sink::Partial(op) => partial(op),
        };
        // A shuffle read straight into its materialization needs no loop.
        if let (Input::ShuffleRead(op), true, Sink::Materialize(_)) =
            (st.input, st.chain.is_empty(), st.sink)
        {
            let (params, records) = self.shuffle_read(op);
            let run = self.run_over_shuffle(op, params, records);
            return quote!(let #out = #run;);
        }
        let (init, finish) = self.sink_init(st.sink);
        let rec = self.fresh("r");
        let mode = match st.input {
            Input::Materialized(_) => self.input_mode(st),
            Input::ShuffleRead(_) => Mode::Owned,
        };
        let body = self.chain(
            &st.chain,
            Rec {
                var: rec.clone(),
                mode,
            },
            st.sink,
        );
        match st.input {
            Input::Materialized(m) => {
                let v = Self::var(m);
                let sole = self.plan.consumers[m].len() == 1;
                let indexed = matches!(st.sink, Sink::ShuffleWrite(op, _) if self.plan.nodes[op].op() == Some(Op::Repartition));
                let (method, arg, params, iter) = match (mode, sole, indexed) {
                    // Round-robin needs the partition's index to spread small partitions.
                    (Mode::Owned, true, true) => (
                        quote!(map_owned),
                        quote!(#v.into_iter().enumerate().collect::<::std::vec::Vec<_>>()),
                        quote!((__pi, __part)),
                        quote!(__part),
                    ),
                    (_, _, true) => (
                        quote!(map_owned),
                        quote!(#v.iter().enumerate().collect::<::std::vec::Vec<_>>()),
                        quote!((__pi, __part)),
                        quote!(__part.iter()),
                    ),
                    (Mode::Owned, true, false) => (
                        quote!(map_owned),
                        quote!(#v),
                        quote!(__part),
                        quote!(__part),
                    ),
                    (Mode::Owned, false, false) => (
                        quote!(map_ref),
                        quote!(&#v),
                        quote!(__part),
                        quote!(__part.iter().cloned()),
                    ),
                    (Mode::Ref, _, false) => (
                        quote!(map_ref),
                        quote!(&#v),
                        quote!(__part),
                        quote!(__part.iter()),
                    ),
                };
                quote! {
                    let #out = __b.#method(#arg, |#params| {
                        #init
                        for #rec in #iter { #body }
                        #finish
                    });
                }
            }
            Input::ShuffleRead(op) => {
                let (params, records) = self.shuffle_read(op);
                let inner = quote! {{
                    #init
                    for #rec in #records { #body }
                    #finish
                }};
                let run = self.run_over_shuffle(op, params, inner);
                quote!(let #out = #run;)
            }
        }
    }

    /// Runs `body` over the exchanged partitions of shuffle `op`, with `params` bound.
    fn run_over_shuffle(&self, op: NodeId, params: TokenStream, body: TokenStream) -> TokenStream {
        let x0 = exchanged(op, 0);
        if self.plan.nodes[op].inputs.len() == 2 {
            let x1 = exchanged(op, 1);
            quote!(__b.map_zip(#x0, #x1, |#params| #body))
        } else {
            quote!(__b.map_owned(#x0, |#params| #body))
        }
    }

    /// The closure parameters and the record iterable of a shuffle's read side.
    fn shuffle_read(&mut self, op: NodeId) -> (TokenStream, TokenStream) {
        let rt = quote!(::rill::__private::ops);
        let one = quote!(__in);
        let two = quote!((__in, __in2));
        match self.plan.nodes[op].op().expect("a shuffle is an operator") {
            Op::ReduceByKey => {
                let f = self.func(op, 0);
                let span = self.arg_span(op, 0);
                (
                    one,
                    quote_spanned!(span=> #rt::reduce_by_key::reduce_side(__in, #f)),
                )
            }
            Op::CountByValue => (
                one,
                quote!(#rt::reduce_by_key::reduce_side(__in, #rt::count_by_value::add)),
            ),
            Op::GroupByKey => (one, quote!(#rt::group_by_key::group_side(__in))),
            Op::Repartition => (one, quote!(#rt::repartition::read_side(__in))),
            Op::Join => (quote!(__in, __in2), quote!(#rt::join::inner(__in, __in2))),
            Op::LeftOuterJoin => (
                quote!(__in, __in2),
                quote!(#rt::join::left_outer(__in, __in2)),
            ),
            Op::RightOuterJoin => (
                quote!(__in, __in2),
                quote!(#rt::join::right_outer(__in, __in2)),
            ),
            Op::FullOuterJoin => (
                quote!(__in, __in2),
                quote!(#rt::join::full_outer(__in, __in2)),
            ),
            Op::Cogroup => (
                quote!(__in, __in2),
                quote!(#rt::cogroup::cogroup_side(__in, __in2)),
            ),
            other => {
                let _ = two;
                unreachable!("{other:?} is not a shuffle")
            }
        }
    }

    /// The sink's per-partition set-up and result.
    fn sink_init(&self, sink: Sink) -> (TokenStream, TokenStream) {
        let p = quote!(::rill::__private);
        match sink {
            Sink::Materialize(_) => (quote!(let mut __o = ::std::vec::Vec::new();), quote!(__o)),
            Sink::ShuffleWrite(op, _) => {
                match self.plan.nodes[op].op().expect("a shuffle is an operator") {
                    Op::ReduceByKey | Op::CountByValue => (
                        quote!(let mut __o = #p::combine::Combiner::new();),
                        quote!(__o.into_buckets(__np)),
                    ),
                    Op::Repartition => {
                        let n = self.shuffle_partitions(op);
                        (
                            quote!(let mut __o = #p::ops::repartition::RoundRobin::new(#n, __pi);),
                            quote!(__o.finish()),
                        )
                    }
                    _ => (
                        quote!(let mut __o = #p::combine::Buckets::new(__np);),
                        quote!(__o.finish()),
                    ),
                }
            }
            Sink::Partial(op) => match self.plan.nodes[op].op() {
                Some(Op::Count) => (quote!(let mut __o: u64 = 0;), quote!(__o)),
                _ => (
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
            Sink::ShuffleWrite(op, _) => {
                let node = &self.plan.nodes[op];
                let span = node.span;
                let x = &r.var;
                let v = match r.mode {
                    Mode::Owned => quote!(__v),
                    Mode::Ref => quote!(::core::clone::Clone::clone(__v)),
                };
                match node.op().expect("a shuffle is an operator") {
                    Op::ReduceByKey => {
                        let f = self.func(op, 0);
                        quote_spanned!(span=> { let (__k, __v) = #x; __o.insert(__k, #v, #f); })
                    }
                    Op::CountByValue => {
                        quote_spanned!(span=> __o.insert(#x, #p::ops::count_by_value::one(), #p::ops::count_by_value::add);)
                    }
                    Op::Repartition => {
                        let x = r.owned();
                        quote!(__o.push(#x);)
                    }
                    _ => quote_spanned!(span=> { let (__k, __v) = #x; __o.push(__k, #v); }),
                }
            }
            Sink::Partial(op) => match self.plan.nodes[op].op() {
                Some(Op::Count) => quote!(__o += 1;),
                _ => {
                    let f = self.func(op, 0);
                    let x = r.owned();
                    let span = self.arg_span(op, 0);
                    quote_spanned!(span=> #p::ops::reduce::fold(&mut __o, #x, #f);)
                }
            },
        }
    }
}
