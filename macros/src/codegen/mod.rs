//! Code generation: the plan's steps as one job closure over typed, fused stage loops.
//!
//! The generated block registers the sources and a job with the context, then evaluates
//! to the handles of the `collect()` outputs. See `README.md` in this folder for the
//! shape of the code and why closures are placed where they are.

mod hygiene;
mod narrow;
mod stage;
mod state;

pub use crate::plan::Mode;
pub use narrow::Rest;
pub use stage::{exchanged, partial};
pub use state::{state, window_spec};

use crate::ops::{Arg, Role};
use crate::plan::{Kind, NodeId, Partitions, Plan, Step, TailPlan};
use proc_macro2::{Span, TokenStream};
use quote::{format_ident, quote, quote_spanned};
use syn::spanned::Spanned;
use syn::{Expr, Ident};

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
    /// Restoring the checkpointed states, in node order.
    restores: Vec<TokenStream>,
    /// Saving the checkpointed states, in node order.
    saves: Vec<TokenStream>,
    fresh: usize,
    /// Unfused plans: the current stage's partition, which fixes the record type of the
    /// boxed operators made once per partition.
    witness: Option<TokenStream>,
    /// Unfused plans: the boxed operators of the current stage.
    prelude: Vec<TokenStream>,
    /// Nodes whose partitions some step moved (so they are not dropped at the end).
    moved: std::cell::RefCell<std::collections::HashSet<NodeId>>,
}

/// Generates the whole expansion of a planned pipeline.
pub fn generate(plan: &Plan, ctx: &Expr) -> TokenStream {
    let mut g = Gen {
        plan,
        setup: Vec::new(),
        fresh: 0,
        restores: Vec::new(),
        saves: Vec::new(),
        witness: None,
        prelude: Vec::new(),
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
    let (restores, saves) = (&g.restores, &g.saves);
    let setup = &g.setup;
    let explain = plan.explain();
    let canonical = plan.canonical();
    let graph = plan.graph();
    let semi = plan.tail.is_some().then(|| quote!(;));
    let tail = match &plan.tail {
        None => quote!(),
        Some(TailPlan::Single(o)) => o.op.value(o.node),
        Some(TailPlan::Tuple(os)) => {
            let vals = os.iter().map(|o| o.op.value(o.node));
            quote!((#(#vals,)*))
        }
    };
    let tokens = quote! {{
        let __ctx: &::rill::StreamingContext = &#ctx;
        #(#setup)*
        ::rill::__private::register_planned_job(__ctx, #explain, #canonical, #graph, move |__b: &::rill::__private::Batch<'_>| -> ::rill::Result<()> {
            #[allow(unused_variables)]
            let __np: usize = __b.partitions();
            // What other processes of a cluster sent; records may borrow from it.
            #[allow(unused_variables)]
            let __arena = ::rill::__private::Arena::new();
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

    /// Binds every input of node `n` by value, as `__a0`, `__a1`, ... in input order: the
    /// bindings (see [`bind`](Self::bind)) and the names, for a driver step.
    pub fn bind_inputs(&self, n: NodeId) -> (TokenStream, Vec<Ident>) {
        let inputs = &self.plan.nodes[n].inputs;
        let names: Vec<Ident> = (0..inputs.len())
            .map(|i| format_ident!("__a{}", i))
            .collect();
        let binds = inputs
            .iter()
            .zip(&names)
            .map(|(m, a)| self.bind(*m, true, a));
        (quote!(#(#binds)*), names)
    }

    /// Evaluates non-closure arguments once, before the job: values, and functions given
    /// as paths or variables (a closure literal is placed where it is called, so its
    /// argument type is known there).
    fn hoist_arguments(&mut self) {
        for (n, node) in self.plan.nodes.iter().enumerate() {
            let Some(def) = node.def() else {
                continue;
            };
            for (i, (arg, kind)) in node.args.iter().zip(def.value_args()).enumerate() {
                if kind.is_func() && closure(arg).is_some() {
                    continue;
                }
                let h = hoisted(n, i);
                let mutability = (kind == Arg::FuncMut).then(|| quote!(mut));
                self.setup.push(
                    quote_spanned!(arg.span()=> #[allow(unused_mut)] let #mutability #h = #arg;),
                );
            }
        }
        for (n, node) in self.plan.nodes.iter().enumerate() {
            match (node.kind, node.role()) {
                (Kind::Source, _) => self.source(n),
                (Kind::Op(_), Some(Role::Output(o))) => {
                    if let Some(setup) = o.setup(self, n) {
                        self.setup.push(setup);
                    }
                }
                (Kind::Op(_), _) => {}
            }
            self.slide_setup(n);
            self.state_setup(n);
        }
    }

    /// A source: the value `rill::source::<name>(args)` returns, registered with the
    /// context. The macro knows no source by name: the function is the user's word.
    fn source(&mut self, n: NodeId) {
        let node = &self.plan.nodes[n];
        let handle = format_ident!("__src{}", n);
        let Some((f, paren)) = &node.source else {
            return;
        };
        let args = &node.args;
        let mut call =
            proc_macro2::Group::new(proc_macro2::Delimiter::Parenthesis, quote!(#(#args),*));
        call.set_span(*paren);
        let span = node.span;
        // The value's type picks its record type: a socket source's preferred `Line`,
        // else the one `Source` it implements (`rill_runtime::private::pick`); its tag
        // lets a `collect()` of the source's lines keep `String`s.
        let tag = source_tag(n);
        self.setup
            .push(quote_spanned!(span=> let (#handle, #tag) = {
            let __srcv = ::rill::source::#f #call;
            let __srctag = ::rill::__private::pick::Tag::of(&__srcv);
            #[allow(unused_imports)]
            use ::rill::__private::pick::{AnySource as _, PreferredSource as _};
            ((&&__srctag).rill_source_kind().register(__ctx, __srcv), __srctag)
        };));
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
                let kind = self.plan.nodes[n].def().and_then(|d| d.value_args().nth(i));
                if kind == Some(Arg::FuncMut) {
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
                quote!(let #v = ::core::option::Option::Some(#handle.try_take(__b)?);)
            }
            Step::Stage(st) => {
                let code = self.stage(st);
                timed(st.number, code)
            }
            Step::State(number, at) => {
                let code = at.op.read(self, at.node);
                timed(*number, code)
            }
            Step::Exchange(op, side, partitions) => {
                let w = stage::written(*op, *side);
                let x = stage::exchanged(*op, *side);
                let n = self.partitions(*op, *partitions);
                quote!(let #x = match #w {
                    ::core::option::Option::Some(__w) => ::core::option::Option::Some(__b.exchange(__w, #n, &__arena)?),
                    ::core::option::Option::None => ::core::option::Option::None,
                };)
            }
            Step::Driver(at) => {
                let body = at.op.driver(self, at.node);
                self.driver_step(at.node, body)
            }
            // Every partition's partial result, from every process of a cluster.
            Step::Merge(at) => {
                let pv = stage::partial(at.node);
                let gathered = self.gathered(quote!(#pv));
                let body = at.op.merge(self, at.node);
                let step = self.driver_step(at.node, body);
                quote!(let #pv = #gathered; #step)
            }
            // Not in a batch that recovery recomputes only to rebuild state (its outputs
            // completed before a crash).
            Step::Output(at) => {
                let body = at.op.run(self, at.node);
                quote!(if __b.runs_outputs() { #body })
            }
        }
    }

    /// A driver step binding node `n`'s partitions (an `Option`, like every stream) to
    /// what `body` evaluates to; `body` may end early with `break '__step None`.
    /// In a cluster every process computes a driver step on the whole batch; each then
    /// keeps the partitions it owns.
    fn driver_step(&self, n: NodeId, body: TokenStream) -> TokenStream {
        let out = Self::var(n);
        quote!(
            let #out = '__step: { #body };
            let #out = #out.map(|__o| __b.keep_owned(__o));
        )
    }

    /// `parts` (an `Option` of partitions or partial results) with every partition's
    /// entry, gathered from every process of a cluster (the identity in a local run).
    pub fn gathered(&self, parts: TokenStream) -> TokenStream {
        quote!(match #parts {
            ::core::option::Option::Some(__g) => ::core::option::Option::Some(__b.gather(__g, &__arena)?),
            ::core::option::Option::None => ::core::option::Option::None,
        })
    }

    /// The records of a step that needs the whole batch (partitions, gathered from every
    /// process of a cluster), in partition order.
    pub fn whole(&self, parts: TokenStream) -> TokenStream {
        quote!(::rill::__private::concat_parts(__b.gather(#parts, &__arena)?))
    }

    /// The partitions output `o` writes: its input's, gathered from every process of a
    /// cluster; `None` when the stream has no output at this batch. Only the processes
    /// that write outputs (see `Batch::writes_outputs`) run what uses them.
    pub fn output_records(&self, o: NodeId) -> TokenStream {
        let records = self.take(self.plan.nodes[o].inputs[0]);
        quote!(match #records {
            ::core::option::Option::Some(__g) => {
                let __g = __b.gather_for_outputs(__g, &__arena)?;
                __b.writes_outputs().then_some(__g)
            }
            ::core::option::Option::None => ::core::option::Option::None,
        })
    }

    /// The number of partitions shuffle `op` writes.
    pub fn partitions(&self, op: NodeId, partitions: Partitions) -> TokenStream {
        match partitions {
            Partitions::Context => quote!(__np),
            Partitions::Value(i) => {
                let v = self.value(op, i);
                quote!(::core::cmp::max(#v, 1usize))
            }
        }
    }

    /// The keyed state's read side of node `n`, binding its output to `step` (an
    /// `Option` of it) over the exchanged records `__x0`, or to `None` without them.
    pub fn keyed_state_read(&self, n: NodeId, step: TokenStream) -> TokenStream {
        let out = Self::var(n);
        let x = exchanged(n, 0);
        quote! {
            let #out = '__step: {
                let ::core::option::Option::Some(__x0) = #x else { break '__step ::core::option::Option::None; };
                #step
            };
        }
    }
}

/// The tag of source node `n`'s value type (`rill_runtime::private::pick::Tag`).
pub fn source_tag(n: NodeId) -> Ident {
    format_ident!("__srctag{}", n)
}

/// The handle of output `o` (what `collect()` gives back, a file writer).
pub fn out_handle(o: NodeId) -> Ident {
    format_ident!("__out{}", o)
}

/// The number of partitions of the context, for state made before the job.
pub fn context_partitions() -> TokenStream {
    quote!(::rill::__private::partitions(__ctx))
}

/// A stage's code between the two calls that time it for the batch's metrics (stage
/// `number` of the pipeline): two clock reads per stage and batch.
fn timed(number: usize, code: TokenStream) -> TokenStream {
    let number = proc_macro2::Literal::usize_unsuffixed(number);
    quote! {
        let __stage_start = __b.stage_start();
        #code
        __b.stage_done(#number, __stage_start);
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
