//! `print_n(n)`: `print()` with the first `n` records.

use super::write_to::{sink_setup, sink_write};
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
    fn setup(&self, g: &Gen, o: NodeId) -> Option<TokenStream> {
        Some(sink_setup(g, o, super::print::print_sink(g.value(o, 0))))
    }

    fn run(&self, g: &mut Gen, o: NodeId) -> TokenStream {
        sink_write(g, o)
    }
}
