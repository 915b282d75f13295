//! `combine_by_key(create, merge_value, merge_combiners)`: each key's values of the batch
//! combined into a value of another type (Spark's `combineByKey`), as `reduce_by_key`
//! reduces them: the records of each map partition are combined per key, `create(v)`
//! for a key's first value and `merge_value(c, v)` for the next ones, and the combiners
//! of one key from several map partitions are merged with `merge_combiners(c1, c2)`.
//!
//! ```text
//! pairs.combine_by_key(|v| (v, 1), |(sum, n), v| (sum + v, n + 1), |(s1, n1), (s2, n2)| (s1 + s2, n1 + n2))
//!   batch     [("a", 1), ("b", 4), ("a", 3)]
//!   output    [("a", (4, 2)), ("b", (4, 1))]       (a sum and a count per key)
//! ```
//!
//! The pairs are shuffled as they come and each map partition's share is combined on the
//! read side, one table per map partition merged into one: `reduce_by_key`'s map-side
//! tables hold values of the records' type, not combiners, so this shuffle writes pairs
//! (`group_by_key`'s exchange, moved without copying records). Keys arrive owned.

use super::{Arg, OpDef, Role, Shuffle};
use crate::codegen::Gen;
use crate::plan::NodeId;
use proc_macro2::TokenStream;
use quote::{quote, quote_spanned};

pub static DEF: OpDef = OpDef::new(
    "combine_by_key",
    &[
        (
            Arg::Func,
            "a function `|value| ...` making a key's first combiner",
        ),
        (
            Arg::Func,
            "a function `|combiner, value| ...` adding a value",
        ),
        (Arg::Func, "a function `|c1, c2| ...` merging two combiners"),
    ],
    Role::Shuffle(&CombineByKey),
);

struct CombineByKey;

impl Shuffle for CombineByKey {
    fn read(&self, g: &mut Gen, n: NodeId) -> TokenStream {
        let rt = quote!(::rill::__private::ops);
        let (create, merge_value, merge) = (g.func(n, 0), g.func(n, 1), g.func(n, 2));
        let span = g.arg_span(n, 0);
        // `identity`: an error in the partition's type points at the first function, as
        // `reduce_by_key`'s does (codegen/hygiene.rs).
        quote_spanned!(span=> #rt::combine_by_key::combine_side(
            ::core::convert::identity(__in),
            #create,
            #merge_value,
            #merge,
        ))
    }
}
