//! A fused stage: a parallel loop over partitions, the narrow chain per record, a sink.
//!
//! Every stage's result is an `Option`: `None` when its input has no output at this
//! batch (a window between slides), so everything downstream skips the batch too.

use super::{Gen, Mode, Rec};
use crate::ops::Op;
use crate::plan::{Input, NodeId, Sink, Stage};
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
    /// How a stage reads a materialized input: by reference when the input is shared,
    /// a window's shared partitions, or a `flat_map` may borrow from it; else by value,
    /// so `map` moves records.
    fn input_mode(&self, st: &Stage) -> Mode {
        let Input::Materialized(m) = st.input else {
            return Mode::Owned;
        };
        if self.plan.consumers[m].len() > 1 || self.shared_parts(m) {
            return Mode::Ref;
        }
        for n in &st.chain {
            match self.plan.nodes[*n].op() {
                Some(Op::Filter) => continue,
                Some(Op::FlatMap) => return Mode::Ref,
                _ => return Mode::Owned,
            }
        }
        Mode::Owned
    }

    /// Whether every key reaching the sink lives as long as the batch: it can borrow only
    /// from a materialized partition (a `flat_map` reading the partition by reference),
    /// never from a record made inside the loop. Then a map-side combine keeps keys as
    /// they are, and the reduce side makes each key owned once.
    fn keys_outlive_the_loop(&self, st: &Stage, mode: Mode) -> bool {
        let mut from_partition = matches!(st.input, Input::Materialized(_)) && mode == Mode::Ref;
        for n in &st.chain {
            match self.plan.nodes[*n].op() {
                Some(Op::Filter) => {}
                Some(Op::FlatMap) if !from_partition => return false,
                _ => from_partition = false,
            }
        }
        true
    }

    /// The code of one stage.
    pub fn stage(&mut self, st: &Stage) -> TokenStream {
        let out = match st.sink {
            Sink::Materialize(n) => Self::var(n),
            Sink::ShuffleWrite(op, side) => written(op, side),
            Sink::Partial(op) => partial(op),
        };
        if let (Input::ShuffleRead(op), true, Sink::Materialize(_)) =
            (st.input, st.chain.is_empty(), st.sink)
        {
            return self.read_into_materialized(op);
        }
        let (init, finish) = self.sink_init(st.sink);
        let rec = self.fresh("r");
        let mode = self.input_mode(st);
        // Unfused plans call operators through boxes made once per partition.
        self.witness = match (self.plan.fused, st.input, mode) {
            (false, Input::Materialized(_), Mode::Owned) => Some(quote!(&__part)),
            (false, Input::Materialized(_), Mode::Ref) => Some(quote!(__part)),
            _ => None,
        };
        self.boxed_reduce = false;
        if let (Some(w), Sink::ShuffleWrite(op, _), true) =
            (&self.witness, st.sink, st.chain.is_empty())
        {
            let kind = self.plan.nodes[op].op();
            if self.combines(op)
                && !matches!(kind, Some(Op::CountByValue | Op::CountByValueAndWindow))
            {
                let f = self.func(op, 0);
                self.prelude
                    .push(quote!(let __rf = ::rill::__private::interp::reduce_values(#w, #f);));
                self.boxed_reduce = true;
            }
        }
        self.keys_as_is = self.keys_outlive_the_loop(st, mode);
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
                let indexed = matches!(st.sink, Sink::ShuffleWrite(op, _) if self.plan.nodes[op].op() == Some(Op::Repartition));
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
            Input::ShuffleRead(op) => {
                let (params, records) = self.shuffle_read(op);
                let inner = quote! {{
                    #init
                    for #rec in #records { #body }
                    #finish
                }};
                let (binds, run) = self.run_over_shuffle(op, params, inner);
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

    /// The closure parameters and the record iterable of a (stateless) shuffle's read side.
    fn shuffle_read(&mut self, op: NodeId) -> (TokenStream, TokenStream) {
        let rt = quote!(::rill::__private::ops);
        let one = quote!(__in);
        let two = quote!(__in, __in2);
        match self.plan.nodes[op].op().expect("a shuffle is an operator") {
            Op::ReduceByKey => {
                let f = self.func(op, 0);
                let span = self.arg_span(op, 0);
                // An error in the partition's type (a key that is not a `Key`) points at
                // the argument; `identity` makes that a call at the user's closure rather
                // than the name `__in`, which resolves at the call site (hygiene.rs).
                (
                    one,
                    quote_spanned!(span=> #rt::reduce_by_key::reduce_side(::core::convert::identity(__in), #f)),
                )
            }
            Op::CountByValue => (
                one,
                quote!(#rt::reduce_by_key::reduce_side(__in, #rt::count_by_value::add)),
            ),
            Op::GroupByKey => (one, quote!(#rt::group_by_key::group_side(__in))),
            Op::Repartition => (one, quote!(#rt::repartition::read_side(__in))),
            Op::Join => (two, quote!(#rt::join::inner(__in, __in2))),
            Op::LeftOuterJoin => (two, quote!(#rt::join::left_outer(__in, __in2))),
            Op::RightOuterJoin => (two, quote!(#rt::join::right_outer(__in, __in2))),
            Op::FullOuterJoin => (two, quote!(#rt::join::full_outer(__in, __in2))),
            Op::Cogroup => (two, quote!(#rt::cogroup::cogroup_side(__in, __in2))),
            other => unreachable!("{other:?} has no stateless read side"),
        }
    }

    /// A shuffle read straight into the node's materialization: no loop, and for a
    /// stateful operator the state's own step.
    fn read_into_materialized(&mut self, op: NodeId) -> TokenStream {
        if self.plan.nodes[op].stateful() {
            return self.stateful_read(op);
        }
        let out = Self::var(op);
        let (params, records) = self.shuffle_read(op);
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
            Sink::ShuffleWrite(op, _) => {
                if self.combines(op) {
                    let hint = capacity_hint(op);
                    (
                        quote!(let mut __o = #p::combine::Combiner::partitioned(__np, &#hint);),
                        quote!(__o.into_buckets(&#hint)),
                    )
                } else if self.plan.nodes[op].op() == Some(Op::Repartition) {
                    let n = self.shuffle_partitions(op);
                    (
                        quote!(let mut __o = #p::ops::repartition::RoundRobin::new(#n, __pi);),
                        quote!(__o.finish()),
                    )
                } else {
                    (
                        quote!(let mut __o = #p::combine::Buckets::new(__np);),
                        quote!(__o.finish()),
                    )
                }
            }
            Sink::Partial(op) => {
                if self.counts(op) {
                    (quote!(let mut __o: u64 = 0;), quote!(__o))
                } else {
                    (
                        quote!(let mut __o = ::core::option::Option::None;),
                        quote!(__o),
                    )
                }
            }
        }
    }

    /// Whether shuffle `op` combines values on the map side (with its reduce function,
    /// or by counting).
    pub fn combines(&self, op: NodeId) -> bool {
        matches!(
            self.plan.nodes[op].op(),
            Some(
                Op::ReduceByKey
                    | Op::CountByValue
                    | Op::ReduceByKeyAndWindow
                    | Op::ReduceByKeyAndWindowInv
                    | Op::CountByValueAndWindow
                    | Op::RunningReduceByKey
            )
        )
    }

    /// Whether global node `op` counts records (rather than reducing them).
    fn counts(&self, op: NodeId) -> bool {
        matches!(
            self.plan.nodes[op].op(),
            Some(Op::Count | Op::CountByWindow)
        )
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
                let kind = node.op().expect("a shuffle is an operator");
                let insert = Ident::new(
                    if self.keys_as_is {
                        "insert_as_is"
                    } else {
                        "insert"
                    },
                    span,
                );
                if matches!(kind, Op::CountByValue | Op::CountByValueAndWindow) {
                    quote_spanned!(span=> __o.#insert(#x, #p::ops::count_by_value::one(), #p::ops::count_by_value::add);)
                } else if self.combines(op) {
                    let f = if self.boxed_reduce {
                        quote!(&*__rf)
                    } else {
                        self.func(op, 0)
                    };
                    quote_spanned!(span=> { let (__k, __v) = #x; __o.#insert(__k, #v, #f); })
                } else if kind == Op::Repartition {
                    let x = r.owned();
                    quote!(__o.push(#x);)
                } else {
                    quote_spanned!(span=> { let (__k, __v) = #x; __o.push(__k, #v); })
                }
            }
            Sink::Partial(op) => {
                if self.counts(op) {
                    quote!(__o += 1;)
                } else {
                    let f = self.func(op, 0);
                    let x = r.owned();
                    let span = self.arg_span(op, 0);
                    quote_spanned!(span=> #p::ops::reduce::fold(&mut __o, #x, #f);)
                }
            }
        }
    }
}
