//! The `stream!` macro of rill: reads a whole pipeline at compile time, plans it into
//! fused stages and generates their typed code. Use it through the `rill` crate.
//!
//! The entry point only parses, calls the planner and the generator, and turns errors
//! into `compile_error!`; the logic lives in plain modules tested without expansion.

#![deny(missing_docs)]

mod codegen;
mod errors;
mod ops;
mod parse;
mod plan;
mod suggest;

use proc_macro::TokenStream;

/// Compiles a pipeline into fused stages on a streaming context; see the `rill` crate.
#[proc_macro]
pub fn stream(input: TokenStream) -> TokenStream {
    expand(input.into()).into()
}

fn expand(input: proc_macro2::TokenStream) -> proc_macro2::TokenStream {
    let mut pipeline: parse::Pipeline = match syn::parse2(input) {
        Ok(p) => p,
        Err(e) => return e.to_compile_error(),
    };
    let mut errors = std::mem::take(&mut pipeline.errors);
    let plan = plan::plan(&pipeline, &mut errors);
    match plan {
        Some(plan) if errors.is_empty() => codegen::generate(&plan, &pipeline.ctx),
        _ => errors.to_compile_errors(),
    }
}
