//! Code generation: the plan's steps as one job closure over typed, fused stage loops.
//!
//! The generated block registers the sources and a job with the context, then evaluates
//! to the handles of the `collect()` outputs. See `README.md` in this folder for the
//! shape of the code and why closures are placed where they are.

mod driver;
mod hygiene;
mod narrow;
mod stage;
mod state;

use crate::ops::{Arg, Class, Op, Source};
use crate::plan::{Kind, NodeId, Plan, Step, TailPlan};
use proc_macro2::{Span, TokenStream};
use quote::{format_ident, quote, quote_spanned};
use syn::spanned::Spanned;
use syn::{Expr, Ident};

/// How a record is held in a stage loop.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mode {
    /// The loop variable owns the record.
    Owned,
    /// The loop variable is a reference into a materialized partition.
    Ref,
}

/// A record in a stage loop: its variable and how it is held.
#[derive(Clone)]
pub struct Rec {
    /// The variable.
    pub var: Ident,
    /// How it is held.
    pub mode: Mode,
}

impl Rec {
    /// The record by value (cloned out of a partition in `Ref` mode).
    pub fn owned(&self) -> TokenStream {
        let v = &self.var;
        match self.mode {
            Mode::Owned => quote!(#v),
            Mode::Ref => quote!(::core::clone::Clone::clone(#v)),
        }
    }

    /// The record by reference.
    pub fn by_ref(&self) -> TokenStream {
        let v = &self.var;
        match self.mode {
            Mode::Owned => quote!(&#v),
            Mode::Ref => quote!(#v),
        }
    }
}

/// The generator's state for one pipeline.
pub struct Gen<'p> {
    /// The plan.
    pub plan: &'p Plan,
    setup: Vec<TokenStream>,
    fresh: usize,
    /// Unfused plans: the current stage's partition, which fixes the record type of the
    /// boxed operators made once per partition.
    witness: Option<TokenStream>,
    /// Unfused plans: the boxed operators of the current stage.
    prelude: Vec<TokenStream>,
    /// Unfused plans: the current stage's shuffle combines through a boxed reduce function.
    boxed_reduce: bool,
    /// The current stage's map-side combine keeps keys as they are (they can only
    /// borrow from the batch, never from a record made inside the loop).
    keys_as_is: bool,
    /// Nodes whose partitions some step moved (so they are not dropped at the end).
    moved: std::cell::RefCell<std::collections::HashSet<NodeId>>,
}

/// Generates the whole expansion of a planned pipeline.
pub fn generate(plan: &Plan, ctx: &Expr) -> TokenStream {
    let mut g = Gen {
        plan,
        setup: Vec::new(),
        fresh: 0,
        witness: None,
        prelude: Vec::new(),
        boxed_reduce: false,
        keys_as_is: false,
        moved: Default::default(),
    };
    g.hoist_arguments();
    // Sources are taken first; every other step runs in an inner block, so what borrows
    // from a source's batch is gone when the batch is handed to the janitor thread.
    let (sources, others): (Vec<&Step>, Vec<&Step>) = plan
        .steps
        .iter()
        .partition(|s| matches!(s, Step::Source(_)));
    let takes: Vec<TokenStream> = sources.iter().map(|s| g.step(s)).collect();
    let steps: Vec<TokenStream> = others.iter().map(|s| g.step(s)).collect();
    let drops: Vec<TokenStream> = sources
        .iter()
        .filter_map(|s| match s {
            Step::Source(n) if !g.moved.borrow().contains(n) => {
                let v = Gen::var(*n);
                Some(quote!(__b.defer_drop(#v);))
            }
            _ => None,
        })
        .collect();
    // Stateful operators restore from a recovered checkpoint when `start()` runs the job
    // once in restore-only mode, and save into the checkpoints the context writes.
    let (restores, saves): (Vec<TokenStream>, Vec<TokenStream>) = (0..plan.nodes.len())
        // A plain window keeps raw records, which may borrow (`&'static str`); it is not
        // checkpointed: after a recovery it refills from the recomputed batches.
        .filter(|n| {
            plan.nodes[*n].stateful() && plan.nodes[*n].op() != Some(crate::ops::Op::Window)
        })
        .map(|n| {
            let st = state::state(n);
            // The id names the operator, so a state that does not decode is reported
            // with the operator it belongs to.
            let id = format!("st{n}:{}", plan.nodes[n].op_name());
            (
                quote!(__b.restore(&mut #st, #id)?;),
                quote!(__b.save(&#st, #id)?;),
            )
        })
        .unzip();
    let setup = &g.setup;
    let explain = plan.explain();
    let canonical = plan.canonical();
    let semi = plan.tail.is_some().then(|| quote!(;));
    let tail = match &plan.tail {
        None => quote!(),
        Some(TailPlan::Single(o)) => g.output_value(*o),
        Some(TailPlan::Tuple(os)) => {
            let vals = os.iter().map(|o| g.output_value(*o));
            quote!((#(#vals,)*))
        }
    };
    let tokens = quote! {{
        let __ctx: &::rill::StreamingContext = &#ctx;
        #(#setup)*
        ::rill::__private::register_job(__ctx, #explain, #canonical, move |__b: &::rill::__private::Batch<'_>| -> ::rill::Result<()> {
            #[allow(unused_variables)]
            let __np: usize = __b.partitions();
            #(#restores)*
            if __b.restore_only() {
                return ::core::result::Result::Ok(());
            }
            #(#takes)*
            {
                #(#steps)*
            }
            #(#saves)*
            #(#drops)*
            ::core::result::Result::Ok(())
        })
        #semi
        #tail
    }};
    hygiene::internal_names_at_call_site(tokens)
}

impl Gen<'_> {
    /// A fresh identifier `__<prefix><n>`.
    pub fn fresh(&mut self, prefix: &str) -> Ident {
        self.fresh += 1;
        format_ident!("__{}{}", prefix, self.fresh)
    }

    /// The variable holding node `n`'s materialized partitions.
    pub fn var(n: NodeId) -> Ident {
        format_ident!("__s{}", n)
    }

    /// Node `m`'s `Option` of partitions for a consumer that needs them by value: moved
    /// when the consumer is the only one, else cloned.
    pub fn take(&self, m: NodeId) -> TokenStream {
        let v = Self::var(m);
        if self.plan.consumers[m].len() == 1 {
            self.moved.borrow_mut().insert(m);
            quote!(#v)
        } else {
            quote!(::core::clone::Clone::clone(&#v))
        }
    }

    /// Binds `name` to node `m`'s partitions (by value or by reference), or ends the
    /// enclosing `'__step` block with `None` when `m` has no output at this batch (a
    /// window between its slides).
    pub fn bind(&self, m: NodeId, by_value: bool, name: &Ident) -> TokenStream {
        let src = if by_value {
            self.take(m)
        } else {
            let v = Self::var(m);
            quote!(&#v)
        };
        quote!(let ::core::option::Option::Some(#name) = #src else { break '__step ::core::option::Option::None; };)
    }

    /// Whether node `m`'s partitions are shared `Arc`s (the output of `window`).
    pub fn shared_parts(&self, m: NodeId) -> bool {
        self.plan.nodes[m].op() == Some(Op::Window)
    }

    /// Evaluates non-closure arguments once, before the job: values, and functions given
    /// as paths or variables (a closure literal is placed where it is called, so its
    /// argument type is known there).
    fn hoist_arguments(&mut self) {
        for (n, node) in self.plan.nodes.iter().enumerate() {
            let specs: Vec<Arg> = match node.kind {
                Kind::Op(op) => crate::ops::spec(op)
                    .args
                    .iter()
                    .map(|(a, _)| *a)
                    .filter(|a| *a != Arg::Stream)
                    .collect(),
                Kind::Source(_) => continue,
            };
            for (i, (arg, kind)) in node.args.iter().zip(specs).enumerate() {
                if kind == Arg::Func && closure(arg).is_some() {
                    continue;
                }
                let h = hoisted(n, i);
                let mutability =
                    (kind == Arg::Func && node.op() == Some(Op::ForEachBatch)).then(|| quote!(mut));
                self.setup.push(
                    quote_spanned!(arg.span()=> #[allow(unused_mut)] let #mutability #h = #arg;),
                );
            }
        }
        for (n, node) in self.plan.nodes.iter().enumerate() {
            match node.kind {
                Kind::Source(s) => self.source(n, s),
                Kind::Op(op) if crate::ops::spec(op).class == Class::Output => {
                    self.output_setup(n, op)
                }
                Kind::Op(_) => {}
            }
            self.slide_setup(n);
            self.state_setup(n);
        }
    }

    fn source(&mut self, n: NodeId, s: Source) {
        let node = &self.plan.nodes[n];
        let handle = format_ident!("__src{}", n);
        let f = match s {
            Source::Queue => quote!(queue_stream),
            Source::SocketText => quote!(socket_text_stream),
            Source::SocketListen => quote!(socket_listen_stream),
            Source::TextFile => quote!(text_file_stream),
        };
        let args = &node.args;
        let span = node.span;
        self.setup
            .push(quote_spanned!(span=> let #handle = ::rill::__private::#f(__ctx, #(#args),*);));
    }

    /// Function argument `i` of node `n`: the closure literal (without `move`: the job
    /// owns what it captures and every call borrows from the job), or a reference to the
    /// hoisted function.
    pub fn func(&self, n: NodeId, i: usize) -> TokenStream {
        let arg = &self.plan.nodes[n].args[i];
        match closure(arg) {
            Some(c) => {
                let mut c = c.clone();
                c.capture = None;
                quote!(#c)
            }
            None => {
                let h = hoisted(n, i);
                if self.plan.nodes[n].op() == Some(Op::ForEachBatch) {
                    quote_spanned!(arg.span()=> &mut #h)
                } else {
                    quote_spanned!(arg.span()=> &#h)
                }
            }
        }
    }

    /// The number of inputs of a closure literal argument, if it is one.
    pub fn closure_arity(&self, n: NodeId, i: usize) -> Option<usize> {
        closure(&self.plan.nodes[n].args[i]).map(|c| c.inputs.len())
    }

    /// The span of argument `i` of node `n`.
    pub fn arg_span(&self, n: NodeId, i: usize) -> Span {
        self.plan.nodes[n].args[i].span()
    }

    /// Value argument `i` of node `n` (hoisted before the job).
    pub fn value(&self, n: NodeId, i: usize) -> TokenStream {
        let h = hoisted(n, i);
        quote!(#h)
    }

    fn step(&mut self, s: &Step) -> TokenStream {
        match s {
            Step::Source(n) => {
                let v = Self::var(*n);
                let handle = format_ident!("__src{}", n);
                quote!(let #v = ::core::option::Option::Some(#handle.take(__b));)
            }
            Step::Stage(st) => self.stage(st),
            Step::Exchange(op, side) => {
                let w = stage::written(*op, *side);
                let x = stage::exchanged(*op, *side);
                let n = self.shuffle_partitions(*op);
                quote!(let #x = #w.map(|__w| ::rill::__private::ops::shuffle::exchange(__w, #n));)
            }
            Step::Driver(n) => self.driver(*n),
            Step::Output(o) => self.output(*o),
        }
    }

    /// The number of partitions a shuffle writes.
    pub fn shuffle_partitions(&self, op: NodeId) -> TokenStream {
        if self.plan.nodes[op].op() == Some(Op::Repartition) {
            let v = self.value(op, 0);
            quote!(::core::cmp::max(#v, 1usize))
        } else {
            quote!(__np)
        }
    }
}

fn hoisted(n: NodeId, i: usize) -> Ident {
    format_ident!("__h{}_{}", n, i)
}

fn closure(e: &Expr) -> Option<&syn::ExprClosure> {
    match e {
        Expr::Closure(c) => Some(c),
        Expr::Paren(p) => closure(&p.expr),
        Expr::Group(g) => closure(&g.expr),
        _ => None,
    }
}
