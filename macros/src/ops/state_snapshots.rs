//! `state_snapshots()`: every key's state after a batch of a `map_with_state`, which
//! makes the snapshot only when this operator reads it.

use super::{Batch, Op, OpDef, Role};
use crate::codegen::Gen;
use crate::plan::NodeId;
use proc_macro2::TokenStream;
use quote::{format_ident, quote};

pub static DEF: OpDef = OpDef {
    applies_to: Some((
        Op::MapWithState,
        "`state_snapshots()` applies to the stream a `map_with_state(spec)` returns",
    )),
    ..OpDef::new("state_snapshots", &[], Role::Batch(&StateSnapshots))
};

struct StateSnapshots;

impl Batch for StateSnapshots {
    fn driver(&self, g: &mut Gen, n: NodeId) -> TokenStream {
        let snaps = format_ident!("__snap{}", g.plan.nodes[n].inputs[0]);
        quote!(#snaps)
    }
}
