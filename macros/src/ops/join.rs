//! `join(other)`, `left_outer_join(other)`, `right_outer_join(other)` and
//! `full_outer_join(other)`: both keyed streams shuffled by key, then joined per key.

use super::args::OTHER_KEYED;
use super::{OpDef, Role, Shuffle};
use crate::codegen::Gen;
use crate::plan::NodeId;
use proc_macro2::TokenStream;
use quote::quote;

pub static INNER: OpDef = OpDef::new("join", &[OTHER_KEYED], Role::Shuffle(&Join::Inner));

pub static LEFT_OUTER: OpDef = OpDef::new(
    "left_outer_join",
    &[OTHER_KEYED],
    Role::Shuffle(&Join::LeftOuter),
);

pub static RIGHT_OUTER: OpDef = OpDef::new(
    "right_outer_join",
    &[OTHER_KEYED],
    Role::Shuffle(&Join::RightOuter),
);

pub static FULL_OUTER: OpDef = OpDef::new(
    "full_outer_join",
    &[OTHER_KEYED],
    Role::Shuffle(&Join::FullOuter),
);

/// Which records without a match a join keeps.
enum Join {
    Inner,
    LeftOuter,
    RightOuter,
    FullOuter,
}

impl Shuffle for Join {
    fn read(&self, _g: &mut Gen, _n: NodeId) -> TokenStream {
        let rt = quote!(::rill::__private::ops);
        match self {
            Join::Inner => quote!(#rt::join::inner(__in, __in2)),
            Join::LeftOuter => quote!(#rt::join::left_outer(__in, __in2)),
            Join::RightOuter => quote!(#rt::join::right_outer(__in, __in2)),
            Join::FullOuter => quote!(#rt::join::full_outer(__in, __in2)),
        }
    }
}
