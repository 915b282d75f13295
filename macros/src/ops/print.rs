//! `print()`: Spark's print: a header with the batch time and the first 10 records.

use super::write_to::{sink_setup, sink_write};
use super::{OpDef, Output, Role};
use crate::codegen::Gen;
use crate::plan::NodeId;
use proc_macro2::TokenStream;
use quote::quote;

pub static DEF: OpDef = OpDef::new("print", &[], Role::Output(&Print));

struct Print;

impl Output for Print {
    fn setup(&self, g: &Gen, o: NodeId) -> Option<TokenStream> {
        Some(sink_setup(g, o, print_sink(quote!(10usize))))
    }

    fn run(&self, g: &mut Gen, o: NodeId) -> TokenStream {
        sink_write(g, o)
    }
}

/// The sink printing the first `num` records of every batch (`print()` and
/// `print_n(n)`).
pub(super) fn print_sink(num: TokenStream) -> TokenStream {
    quote!(::rill::__private::sinks::print::Print::new(#num))
}
