//! The `stream!` macro of rill: reads a whole pipeline at compile time, plans it into
//! fused stages and generates their typed code. Use it through the `rill` crate.
//!
//! The entry point only parses, calls the planner and the generator, and turns errors
//! into `compile_error!`; the logic lives in plain modules tested without expansion.

#![deny(missing_docs)]
// An operator module whose `DEF` no registry line uses is an error, not a warning.
#![deny(dead_code)]

mod codegen;
mod derive;
mod errors;
mod main_attr;
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

/// Derives `rill::Record` for a type that owns its data (its owned form is itself), so
/// it can be collected, windowed and kept in state. Needs `Clone + Send + Sync + 'static`.
#[proc_macro_derive(Record)]
pub fn derive_record(input: TokenStream) -> TokenStream {
    match syn::parse(input) {
        Ok(i) => derive::record(i).into(),
        Err(e) => e.to_compile_error().into(),
    }
}

/// Derives `rill::Key` (and `rill::Record`) for a type used as a shuffle key. Needs
/// `Clone + Hash + Eq + Send + Sync + 'static`; do not derive `Record` as well.
#[proc_macro_derive(Key)]
pub fn derive_key(input: TokenStream) -> TokenStream {
    match syn::parse(input) {
        Ok(i) => derive::key(i).into(),
        Err(e) => e.to_compile_error().into(),
    }
}

/// Makes `fn main(ctx: StreamingContext[, args: Args]) -> rill::Result<()>` a program
/// with spark-submit-like flags; see `rill::cli`.
#[proc_macro_attribute]
pub fn main(attr: TokenStream, item: TokenStream) -> TokenStream {
    let expanded = syn::parse::<main_attr::MainArgs>(attr).and_then(|args| {
        let f: syn::ItemFn = syn::parse(item)?;
        main_attr::expand(args, f)
    });
    // On an error, a `main` that does nothing keeps rustc from adding "`main` function
    // not found" to the errors that say what is wrong.
    expanded
        .unwrap_or_else(|e| {
            let errors = e.to_compile_error();
            quote::quote!(#errors fn main() {})
        })
        .into()
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
        _ => errors.into_compile_errors(),
    }
}
