//! `sliding_by_key(n)`: each key's last `n` values, kept across batches.

use super::{Arg, Kept, KeyedState, OpDef, Role};
use crate::codegen::{Gen, context_partitions, state};
use crate::plan::NodeId;
use proc_macro2::TokenStream;
use quote::{quote, quote_spanned};

pub static DEF: OpDef = OpDef {
    state_args: &[("n", 0)],
    ..OpDef::new(
        "sliding_by_key",
        &[(Arg::Value, "the number of values per key")],
        Role::KeyedState(&SlidingByKey),
    )
};

struct SlidingByKey;

impl KeyedState for SlidingByKey {
    fn state(&self, g: &Gen, n: NodeId) -> Kept {
        let ops = quote!(::rill::__private::ops);
        let (w, parts) = (g.value(n, 0), context_partitions());
        Kept::checkpointed(quote!(#ops::sliding_by_key::SlidingByKey::new(#w, #parts)))
    }

    fn read(&self, g: &mut Gen, n: NodeId) -> TokenStream {
        let some = quote!(::core::option::Option::Some);
        let st = state(n);
        let span = g.plan.nodes[n].span;
        g.keyed_state_read(n, quote_spanned!(span=> #some(#st.step(__b, __x0))))
    }
}
