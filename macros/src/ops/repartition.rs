//! `repartition(n)`: the records spread round-robin over `n` partitions.

use super::{Arg, MapSide, OpDef, Role, Shuffle};
use crate::codegen::Gen;
use crate::plan::NodeId;
use proc_macro2::TokenStream;
use quote::quote;

pub static DEF: OpDef = OpDef::new(
    "repartition",
    &[(Arg::Value, "the number of partitions")],
    Role::Shuffle(&Repartition),
);

struct Repartition;

impl Shuffle for Repartition {
    fn map_side(&self) -> MapSide {
        MapSide::RoundRobin(0)
    }

    fn read(&self, _g: &mut Gen, _n: NodeId) -> TokenStream {
        let rt = quote!(::rill::__private::ops);
        quote!(#rt::repartition::read_side(__in))
    }
}
