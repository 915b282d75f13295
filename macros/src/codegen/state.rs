//! Windows and state: each node's slide, the state objects made before the job and
//! their checkpointing. Each operator's own state and its step are in its module under
//! `ops/`.

use super::Gen;
use crate::ops::{Class, Kept, MapSide, Role};
use crate::plan::{Kind, NodeId};
use proc_macro2::Ident;
use quote::{format_ident, quote, quote_spanned};

fn slide(n: NodeId) -> Ident {
    format_ident!("__sl{}", n)
}

/// The window spec of node `n` (its length and slide, checked at definition).
pub fn window_spec(n: NodeId) -> Ident {
    format_ident!("__ws{}", n)
}

/// The state object of node `n`.
pub fn state(n: NodeId) -> Ident {
    format_ident!("__st{}", n)
}

impl Gen<'_> {
    /// `let __sl<n>`: how often node `n` produces output (checked against its inputs at
    /// definition, reported by `start()`).
    pub fn slide_setup(&mut self, n: NodeId) {
        let node = &self.plan.nodes[n];
        let sl = slide(n);
        let p = quote!(::rill::__private);
        let value = match node.kind {
            Kind::Source => quote!(#p::batch_interval(__ctx)),
            Kind::Op(op) if op.def().class() == Class::Output => return,
            Kind::Op(op) => {
                let name = op.def().name;
                let parent = slide(node.inputs[0]);
                if let Some((l, s)) = op.def().window {
                    let len = self.value(n, l);
                    let every = if node.args.len() > s {
                        self.value(n, s)
                    } else {
                        quote!(#parent)
                    };
                    let ws = window_spec(n);
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

    /// The capacity hint of a combining shuffle's tables, and `let mut __st<n>`: the
    /// state of a stateful node, made before the job, with its restore and save.
    pub fn state_setup(&mut self, n: NodeId) {
        let node = &self.plan.nodes[n];
        let Some(role) = node.role() else {
            return;
        };
        let (map_side, kept): (Option<MapSide>, Option<Kept>) = match role {
            Role::Shuffle(s) => (Some(s.map_side()), None),
            Role::KeyedState(k) => (Some(k.map_side()), Some(k.state(self, n))),
            Role::Global(g) => (None, g.state(self, n)),
            Role::Batch(b) => (None, b.state(self, n)),
            Role::Narrow(_) | Role::Output(_) => (None, None),
        };
        if let Some(MapSide::Combine(_)) = map_side {
            let hint = super::stage::capacity_hint(n);
            self.setup
                .push(quote!(let #hint = ::rill::__private::combine::CapacityHint::default();));
        }
        let Some(kept) = kept else {
            return;
        };
        let st = state(n);
        let span = node.span;
        let make = kept.make;
        self.setup.push(quote_spanned!(span=> let mut #st = #make;));
        if kept.checkpointed {
            // The id names the operator, so a state that does not decode is reported
            // with the operator it belongs to.
            let id = format!("st{n}:{}", node.op_name());
            self.restores.push(quote!(__b.restore(&mut #st, #id)?;));
            self.saves.push(quote!(__b.save(&#st, #id)?;));
        }
    }
}
