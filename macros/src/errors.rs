//! An error context that collects every error of a pipeline, not just the first.

use proc_macro2::TokenStream;

/// Collected errors, each at the user's token.
#[derive(Default)]
pub struct Errors {
    errors: Vec<syn::Error>,
}

impl Errors {
    /// Adds an error at `span`.
    pub fn error(&mut self, span: impl syn::spanned::Spanned, message: impl std::fmt::Display) {
        self.errors.push(syn::Error::new(span.span(), message));
    }

    /// Adds an existing error.
    pub fn push(&mut self, e: syn::Error) {
        self.errors.push(e);
    }

    /// Whether no error was collected.
    pub fn is_empty(&self) -> bool {
        self.errors.is_empty()
    }

    /// The messages, for tests.
    #[cfg(test)]
    pub fn messages(&self) -> Vec<String> {
        self.errors.iter().map(ToString::to_string).collect()
    }

    /// `Ok(())` or every error combined.
    pub fn finish(self) -> syn::Result<()> {
        let mut it = self.errors.into_iter();
        match it.next() {
            None => Ok(()),
            Some(mut first) => {
                first.extend(it);
                Err(first)
            }
        }
    }

    /// Every error as `compile_error!` invocations.
    pub fn into_compile_errors(self) -> TokenStream {
        self.errors
            .iter()
            .map(syn::Error::to_compile_error)
            .collect()
    }

    /// Moves every error of `other` into `self`.
    pub fn push_all(&mut self, other: Errors) {
        if let Err(e) = other.finish() {
            for single in e {
                self.push(single);
            }
        }
    }
}
