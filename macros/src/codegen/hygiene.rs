//! Hygiene of the generated code's own names.
//!
//! The generated code names its variables and labels `__b`, `__o`, `'__step`, ... and
//! many of them are written with `quote_spanned!` at a user's token, so that a type
//! error points there. A span also says where a name resolves: when the user's tokens
//! come from another macro (`stream!` inside a `macro_rules!`), a name spanned at them
//! would not see the same name declared at the call site. So, last, every identifier
//! that starts with `__` is made to resolve at the macro's call site, where it stays.
//! Such names are the macro's: a stream block should not use them for its own.

use proc_macro2::{Group, Span, TokenStream, TokenTree};

/// `tokens` with every `__` identifier resolved at the call site, located where it was.
pub fn internal_names_at_call_site(tokens: TokenStream) -> TokenStream {
    rewrite(tokens).0
}

/// The rewritten tokens, and whether anything changed (groups are rebuilt only then, as
/// a rebuilt group has one span for both delimiters).
fn rewrite(tokens: TokenStream) -> (TokenStream, bool) {
    let mut changed = false;
    let out = tokens
        .into_iter()
        .map(|t| match t {
            TokenTree::Ident(mut i) if i.to_string().starts_with("__") => {
                i.set_span(Span::call_site().located_at(i.span()));
                changed = true;
                TokenTree::Ident(i)
            }
            TokenTree::Group(g) => match rewrite(g.stream()) {
                (inner, true) => {
                    let mut n = Group::new(g.delimiter(), inner);
                    n.set_span(g.span());
                    changed = true;
                    TokenTree::Group(n)
                }
                (_, false) => TokenTree::Group(g),
            },
            t => t,
        })
        .collect();
    (out, changed)
}
