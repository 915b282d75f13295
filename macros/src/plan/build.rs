//! Lowering the parsed statements into nodes, with every naming and arity error.

use super::{Kind, Node, NodeId};
use crate::errors::Errors;
use crate::ops::{self, Arg, Class};
use crate::parse::StreamExpr;
use crate::suggest::did_you_mean;
use proc_macro2::Span;
use std::collections::{HashMap, HashSet};
use syn::{Expr, Ident};

pub(super) struct Builder<'e> {
    pub(super) nodes: Vec<Node>,
    pub(super) names: HashMap<String, NodeId>,
    pub(super) later: HashSet<String>,
    /// Names whose definition had an error: uses are not reported again.
    pub(super) poisoned: HashSet<String>,
    pub(super) errors: &'e mut Errors,
}

impl Builder<'_> {
    fn add(&mut self, kind: Kind, inputs: Vec<NodeId>, args: Vec<Expr>, span: Span) -> NodeId {
        self.nodes.push(Node {
            kind,
            inputs,
            args,
            span,
            name: None,
            source: None,
        });
        self.nodes.len() - 1
    }

    /// Lowers a stream expression; `None` after reporting an error.
    pub(super) fn lower(&mut self, e: &StreamExpr) -> Option<NodeId> {
        match e {
            StreamExpr::Invalid => None,
            StreamExpr::Name(id) => self.lookup(id),
            StreamExpr::Source { name, args, paren } => self.source(name, args, *paren),
            StreamExpr::Op {
                recv,
                name,
                args,
                span,
            } => {
                let input = self.lower(recv);
                let id = self.op(name, args, *span)?;
                let input = input?;
                if self.nodes[input].class() == Some(Class::Output) {
                    self.errors.error(
                        name,
                        format!(
                            "`{}` is an output and ends its chain; `{}` cannot follow it",
                            self.nodes[input].op_name(),
                            name
                        ),
                    );
                    return None;
                }
                if let Some((after, message)) = self.nodes[id].def().and_then(|d| d.applies_to) {
                    if self.nodes[input].op() != Some(after) {
                        self.errors.error(name, message);
                        return None;
                    }
                }
                self.nodes[id].inputs.insert(0, input);
                Some(id)
            }
        }
    }

    fn lookup(&mut self, id: &Ident) -> Option<NodeId> {
        let name = id.to_string();
        if let Some(n) = self.names.get(&name) {
            return Some(*n);
        }
        if self.poisoned.contains(&name) {
            return None;
        }
        if self.later.contains(&name) {
            self.errors.error(
                id,
                format!(
                    "stream `{name}` is used before it is defined; move its `let` above this line"
                ),
            );
        } else if ops::op(&name).is_some() {
            self.errors.error(
                id,
                format!("`{name}` is an operator; call it on a stream: `stream.{name}(...)`"),
            );
        } else {
            let hint = did_you_mean(&name, self.names.keys().map(String::as_str));
            self.errors
                .error(id, format!("unknown stream `{name}`{hint}"));
        }
        None
    }

    fn source(&mut self, name: &Ident, args: &[Expr], paren: Span) -> Option<NodeId> {
        let text = name.to_string();
        if text == ops::CONTEXT_UNION {
            return self.context_union(name, args);
        }
        if text == ops::CONTEXT_TRANSFORM {
            return self.context_transform(name, args);
        }
        if ops::op(&text).is_some() {
            self.errors.error(name, format!("`{text}` is an operator, not a source; call it on a stream: `stream.{text}(...)`"));
            return None;
        }
        // Any other function is a source: `rill::source::<name>(args)` returns a value
        // implementing `rill::source::Source`, so the compiler checks its name and
        // arguments, and a user's own source value comes in through `source(value)`.
        let id = self.add(Kind::Source, Vec::new(), args.to_vec(), name.span());
        self.nodes[id].source = Some((name.clone(), paren));
        Some(id)
    }

    /// `transform([a, b, ...], f)`, Spark's `StreamingContext.transform`: the
    /// `transform_streams` operator over the streams listed.
    fn context_transform(&mut self, name: &Ident, args: &[Expr]) -> Option<NodeId> {
        let (Some(Expr::Array(list)), Some(f), 2) = (args.first(), args.get(1), args.len()) else {
            self.errors.error(
                name,
                "`transform(...)` over several streams takes a list of streams `[a, b, ...]` and a function",
            );
            return None;
        };
        let streams: Vec<Expr> = list.elems.iter().cloned().collect();
        let inputs = self.lower_streams(&streams)?;
        Some(self.add(
            Kind::Op(ops::Op::TransformStreams),
            inputs,
            vec![f.clone()],
            name.span(),
        ))
    }

    /// Lowers each of `args` as a stream that is not an output, reporting every error.
    fn lower_streams(&mut self, args: &[Expr]) -> Option<Vec<NodeId>> {
        let lowered: Vec<Option<NodeId>> = args.iter().map(|a| self.lower_input(a)).collect();
        lowered.into_iter().collect()
    }

    /// Lowers `arg` as an operator's input stream, which an output cannot be.
    fn lower_input(&mut self, arg: &Expr) -> Option<NodeId> {
        let mut errors = Errors::default();
        let e = StreamExpr::from_expr(arg, &mut errors);
        let failed = !errors.is_empty();
        self.errors.push_all(errors);
        match (failed, self.lower(&e)) {
            (false, Some(n)) if self.nodes[n].class() == Some(Class::Output) => {
                self.errors
                    .error(arg, "an output cannot be an operator's input");
                None
            }
            (false, Some(n)) => Some(n),
            _ => None,
        }
    }

    /// `union(a, b, c, ...)`, Spark's `StreamingContext.union`: the streams' records in
    /// argument order, as a chain of the `union` operator.
    fn context_union(&mut self, name: &Ident, args: &[Expr]) -> Option<NodeId> {
        if args.len() < 2 {
            self.errors.error(
                name,
                format!(
                    "`union(...)` takes two or more streams, {} given",
                    args.len()
                ),
            );
            return None;
        }
        let inputs = self.lower_streams(args)?;
        let mut acc = inputs[0];
        for next in &inputs[1..] {
            acc = self.add(
                Kind::Op(ops::Op::Union),
                vec![acc, *next],
                Vec::new(),
                name.span(),
            );
        }
        Some(acc)
    }

    fn op(&mut self, name: &Ident, args: &[Expr], _span: Span) -> Option<NodeId> {
        let text = name.to_string();
        let Some(op) = ops::op(&text) else {
            let hint = did_you_mean(&text, ops::names());
            let source = if hint.is_empty() && text.ends_with("_stream") {
                format!("; if `{text}` is a source, define it on its own: `let s = {text}(...);`")
            } else {
                String::new()
            };
            self.errors
                .error(name, format!("unknown operator `{text}`{hint}{source}"));
            return None;
        };
        let spec = op.def();
        if args.len() < spec.min_args || args.len() > spec.args.len() {
            let described: Vec<&str> = spec.args.iter().map(|(_, d)| *d).collect();
            let count = if spec.min_args < spec.args.len() {
                format!("{} to {}", spec.min_args, ops::describe_args(&described))
            } else {
                ops::describe_args(&described)
            };
            self.errors.error(
                name,
                format!("`{text}` takes {count}, {} given", args.len()),
            );
            return None;
        }
        let mut inputs = Vec::new();
        let mut values = Vec::new();
        let mut ok = true;
        for ((kind, _), arg) in spec.args.iter().zip(args) {
            if *kind == Arg::Stream {
                match self.lower_input(arg) {
                    Some(n) => inputs.push(n),
                    None => ok = false,
                }
            } else {
                values.push(arg.clone());
            }
        }
        if !ok {
            return None;
        }
        Some(self.add(Kind::Op(op), inputs, values, name.span()))
    }
}
