//! `count_by_value()`: `(record, count)` for every distinct record, counted on the map
//! side.

use super::{MapSide, Merge, OpDef, Role, Shuffle};
use crate::codegen::Gen;
use crate::plan::NodeId;
use proc_macro2::TokenStream;
use quote::quote;

pub static DEF: OpDef = OpDef::new("count_by_value", &[], Role::Shuffle(&CountByValue));

struct CountByValue;

impl Shuffle for CountByValue {
    fn map_side(&self) -> MapSide {
        MapSide::Combine(Merge::Count)
    }

    fn read(&self, _g: &mut Gen, _n: NodeId) -> TokenStream {
        let rt = quote!(::rill::__private::ops);
        quote!(#rt::reduce_by_key::reduce_side(__in, #rt::count_by_value::add))
    }
}
