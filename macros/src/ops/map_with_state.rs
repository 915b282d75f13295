//! `map_with_state(spec)`: each record mapped by the spec's function with its key's
//! state; the states after a batch are what `state_snapshots()` reads.

use super::{Arg, Kept, KeyedState, Op, OpDef, Role};
use crate::codegen::{Gen, context_partitions, exchanged, state};
use crate::plan::NodeId;
use proc_macro2::TokenStream;
use quote::{format_ident, quote, quote_spanned};

pub static DEF: OpDef = OpDef::new(
    "map_with_state",
    &[(Arg::Value, "a StateSpec")],
    Role::KeyedState(&MapWithState),
);

struct MapWithState;

impl KeyedState for MapWithState {
    fn state(&self, g: &Gen, n: NodeId) -> Kept {
        let ops = quote!(::rill::__private::ops);
        let (spec, parts) = (g.value(n, 0), context_partitions());
        Kept::checkpointed(quote!(#ops::map_with_state::MapWithState::new(#spec, #parts)))
    }

    /// Binds the mapped records and the snapshots, made only when a
    /// `state_snapshots()` reads them.
    fn read(&self, g: &mut Gen, n: NodeId) -> TokenStream {
        let out = Gen::var(n);
        let st = state(n);
        let x = exchanged(n, 0);
        let some = quote!(::core::option::Option::Some);
        let span = g.plan.nodes[n].span;
        let snap = format_ident!("__snap{}", n);
        let wanted = g.plan.consumers[n]
            .iter()
            .any(|c| g.plan.nodes[*c].op() == Some(Op::StateSnapshots));
        quote_spanned! {span=>
            #[allow(unused_variables)]
            let (#out, #snap) = match #x {
                #some(__x0) => {
                    let (__m, __s) = #st.step(__b, __x0, #wanted)?;
                    (#some(__m), __s)
                }
                ::core::option::Option::None => (::core::option::Option::None, ::core::option::Option::None),
            };
        }
    }
}
