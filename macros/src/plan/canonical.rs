//! The canonical form of a pipeline's operator graph: what a checkpoint's plan
//! fingerprint is computed from, so a checkpoint is refused by a job whose state would not
//! fit it, and accepted by one that differs only in how it is written.
//!
//! One line per node, in plan order (the order state and sources are numbered in): the
//! node's index, its operator or source name, the indices of its input nodes, and the
//! literal arguments that shape its state (a window's length and slide in milliseconds,
//! `sliding_by_key`'s count; `?` where the argument is not a literal). Spans, stream
//! names, closure bodies, other arguments, formatting and the fused or unfused plan are
//! left out. The first line names the format's version: change it with the format.

use super::check::literal_ms;
use super::{Kind, Plan};
use crate::ops::OpDef;
use syn::{Expr, ExprLit, Lit};

/// The first line of every canonical form.
pub const VERSION: &str = "rill-plan 1";

impl Plan {
    /// The canonical form of the operator graph (see the module's documentation).
    pub fn canonical(&self) -> String {
        let mut out = format!("{VERSION}\n");
        for (i, node) in self.nodes.iter().enumerate() {
            out.push_str(&format!("{i} {}", node.op_name()));
            if !node.inputs.is_empty() {
                let inputs: Vec<String> = node.inputs.iter().map(|n| n.to_string()).collect();
                out.push_str(&format!(" <- {}", inputs.join(",")));
            }
            if let Kind::Op(op) = node.kind {
                for (what, arg) in layout_args(op.def()) {
                    let value = node.args.get(arg).map_or("?".to_string(), literal);
                    out.push_str(&format!(" {what}={value}"));
                }
            }
            out.push('\n');
        }
        out
    }
}

/// The arguments of an operator that shape its state: a name for each and its position.
fn layout_args(def: &OpDef) -> Vec<(&'static str, usize)> {
    let mut args = match def.window {
        Some((len, slide)) if len == slide => vec![("slide", slide)],
        Some((len, slide)) => vec![("len", len), ("slide", slide)],
        None => Vec::new(),
    };
    args.extend(def.state_args.iter().copied());
    args
}

/// A literal duration in milliseconds (`30000ms`), a literal integer, or `?`.
fn literal(e: &Expr) -> String {
    if let Some(ms) = literal_ms(e) {
        return format!("{ms}ms");
    }
    match e {
        Expr::Lit(ExprLit {
            lit: Lit::Int(n), ..
        }) => n
            .base10_parse::<u128>()
            .map_or("?".to_string(), |n| n.to_string()),
        _ => "?".to_string(),
    }
}
