//! `late_records()`: on the stream of an event-time window operator, the input records
//! that were too late for every window they belong to, every batch (Flink's side output
//! of late data).

use super::{Batch, Op, OpDef, Role};
use crate::codegen::{Gen, state};
use crate::plan::NodeId;
use proc_macro2::TokenStream;
use quote::quote_spanned;

pub static DEF: OpDef = OpDef::new("late_records", &[], Role::Batch(&LateRecords));

/// The operators whose late records it reads.
const WINDOWED: &[Op] = &[
    Op::ReduceByKeyAndEventWindow,
    Op::CountByKeyAndEventWindow,
    Op::ReduceByEventWindow,
    Op::CountByEventWindow,
    Op::ReduceByKeyAndSessionWindow,
    Op::CountByKeyAndSessionWindow,
];

struct LateRecords;

impl Batch for LateRecords {
    fn driver(&self, g: &mut Gen, n: NodeId) -> TokenStream {
        let input = g.plan.nodes[n].inputs[0];
        let span = g.plan.nodes[n].span;
        let first = g.plan.consumers[input]
            .iter()
            .find(|c| g.plan.nodes[**c].op() == Some(Op::LateRecords));
        match g.plan.nodes[input].op() {
            // The records are handed over once per batch.
            Some(op) if WINDOWED.contains(&op) && first != Some(&n) => quote_spanned! {span=>
                ::core::compile_error!("`late_records()` is called twice on this operator; bind it once with `let late = ...late_records();` and use `late` twice")
            },
            Some(op) if WINDOWED.contains(&op) => {
                let st = state(input);
                quote_spanned!(span=> #st.take_late())
            }
            _ => quote_spanned! {span=>
                ::core::compile_error!("`late_records()` applies to the stream of an event-time window operator (`count_by_key_and_event_window`, `reduce_by_event_window`, `count_by_key_and_session_window`, ...)")
            },
        }
    }
}
