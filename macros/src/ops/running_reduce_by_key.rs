//! `running_reduce_by_key(f)`: each key's values since the start reduced with `f`,
//! combined on the map side.

use super::args::REDUCE;
use super::{Kept, KeyedState, MapSide, Merge, OpDef, Role};
use crate::codegen::{Gen, context_partitions, state};
use crate::plan::NodeId;
use proc_macro2::TokenStream;
use quote::{quote, quote_spanned};

pub static DEF: OpDef = OpDef::new(
    "running_reduce_by_key",
    &[REDUCE],
    Role::KeyedState(&RunningReduceByKey),
);

struct RunningReduceByKey;

impl KeyedState for RunningReduceByKey {
    fn map_side(&self) -> MapSide {
        MapSide::Combine(Merge::Reduce(0))
    }

    fn state(&self, _g: &Gen, _n: NodeId) -> Kept {
        let ops = quote!(::rill::__private::ops);
        let parts = context_partitions();
        Kept::checkpointed(quote!(#ops::running_reduce_by_key::RunningReduceByKey::new(#parts)))
    }

    fn read(&self, g: &mut Gen, n: NodeId) -> TokenStream {
        let some = quote!(::core::option::Option::Some);
        let st = state(n);
        let span = g.plan.nodes[n].span;
        let f = g.func(n, 0);
        g.keyed_state_read(n, quote_spanned!(span=> #some(#st.step(__b, __x0, #f))))
    }
}
