//! Windows and keyed state: each node's slide, the state objects made before the job,
//! and the calls that step them every batch.

use super::Gen;
use super::stage::{exchanged, partial};
use crate::ops::Op;
use crate::plan::{Kind, NodeId};
use proc_macro2::{Ident, TokenStream};
use quote::{format_ident, quote, quote_spanned};

fn slide(n: NodeId) -> Ident {
    format_ident!("__sl{}", n)
}

fn spec(n: NodeId) -> Ident {
    format_ident!("__ws{}", n)
}

/// The state object of node `n`.
pub fn state(n: NodeId) -> Ident {
    format_ident!("__st{}", n)
}

impl Gen<'_> {
    /// Positions of the window length and slide among a window operator's arguments.
    fn window_args(&self, n: NodeId) -> Option<(usize, usize)> {
        crate::plan::window_args(self.plan.nodes[n].op()?)
    }

    /// `let __sl<n>`: how often node `n` produces output (checked against its inputs at
    /// definition, reported by `start()`).
    pub fn slide_setup(&mut self, n: NodeId) {
        let node = &self.plan.nodes[n];
        let sl = slide(n);
        let p = quote!(::rill::__private);
        let value = match node.kind {
            Kind::Source(_) => quote!(#p::batch_interval(__ctx)),
            Kind::Op(op) if crate::ops::spec(op).class == crate::ops::Class::Output => return,
            Kind::Op(op) => {
                let name = crate::ops::spec(op).name;
                let parent = slide(node.inputs[0]);
                if let Some((l, s)) = self.window_args(n) {
                    let len = self.value(n, l);
                    let every = if node.args.len() > s {
                        self.value(n, s)
                    } else {
                        quote!(#parent)
                    };
                    let ws = spec(n);
                    let span = node.span;
                    self.setup.push(quote_spanned!(span=>
                        let #ws = #p::window_spec(__ctx, #name, #len, #every, #parent);
                    ));
                    quote!(#ws.slide())
                } else if node.inputs.len() == 2 {
                    let other = slide(node.inputs[1]);
                    quote!(#p::same_slide(__ctx, #name, #parent, #other))
                } else {
                    quote!(#parent)
                }
            }
        };
        self.setup
            .push(quote!(#[allow(unused_variables)] let #sl: ::core::time::Duration = #value;));
    }

    /// `let mut __st<n>`: the state of a stateful node, made before the job.
    pub fn state_setup(&mut self, n: NodeId) {
        let node = &self.plan.nodes[n];
        if node.class() == Some(crate::ops::Class::Shuffle) && self.combines(n) {
            let hint = super::stage::capacity_hint(n);
            self.setup
                .push(quote!(let #hint = ::rill::__private::combine::CapacityHint::default();));
        }
        if !node.stateful() {
            return;
        }
        let ops = quote!(::rill::__private::ops);
        let parts = quote!(::rill::__private::partitions(__ctx));
        let ws = spec(n);
        let make = match node.op().expect("stateful nodes are operators") {
            Op::Window => quote!(#ops::window::Window::new(#ws)),
            Op::CountByWindow => quote!(#ops::count_by_window::CountByWindow::new(#ws)),
            Op::ReduceByWindow => quote!(#ops::reduce_by_window::ReduceByWindow::new(#ws)),
            Op::ReduceByKeyAndWindow => {
                quote!(#ops::reduce_by_key_and_window::ReduceByKeyAndWindow::new(#ws, #parts))
            }
            Op::ReduceByKeyAndWindowInv | Op::CountByValueAndWindow => {
                quote!(#ops::reduce_by_key_and_window_inv::InvWindow::new(#ws, #parts))
            }
            Op::UpdateStateByKey => {
                let initial = if node.args.len() > 1 {
                    self.value(n, 1)
                } else {
                    quote!(::std::vec::Vec::new())
                };
                quote!(#ops::update_state_by_key::UpdateStateByKey::new(#parts, #initial))
            }
            Op::MapWithState => {
                let spec = self.value(n, 0);
                quote!(#ops::map_with_state::MapWithState::new(#spec, #parts))
            }
            Op::SlidingByKey => {
                let w = self.value(n, 0);
                quote!(#ops::sliding_by_key::SlidingByKey::new(#w, #parts))
            }
            Op::RunningReduceByKey => {
                quote!(#ops::running_reduce_by_key::RunningReduceByKey::new(#parts))
            }
            Op::ForecastArima | Op::DetectAnomalies => {
                let spec = self.value(n, 0);
                quote!(#ops::forecast_arima::ArimaState::new(#spec, #ws, #parts))
            }
            other => unreachable!("{other:?} is not stateful"),
        };
        let st = state(n);
        let span = node.span;
        self.setup.push(quote_spanned!(span=> let mut #st = #make;));
    }

    /// The read side of a stateful shuffle: the state's step over the exchanged pairs.
    pub fn stateful_read(&mut self, op: NodeId) -> TokenStream {
        let node = &self.plan.nodes[op];
        let out = Self::var(op);
        let st = state(op);
        let x = exchanged(op, 0);
        let rt = quote!(::rill::__private::ops);
        let p = quote!(::rill::__private);
        let some = quote!(::core::option::Option::Some);
        let span = node.span;
        let kind = node.op().expect("stateful nodes are operators");
        if kind == Op::MapWithState {
            let snap = format_ident!("__snap{}", op);
            let wanted = self.plan.consumers[op]
                .iter()
                .any(|c| self.plan.nodes[*c].op() == Some(Op::StateSnapshots));
            return quote_spanned! {span=>
                #[allow(unused_variables)]
                let (#out, #snap) = match #x {
                    #some(__x0) => {
                        let (__m, __s) = #st.step(__b, __x0, #wanted)?;
                        (#some(__m), __s)
                    }
                    ::core::option::Option::None => (::core::option::Option::None, ::core::option::Option::None),
                };
            };
        }
        let call = match kind {
            Op::ReduceByKeyAndWindow => {
                let f = self.func(op, 0);
                quote_spanned!(span=> #st.step(__b, __x0, #f))
            }
            Op::ReduceByKeyAndWindowInv => {
                let (f, inv) = (self.func(op, 0), self.func(op, 1));
                if node.args.len() > 4 {
                    let h = self.func(op, 4);
                    quote_spanned!(span=> #st.step_with_filter(__b, __x0, #f, #inv, #h))
                } else {
                    quote_spanned!(span=> #st.step(__b, __x0, #f, #inv))
                }
            }
            Op::CountByValueAndWindow => quote_spanned!(span=> #st.step_with_filter(
                __b,
                __x0,
                #rt::count_by_value::add,
                #rt::count_by_value_and_window::sub,
                #rt::count_by_value_and_window::nonzero,
            )),
            Op::UpdateStateByKey => {
                let f = self.func(op, 0);
                let fspan = self.arg_span(op, 0);
                let adapter = match self.closure_arity(op, 0) {
                    Some(4) => {
                        quote_spanned!(fspan=> |__k, __vs, __s, __t| #p::call4(__t, __k, __vs, __s, #f))
                    }
                    Some(3) => {
                        quote_spanned!(fspan=> |__k, __vs, __s, _| #p::call3(__k, __vs, __s, #f))
                    }
                    _ => quote_spanned!(fspan=> |_, __vs, __s, _| #p::call_2(__vs, __s, #f)),
                };
                quote_spanned!(span=> #some(#st.step(__b, __x0, #adapter)))
            }
            Op::SlidingByKey => quote_spanned!(span=> #some(#st.step(__b, __x0))),
            Op::ForecastArima => quote_spanned!(span=> #st.forecast(__b, __x0)),
            Op::DetectAnomalies => quote_spanned!(span=> #some(#st.detect(__b, __x0))),
            Op::RunningReduceByKey => {
                let f = self.func(op, 0);
                quote_spanned!(span=> #some(#st.step(__b, __x0, #f)))
            }
            other => unreachable!("{other:?} has no stateful read side"),
        };
        quote! {
            let #out = '__step: {
                let #some(__x0) = #x else { break '__step ::core::option::Option::None; };
                #call
            };
        }
    }

    /// The body of a stateful driver step (windows over whole batches).
    pub fn stateful_driver(&mut self, n: NodeId) -> TokenStream {
        let node = &self.plan.nodes[n];
        let st = state(n);
        let a = format_ident!("__a");
        let span = node.span;
        match node.op().expect("stateful nodes are operators") {
            Op::Window => {
                let bind = self.bind(node.inputs[0], true, &a);
                quote_spanned!(span=> #bind #st.step(__b, #a))
            }
            Op::CountByWindow => {
                let pv = partial(n);
                quote_spanned!(span=> let ::core::option::Option::Some(#a) = #pv else { break '__step ::core::option::Option::None; }; #st.step(__b, #a))
            }
            Op::ReduceByWindow => {
                let pv = partial(n);
                let f = self.func(n, 0);
                quote_spanned!(span=> let ::core::option::Option::Some(#a) = #pv else { break '__step ::core::option::Option::None; }; #st.step(__b, #a, #f))
            }
            other => unreachable!("{other:?} is not a stateful driver step"),
        }
    }
}
