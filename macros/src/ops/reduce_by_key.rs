//! `reduce_by_key(f)`: the values of each key reduced with `f`, combined on the map side.

use super::args::REDUCE;
use super::{MapSide, Merge, OpDef, Role, Shuffle};
use crate::codegen::Gen;
use crate::plan::NodeId;
use proc_macro2::TokenStream;
use quote::{quote, quote_spanned};

pub static DEF: OpDef = OpDef::new("reduce_by_key", &[REDUCE], Role::Shuffle(&ReduceByKey));

struct ReduceByKey;

impl Shuffle for ReduceByKey {
    fn map_side(&self) -> MapSide {
        MapSide::Combine(Merge::Reduce(0))
    }

    fn read(&self, g: &mut Gen, n: NodeId) -> TokenStream {
        let rt = quote!(::rill::__private::ops);
        let f = g.func(n, 0);
        let span = g.arg_span(n, 0);
        // An error in the partition's type (a key that is not a `Key`) points at the
        // argument; `identity` makes that a call at the user's closure rather than the
        // name `__in`, which resolves at the call site (codegen/hygiene.rs).
        quote_spanned!(span=> #rt::reduce_by_key::reduce_side(::core::convert::identity(__in), #f))
    }
}
