//! The logical plan (a DAG of named operators) and the physical plan (stages and steps).
//!
//! Planning is plain Rust over syn types and is unit-tested without expansion.
//! See `README.md` in the folder above for how stages are cut.

use crate::errors::Errors;
use crate::ops::{self, Class, Op, Source};
use crate::parse::{Pipeline, Statement, StreamExpr, Tail};
use proc_macro2::Span;
use std::collections::{HashMap, HashSet};
use syn::Expr;

/// Index of a node in [`Plan::nodes`].
pub type NodeId = usize;

/// What a node does.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    /// A source.
    Source(Source),
    /// An operator (including outputs).
    Op(Op),
}

/// A node of the logical plan.
pub struct Node {
    /// What it does.
    pub kind: Kind,
    /// Input nodes: the stream it applies to, then stream arguments.
    pub inputs: Vec<NodeId>,
    /// Non-stream arguments, in order.
    pub args: Vec<Expr>,
    /// Where the user wrote it.
    pub span: Span,
    /// The `let` name it was bound to, if any.
    pub name: Option<String>,
}

impl Node {
    /// How the node is planned.
    pub fn class(&self) -> Option<Class> {
        match self.kind {
            Kind::Source(_) => None,
            Kind::Op(op) => Some(ops::spec(op).class),
        }
    }

    /// Whether the node keeps state across batches (its output is always materialized).
    pub fn stateful(&self) -> bool {
        self.op().is_some_and(|op| ops::spec(op).stateful)
    }

    /// The operator, if the node is one.
    pub fn op(&self) -> Option<Op> {
        match self.kind {
            Kind::Op(op) => Some(op),
            Kind::Source(_) => None,
        }
    }

    pub(crate) fn op_name(&self) -> &'static str {
        match self.kind {
            Kind::Source(s) => ops::source_name(s),
            Kind::Op(op) => ops::spec(op).name,
        }
    }
}

/// The value of the `stream!` block.
pub enum TailPlan {
    /// One output node.
    Single(NodeId),
    /// A tuple of output nodes.
    Tuple(Vec<NodeId>),
}

/// Where a stage's records come from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Input {
    /// The partitions of a materialized node.
    Materialized(NodeId),
    /// The read side of a shuffle node.
    ShuffleRead(NodeId),
}

/// Where a stage's records go.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Sink {
    /// Into the materialized partitions of this node.
    Materialize(NodeId),
    /// Into the map side of the shuffle node's input `side`.
    ShuffleWrite(NodeId, usize),
    /// Into per-partition partial results of a global node (count, reduce).
    Partial(NodeId),
}

/// A fused stage: records from `input` through the narrow `chain` into `sink`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Stage {
    /// 1-based number, for `explain()`.
    pub number: usize,
    /// Where its records come from.
    pub input: Input,
    /// The narrow operators applied per record, in order.
    pub chain: Vec<NodeId>,
    /// Where its records go.
    pub sink: Sink,
}

/// One step of a batch, in execution order.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Step {
    /// Take a source's block.
    Source(NodeId),
    /// Run a stage over all partitions.
    Stage(Stage),
    /// Exchange the buckets a stage wrote for side `.1` of shuffle node `.0`.
    Exchange(NodeId, usize),
    /// A driver-side step (union, transform, merging count or reduce partials).
    Driver(NodeId),
    /// Run an output node.
    Output(NodeId),
}

/// The plan of one `stream!` block.
pub struct Plan {
    /// All nodes.
    pub nodes: Vec<Node>,
    /// Output nodes, in definition order.
    pub outputs: Vec<NodeId>,
    /// The block's value.
    pub tail: Option<TailPlan>,
    /// Whether narrow operators are fused.
    pub fused: bool,
    /// For each node, its consumers.
    pub consumers: Vec<Vec<NodeId>>,
    /// The steps of a batch.
    pub steps: Vec<Step>,
}

mod build;
mod canonical;
mod check;
mod explain;
mod schedule;
#[cfg(test)]
mod tests;

use build::Builder;
pub use check::window_args;
use schedule::Scheduler;

/// Builds the plan of a parsed pipeline, collecting every error into `errors`.
pub fn plan(p: &Pipeline, errors: &mut Errors) -> Option<Plan> {
    let mut fused = true;
    for opt in &p.options {
        match opt.to_string().as_str() {
            "unfused" => fused = false,
            "fused" => fused = true,
            other => errors.error(
                opt,
                format!("unknown option `{other}`; the options are `fused` and `unfused`"),
            ),
        }
    }
    if cfg!(feature = "force-unfused") {
        fused = false;
    }
    let later: HashSet<String> = p
        .stmts
        .iter()
        .filter_map(|s| match s {
            Statement::Let { name, .. } => Some(name.to_string()),
            Statement::Expr(_) => None,
        })
        .collect();
    let mut b = Builder {
        nodes: Vec::new(),
        names: HashMap::new(),
        later,
        poisoned: HashSet::new(),
        errors,
    };
    let mut outputs = Vec::new();
    for s in &p.stmts {
        match s {
            Statement::Let { name, expr } => {
                if let Some(id) = b.lower(expr) {
                    b.nodes[id].name.get_or_insert_with(|| name.to_string());
                    if b.nodes[id].class() == Some(Class::Output) && !outputs.contains(&id) {
                        outputs.push(id);
                    }
                    b.names.insert(name.to_string(), id);
                } else {
                    b.names.remove(&name.to_string());
                    b.poisoned.insert(name.to_string());
                }
            }
            Statement::Expr(e) => {
                if let Some(id) = b.lower(e) {
                    if b.nodes[id].class() == Some(Class::Output) {
                        outputs.push(id);
                    } else {
                        b.errors.error(
                            expr_span(e),
                            "this stream is never used: end it with an output such as `.print()` or `.collect()`, or bind it with `let`",
                        );
                    }
                }
            }
        }
    }
    let mut tail_output = |b: &mut Builder, e: &StreamExpr| -> Option<NodeId> {
        let id = b.lower(e)?;
        if b.nodes[id].class() != Some(Class::Output) {
            b.errors.error(
                expr_span(e),
                "the value of `stream!` must be an output such as `stream.collect()`",
            );
            return None;
        }
        if !outputs.contains(&id) {
            outputs.push(id);
        }
        Some(id)
    };
    let tail = match &p.tail {
        None => None,
        Some(Tail::Single(e)) => tail_output(&mut b, e).map(TailPlan::Single),
        Some(Tail::Tuple(es)) => {
            let ids: Vec<Option<NodeId>> = es.iter().map(|e| tail_output(&mut b, e)).collect();
            ids.into_iter()
                .collect::<Option<Vec<_>>>()
                .map(TailPlan::Tuple)
        }
    };
    let nodes = b.nodes;
    if !errors.is_empty() {
        return None;
    }
    let mut consumers = vec![Vec::new(); nodes.len()];
    for (id, n) in nodes.iter().enumerate() {
        for i in &n.inputs {
            consumers[*i].push(id);
        }
    }
    let mut plan = Plan {
        nodes,
        outputs,
        tail,
        fused,
        consumers,
        steps: Vec::new(),
    };
    check::windows(&plan, check::literal_interval(&p.ctx), errors);
    if !errors.is_empty() {
        return None;
    }
    plan.steps = Scheduler::new(&plan).run();
    Some(plan)
}

fn expr_span(e: &StreamExpr) -> Span {
    match e {
        StreamExpr::Name(i) => i.span(),
        StreamExpr::Source { name, .. } => name.span(),
        StreamExpr::Op { span, .. } => *span,
        StreamExpr::Invalid => Span::call_site(),
    }
}

impl Plan {
    /// Whether `n`'s records are produced inside the loop of the single stage that
    /// consumes them (so `n` is never materialized).
    pub fn inline(&self, n: NodeId) -> bool {
        if !self.fused || self.consumers[n].len() != 1 {
            return false;
        }
        let produces_in_loop =
            matches!(self.nodes[n].class(), Some(Class::Narrow | Class::Shuffle))
                && !self.nodes[n].stateful();
        let consumer = self.consumers[n][0];
        let consumes_in_loop = matches!(
            self.nodes[consumer].class(),
            Some(Class::Narrow | Class::Shuffle | Class::Global)
        );
        produces_in_loop && consumes_in_loop
    }
}
