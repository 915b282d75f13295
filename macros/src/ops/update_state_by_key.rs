//! `update_state_by_key(f, initial?)`: each key's state updated every batch by
//! `f(values, state)` (or `f(key, values, state)`, or `f(time, key, values, state)`).

use super::args::{INITIAL, UPDATE};
use super::{Kept, KeyedState, OpDef, Role};
use crate::codegen::{Gen, context_partitions, state};
use crate::plan::NodeId;
use proc_macro2::TokenStream;
use quote::{quote, quote_spanned};

pub static DEF: OpDef = OpDef::new(
    "update_state_by_key",
    &[UPDATE, INITIAL],
    Role::KeyedState(&UpdateStateByKey),
)
.optional_after(1);

struct UpdateStateByKey;

impl KeyedState for UpdateStateByKey {
    fn state(&self, g: &Gen, n: NodeId) -> Kept {
        let ops = quote!(::rill::__private::ops);
        let parts = context_partitions();
        let initial = if g.plan.nodes[n].args.len() > 1 {
            g.value(n, 1)
        } else {
            quote!(::std::vec::Vec::new())
        };
        Kept::checkpointed(
            quote!(#ops::update_state_by_key::UpdateStateByKey::new(#parts, #initial)),
        )
    }

    fn read(&self, g: &mut Gen, n: NodeId) -> TokenStream {
        let p = quote!(::rill::__private);
        let some = quote!(::core::option::Option::Some);
        let st = state(n);
        let span = g.plan.nodes[n].span;
        let f = g.func(n, 0);
        let fspan = g.arg_span(n, 0);
        let adapter = match g.closure_arity(n, 0) {
            Some(4) => {
                quote_spanned!(fspan=> |__k, __vs, __s, __t| #p::call4(__t, __k, __vs, __s, #f))
            }
            Some(3) => {
                quote_spanned!(fspan=> |__k, __vs, __s, _| #p::call3(__k, __vs, __s, #f))
            }
            _ => quote_spanned!(fspan=> |_, __vs, __s, _| #p::call_2(__vs, __s, #f)),
        };
        g.keyed_state_read(
            n,
            quote_spanned!(span=> #some(#st.step(__b, __x0, #adapter))),
        )
    }
}
