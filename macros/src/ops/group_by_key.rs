//! `group_by_key()`: `(key, values)` for every key.

use super::{OpDef, Role, Shuffle};
use crate::codegen::Gen;
use crate::plan::NodeId;
use proc_macro2::TokenStream;
use quote::quote;

pub static DEF: OpDef = OpDef::new("group_by_key", &[], Role::Shuffle(&GroupByKey));

struct GroupByKey;

impl Shuffle for GroupByKey {
    fn read(&self, _g: &mut Gen, _n: NodeId) -> TokenStream {
        let rt = quote!(::rill::__private::ops);
        quote!(#rt::group_by_key::group_side(__in))
    }
}
