//! Hygiene of the generated code's own names.
//!
//! The generated code names its variables and labels `__b`, `__o`, `'__step`, ... and
//! many of them are written with `quote_spanned!` at a user's token, so that a type
//! error points there. A span also says where a name resolves: when the user's tokens
//! come from another macro (`stream!` inside a `macro_rules!`), a name spanned at them
//! would not see the same name declared at the call site. So, last, every identifier
//! that starts with `__` is made to resolve at the macro's call site, where it stays.
//! Such names are the macro's: a stream block should not use them for its own.
//!
//! Except [`SAME_SPAN`]: names that each quote declares and uses itself, at one user's
//! token, so they resolve alike wherever that token came from. They keep the user's
//! span whole: an error at them (a key that is not a `Key`) points at the user's token
//! as a plain span does, not at the whole macro with a note that it comes from one.

use proc_macro2::{Group, Span, TokenStream, TokenTree};

/// Names only ever declared and used within one quote at one span (a pair's key and
/// value, an update function's arguments, a keyed state's input and results), and
/// `__private`, a path segment rather than a name of the generated code.
const SAME_SPAN: &[&str] = &["__k", "__v", "__vs", "__s", "__t", "__m", "__private"];

fn is_internal(name: &str) -> bool {
    name.starts_with("__") && !SAME_SPAN.contains(&name)
}

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
            TokenTree::Ident(mut i) if is_internal(&i.to_string()) => {
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
