//! `cogroup(other)`: `(key, (values, other values))` for every key of either stream.

use super::args::OTHER_KEYED;
use super::{OpDef, Role, Shuffle};
use crate::codegen::Gen;
use crate::plan::NodeId;
use proc_macro2::TokenStream;
use quote::quote;

pub static DEF: OpDef = OpDef::new("cogroup", &[OTHER_KEYED], Role::Shuffle(&Cogroup));

struct Cogroup;

impl Shuffle for Cogroup {
    fn read(&self, _g: &mut Gen, _n: NodeId) -> TokenStream {
        let rt = quote!(::rill::__private::ops);
        quote!(#rt::cogroup::cogroup_side(__in, __in2))
    }
}
