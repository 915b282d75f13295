//! `print_n(n)`: `print()` with the first `n` records.

use super::{Arg, OpDef, Output, Role};
use crate::codegen::Gen;
use crate::plan::NodeId;
use proc_macro2::TokenStream;

pub static DEF: OpDef = OpDef::new(
    "print_n",
    &[(Arg::Value, "the number of records to print")],
    Role::Output(&PrintN),
);

struct PrintN;

impl Output for PrintN {
    fn run(&self, g: &mut Gen, o: NodeId) -> TokenStream {
        let n = g.value(o, 0);
        super::print::print_records(g, o, n)
    }
}
