//! `group_by_key_and_window(len[, slide])`: each key's values over the window (Spark's
//! `groupByKeyAndWindow`), the pairs shuffled as they come and kept per key and batch
//! where the key's partition is. Without `slide`, the window slides with its stream.
//!
//! ```text
//! pairs.group_by_key_and_window(Duration::from_secs(2), Duration::from_secs(1))
//!   batches   [("a", 1)]   [("a", 2), ("b", 3)]            []
//!   output    [("a", [1])] [("a", [1, 2]), ("b", [3])]     [("a", [2]), ("b", [3])]
//! ```
//!
//! Keys arrive owned (`String` for `&str`); a key's values are in batch order, each
//! batch's as `group_by_key` gives them, and a key with no value in the window is absent.
//! The values are kept in checkpoints, so they must own their data (`String`, not
//! `&str`), as those of `sliding_by_key`.

use super::args::{LEN, SLIDE};
use super::{Kept, KeyedState, OpDef, Role};
use crate::codegen::{Gen, context_partitions, state, window_spec};
use crate::plan::NodeId;
use proc_macro2::TokenStream;
use quote::{quote, quote_spanned};

pub static DEF: OpDef = OpDef::new(
    "group_by_key_and_window",
    &[LEN, SLIDE],
    Role::KeyedState(&GroupByKeyAndWindow),
)
.optional_after(1)
.window(0, 1);

struct GroupByKeyAndWindow;

impl KeyedState for GroupByKeyAndWindow {
    fn state(&self, _g: &Gen, n: NodeId) -> Kept {
        let ops = quote!(::rill::__private::ops);
        let (ws, parts) = (window_spec(n), context_partitions());
        Kept::checkpointed(
            quote!(#ops::group_by_key_and_window::GroupByKeyAndWindow::new(#ws, #parts)),
        )
    }

    fn read(&self, g: &mut Gen, n: NodeId) -> TokenStream {
        let st = state(n);
        let span = g.plan.nodes[n].span;
        g.keyed_state_read(n, quote_spanned!(span=> #st.step(__b, __x0)))
    }
}
