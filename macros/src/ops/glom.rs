//! `glom()`: each partition of a batch as one record, a `Vec` of its records in order
//! (Spark's `glom`), on the driver.

use super::{Batch, OpDef, Role};
use crate::codegen::Gen;
use crate::plan::NodeId;
use proc_macro2::TokenStream;
use quote::quote;

pub static DEF: OpDef = OpDef::new("glom", &[], Role::Batch(&Glom));

struct Glom;

impl Batch for Glom {
    fn driver(&self, g: &mut Gen, n: NodeId) -> TokenStream {
        let rt = quote!(::rill::__private::ops);
        let p = quote!(::rill::__private);
        let some = quote!(::core::option::Option::Some);
        let (binds, a) = g.bind_inputs(n);
        let a = &a[0];
        quote!(#binds #some(#rt::glom::glom(#p::into_parts(#a))))
    }
}
