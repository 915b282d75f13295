//! The pipeline AST: `stream! { ctx; ... }` parsed with syn.

use crate::errors::Errors;
use proc_macro2::Span;
use syn::parse::{Parse, ParseStream};
use syn::spanned::Spanned;
use syn::{Expr, Ident, Pat, Stmt, Token};

/// A whole `stream!` invocation.
///
/// Grammar (the statements are Rust syntax, parsed by syn and then checked):
///
/// ```text
/// pipeline    := ctx-expr ( "," option )* ";" statement* tail?
/// option      := "unfused"
/// statement   := "let" IDENT "=" stream-expr ";"
///              | stream-expr ";"                       (ends in an output operator)
/// tail        := stream-expr | "(" stream-expr ( "," stream-expr )* ")"
/// stream-expr := IDENT                                 (a stream defined above)
///              | SOURCE "(" args ")"                   (queue_stream(...), ...)
///              | stream-expr "." OPERATOR "(" args ")" (map(...), reduce_by_key(...), ...)
///              | "(" stream-expr ")"
/// ```
pub struct Pipeline {
    /// The context expression.
    pub ctx: Expr,
    /// Options after the context (`unfused`).
    pub options: Vec<Ident>,
    /// The statements, with syntax errors found so far.
    pub stmts: Vec<Statement>,
    /// The block's value.
    pub tail: Option<Tail>,
    /// Errors found while reading the statements (reported with the plan's).
    pub errors: Errors,
}

/// One statement of the block.
pub enum Statement {
    /// `let name = expr;`
    Let {
        /// The stream's name.
        name: Ident,
        /// Its definition.
        expr: StreamExpr,
    },
    /// `expr;` (an output).
    Expr(StreamExpr),
}

/// The block's final expression.
pub enum Tail {
    /// One expression.
    Single(StreamExpr),
    /// A tuple of expressions.
    Tuple(Vec<StreamExpr>),
}

/// A stream expression.
pub enum StreamExpr {
    /// A stream defined earlier.
    Name(Ident),
    /// A source call `name(args)`.
    Source {
        /// The source's name.
        name: Ident,
        /// Its arguments.
        args: Vec<Expr>,
        /// Where its parentheses are.
        paren: Span,
    },
    /// An operator applied to a stream: `recv.name(args)`.
    Op {
        /// The stream it applies to.
        recv: Box<StreamExpr>,
        /// The operator's name.
        name: Ident,
        /// Its arguments.
        args: Vec<Expr>,
        /// The span of the whole call.
        span: Span,
    },
    /// Something that is not a stream expression (already reported).
    Invalid,
}

impl Parse for Pipeline {
    fn parse(input: ParseStream) -> syn::Result<Self> {
        if input.is_empty() {
            return Err(input.error(
                "expected `stream! { ctx; statements }`: the streaming context first, then `;`",
            ));
        }
        if input.peek(Token![let]) {
            return Err(
                input.error("expected the streaming context first: `stream! { ctx; let ... }`")
            );
        }
        let ctx: Expr = input.parse()?;
        let mut options = Vec::new();
        while input.peek(Token![,]) {
            input.parse::<Token![,]>()?;
            options.push(input.parse::<Ident>()?);
        }
        input.parse::<Token![;]>().map_err(|e| {
            syn::Error::new(
                e.span(),
                "expected `;` after the streaming context: `stream! { ctx; ... }`",
            )
        })?;
        let stmts = syn::Block::parse_within(input)?;
        let mut errors = Errors::default();
        let mut out = Vec::new();
        let mut tail = None;
        let last = stmts.len().saturating_sub(1);
        for (i, stmt) in stmts.into_iter().enumerate() {
            match stmt {
                Stmt::Local(local) => {
                    let name = match &local.pat {
                        Pat::Ident(p) if p.by_ref.is_none() && p.subpat.is_none() => Some(p.ident.clone()),
                        Pat::Type(t) => {
                            errors.error(&t.ty, "a stream binding takes no type: the types flow from the source and the closures");
                            None
                        }
                        other => {
                            errors.error(other, "expected a stream name: `let name = ...;`");
                            None
                        }
                    };
                    let Some(init) = &local.init else {
                        errors.error(&local.pat, "a stream needs a definition: `let name = source(...)` or `let name = other.op(...)`");
                        continue;
                    };
                    if let Some((_, diverge)) = &init.diverge {
                        errors.error(diverge, "`let ... else` is not a stream definition");
                    }
                    let expr = StreamExpr::from_expr(&init.expr, &mut errors);
                    if let Some(name) = name {
                        out.push(Statement::Let { name, expr });
                    }
                }
                Stmt::Expr(e, semi) => {
                    if semi.is_none() && i == last {
                        tail = Some(match &e {
                            Expr::Tuple(t) => Tail::Tuple(t.elems.iter().map(|e| StreamExpr::from_expr(e, &mut errors)).collect()),
                            _ => Tail::Single(StreamExpr::from_expr(&e, &mut errors)),
                        });
                    } else {
                        out.push(Statement::Expr(StreamExpr::from_expr(&e, &mut errors)));
                    }
                }
                Stmt::Item(item) => errors.error(item, "items cannot be declared inside `stream!`; declare them before it"),
                Stmt::Macro(m) => errors.error(&m.mac, "only stream statements can appear inside `stream!`; call macros outside it or inside a closure"),
            }
        }
        Ok(Pipeline {
            ctx,
            options,
            stmts: out,
            tail,
            errors,
        })
    }
}

impl StreamExpr {
    /// Reads a stream expression from Rust syntax, reporting what is not one.
    pub fn from_expr(e: &Expr, errors: &mut Errors) -> StreamExpr {
        match e {
            Expr::Path(p) if p.qself.is_none() && p.path.get_ident().is_some() => {
                StreamExpr::Name(p.path.get_ident().cloned().expect("checked above"))
            }
            Expr::Paren(p) => StreamExpr::from_expr(&p.expr, errors),
            Expr::Group(g) => StreamExpr::from_expr(&g.expr, errors),
            Expr::Call(c) => match &*c.func {
                Expr::Path(p) if p.path.get_ident().is_some() => StreamExpr::Source {
                    name: p.path.get_ident().cloned().expect("checked above"),
                    args: c.args.iter().cloned().collect(),
                    paren: c.paren_token.span.join(),
                },
                other => {
                    errors.error(other, "expected a source such as `queue_stream(...)`");
                    StreamExpr::Invalid
                }
            },
            Expr::MethodCall(m) => {
                if let Some(t) = &m.turbofish {
                    errors.error(
                        t,
                        "operators take no type arguments; annotate the closure's argument instead",
                    );
                }
                StreamExpr::Op {
                    recv: Box::new(StreamExpr::from_expr(&m.receiver, errors)),
                    name: m.method.clone(),
                    args: m.args.iter().cloned().collect(),
                    span: m.span(),
                }
            }
            Expr::Field(f) => {
                errors.error(f, "expected a stream operator call such as `.map(...)`");
                StreamExpr::Invalid
            }
            other => {
                errors.error(other, "expected a stream expression: a stream name, a source call, or `stream.operator(...)`");
                StreamExpr::Invalid
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(tokens: proc_macro2::TokenStream) -> Pipeline {
        syn::parse2(tokens).expect("parses")
    }

    #[test]
    fn reads_lets_outputs_and_tail() {
        let p = parse(quote::quote! { ctx, unfused;
            let lines = queue_stream(vec![vec!["a"]]);
            let words = lines.flat_map(|l| l.split(' '));
            words.print();
            (words.collect(), lines.collect())
        });
        assert_eq!(p.options.len(), 1);
        assert_eq!(p.stmts.len(), 3);
        assert!(matches!(p.tail, Some(Tail::Tuple(ref t)) if t.len() == 2));
        assert!(p.errors.is_empty());
    }

    #[test]
    fn reports_every_non_stream_statement() {
        let p = parse(quote::quote! { ctx;
            let x: u32 = lines;
            fn f() {}
            println!("x");
            let y = 1 + 2;
        });
        assert_eq!(p.errors.messages().len(), 4);
    }

    #[test]
    fn missing_semicolon_after_context_is_explained() {
        let e = syn::parse2::<Pipeline>(quote::quote! { ctx let x = y; })
            .err()
            .unwrap();
        assert!(
            e.to_string()
                .contains("expected `;` after the streaming context")
        );
    }
}
