//! The narrow chain of a stage: each operator's step (in its module under `ops/`) gets
//! the record and the rest of the chain, and nests the rest inside its own code, so a
//! record produced by `flat_map` may borrow from its input for as long as the rest of
//! the chain runs. The user's closure is placed at the call through
//! `call_val`/`call_ref`, which fixes its argument type there.

use super::{Gen, Mode, Rec};
use crate::ops::Narrow;
use crate::plan::{At, NodeId, Sink};
use proc_macro2::{Ident, TokenStream};
use quote::{format_ident, quote};

/// What follows a narrow operator in its stage: the operators after it, then the sink.
#[derive(Clone, Copy)]
pub struct Rest<'s> {
    chain: &'s [At<dyn Narrow>],
    sink: Sink,
}

impl Rest<'_> {
    /// The code of the rest applied to record `r`.
    pub fn apply(self, g: &mut Gen, r: Rec) -> TokenStream {
        g.chain(self.chain, r, self.sink)
    }

    /// A fresh variable for the owned record an operator makes, and the code of the
    /// rest applied to it.
    pub fn owned(self, g: &mut Gen) -> (Ident, TokenStream) {
        let y = g.fresh("r");
        let cont = self.apply(
            g,
            Rec {
                var: y.clone(),
                mode: Mode::Owned,
            },
        );
        (y, cont)
    }
}

impl Gen<'_> {
    /// The nested code of `chain` applied to `r`, ending in `sink`.
    pub fn chain(&mut self, chain: &[At<dyn Narrow>], r: Rec, sink: Sink) -> TokenStream {
        match chain.split_first() {
            None => self.sink_record(sink, &r),
            Some((first, rest)) => first
                .op
                .step(self, first.node, r, Rest { chain: rest, sink }),
        }
    }

    /// Function argument `i` of narrow node `n` as it is called per record: the closure
    /// itself (fused), or, in a stage that boxes its operators (unfused), the box
    /// `boxed(partition, f)` makes once per partition (`boxed` is a constructor of
    /// `rill::__private::interp`).
    pub fn call_target(&mut self, n: NodeId, i: usize, boxed: TokenStream) -> TokenStream {
        let f = self.func(n, i);
        match &self.witness {
            Some(w) => {
                let op = format_ident!("__op{}", n);
                self.prelude.push(quote!(let #op = #boxed(#w, #f);));
                quote!(&*#op)
            }
            None => f,
        }
    }
}
