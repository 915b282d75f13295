//! `save_as_text_files(prefix, suffix)`: each batch into a directory
//! `prefix-<time>.suffix`, one file per partition.

use super::write_to::{sink_setup, sink_write};
use super::{Arg, OpDef, Output, Role};
use crate::codegen::Gen;
use crate::plan::NodeId;
use proc_macro2::TokenStream;
use quote::quote;

pub static DEF: OpDef = OpDef::new(
    "save_as_text_files",
    &[(Arg::Value, "the prefix"), (Arg::Value, "the suffix")],
    Role::Output(&SaveAsTextFiles),
);

struct SaveAsTextFiles;

impl Output for SaveAsTextFiles {
    fn setup(&self, g: &Gen, o: NodeId) -> Option<TokenStream> {
        let (prefix, suffix) = (g.value(o, 0), g.value(o, 1));
        let sink = quote!(::rill::__private::sinks::text_files::TextFiles::new(#prefix, #suffix));
        Some(sink_setup(g, o, sink))
    }

    fn run(&self, g: &mut Gen, o: NodeId) -> TokenStream {
        sink_write(g, o)
    }
}
