//! The logical plan (a DAG of named operators) and the physical plan (stages and steps).
//!
//! Planning is plain Rust over syn types and is unit-tested without expansion.
//! See `README.md` in the folder above for how stages are cut.

use crate::errors::Errors;
use crate::ops::{
    Batch, Class, Global, KeyedState, Merge, Narrow, Op, OpDef, Output, Role, Shuffle,
};
use crate::parse::{Pipeline, Statement, StreamExpr, Tail};
use proc_macro2::Span;
use std::collections::{HashMap, HashSet};
use std::fmt;
use syn::Expr;

/// Index of a node in [`Plan::nodes`].
pub type NodeId = usize;

/// What a node does.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    /// A source: a call of the function named by [`Node::source`], which returns a
    /// value implementing `rill::source::Source` (the macro knows no source by name).
    Source,
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
    /// For a source, the function of `rill::source` the user called and where the
    /// parentheses of the call are.
    pub source: Option<(syn::Ident, Span)>,
}

impl Node {
    /// The operator's definition, if the node is an operator.
    pub fn def(&self) -> Option<&'static OpDef> {
        self.op().map(Op::def)
    }

    /// The operator's role, if the node is an operator.
    pub fn role(&self) -> Option<Role> {
        self.def().map(|d| d.role)
    }

    /// How the node is planned.
    pub fn class(&self) -> Option<Class> {
        self.role().map(Role::class)
    }

    /// The operator, if the node is one.
    pub fn op(&self) -> Option<Op> {
        match self.kind {
            Kind::Op(op) => Some(op),
            Kind::Source => None,
        }
    }

    pub(crate) fn op_name(&self) -> String {
        match (self.kind, &self.source) {
            (Kind::Source, Some((f, _))) => f.to_string(),
            (Kind::Source, None) => "source".to_string(),
            (Kind::Op(op), _) => op.def().name.to_string(),
        }
    }
}

/// Node `node`, with its operator in the role the plan uses it in: what lets code
/// generation call the operator without matching on it.
pub struct At<T: ?Sized + 'static> {
    /// The node.
    pub node: NodeId,
    /// Its operator.
    pub op: &'static T,
}

impl<T: ?Sized> At<T> {
    /// Node `node` with operator `op`.
    pub fn new(node: NodeId, op: &'static T) -> Self {
        At { node, op }
    }
}

impl<T: ?Sized> Clone for At<T> {
    fn clone(&self) -> Self {
        *self
    }
}

impl<T: ?Sized> Copy for At<T> {}

impl<T: ?Sized> PartialEq for At<T> {
    fn eq(&self, other: &Self) -> bool {
        self.node == other.node
    }
}

impl<T: ?Sized> Eq for At<T> {}

impl<T: ?Sized> fmt::Debug for At<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "At({})", self.node)
    }
}

/// The value of the `stream!` block.
pub enum TailPlan {
    /// One output node.
    Single(At<dyn Output>),
    /// A tuple of output nodes.
    Tuple(Vec<At<dyn Output>>),
}

/// How a stage's loop holds its records.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mode {
    /// The loop variable owns the record (moved out of its partition, or made by a
    /// shuffle's read side).
    Owned,
    /// The loop variable is a reference into a materialized partition: the input is
    /// shared, or a window's shared partitions, or a `flat_map` may borrow from it.
    Ref,
}

/// Where the keys of a map-side combine are kept.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Keys {
    /// As they are: they can borrow only from the batch, never from a record made in
    /// the loop, so the reduce side makes each key owned once.
    AsIs,
    /// Made owned when a key is new to the partition's table.
    Owned,
}

/// How a stage's shuffle write combines the values of a key on the map side.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Combine {
    /// What merges two values.
    pub merge: Merge,
    /// Where keys are kept.
    pub keys: Keys,
    /// Whether the reduce function is called through a box made once per partition
    /// (an unfused plan reading a materialized partition).
    pub boxed: bool,
}

/// How a stage writes the map side of a shuffle.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Write {
    /// `(key, value)` pairs into hash buckets, as they come.
    Pairs,
    /// `(key, value)` pairs into a table per partition that merges each key's values.
    Combine(Combine),
    /// Whole records round-robin, into as many partitions as value argument `.0` says.
    RoundRobin(usize),
}

/// How many partitions a shuffle exchanges into.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Partitions {
    /// As many as the context has.
    Context,
    /// As many as value argument `.0` of the shuffle says (at least one).
    Value(usize),
}

/// Where a stage's records come from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Input {
    /// The partitions of a materialized node.
    Materialized(NodeId),
    /// The read side of a (stateless) shuffle node.
    ShuffleRead(At<dyn Shuffle>),
}

/// Where a stage's records go.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Sink {
    /// Into the materialized partitions of this node.
    Materialize(NodeId),
    /// Into the map side of the shuffle node's input `.1`, written as `.2` says.
    ShuffleWrite(NodeId, usize, Write),
    /// Into per-partition partial results of a global node (count, reduce).
    Partial(At<dyn Global>),
}

/// A fused stage: records from `input` through the narrow `chain` into `sink`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Stage {
    /// 1-based number, for `explain()`.
    pub number: usize,
    /// Where its records come from.
    pub input: Input,
    /// The narrow operators applied per record, in order.
    pub chain: Vec<At<dyn Narrow>>,
    /// Where its records go.
    pub sink: Sink,
    /// How its loop holds records.
    pub mode: Mode,
    /// Whether its narrow operators are called through boxes made once per partition
    /// (an unfused plan, reading a materialized partition).
    pub boxed: bool,
}

/// One step of a batch, in execution order.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Step {
    /// Take a source's block.
    Source(NodeId),
    /// Run a stage over all partitions.
    Stage(Stage),
    /// Step a keyed state over the exchanged records of its shuffle: numbered and
    /// explained as the stage reading the shuffle (`.0` is its number).
    State(usize, At<dyn KeyedState>),
    /// Exchange the buckets a stage wrote for side `.1` of shuffle node `.0`.
    Exchange(NodeId, usize, Partitions),
    /// A driver step over whole batches (union, transform, window, ...).
    Driver(At<dyn Batch>),
    /// Merge the partials of a global node on the driver (count, reduce, ...).
    Merge(At<dyn Global>),
    /// Run an output node.
    Output(At<dyn Output>),
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
mod decide;
mod explain;
mod graph;
mod schedule;
#[cfg(test)]
mod tests;

use build::Builder;
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
    let mut tail_output = |b: &mut Builder, e: &StreamExpr| -> Option<At<dyn Output>> {
        let id = b.lower(e)?;
        let Some(Role::Output(op)) = b.nodes[id].role() else {
            b.errors.error(
                expr_span(e),
                "the value of `stream!` must be an output such as `stream.collect()`",
            );
            return None;
        };
        if !outputs.contains(&id) {
            outputs.push(id);
        }
        Some(At::new(id, op))
    };
    let tail = match &p.tail {
        None => None,
        Some(Tail::Single(e)) => tail_output(&mut b, e).map(TailPlan::Single),
        Some(Tail::Tuple(es)) => {
            let ids: Vec<Option<At<dyn Output>>> =
                es.iter().map(|e| tail_output(&mut b, e)).collect();
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
    /// What produces `n`'s records inside the loop of the single stage that consumes
    /// them (a narrow operator or a stateless shuffle's read side), if `n` is inline:
    /// then `n` is never materialized.
    fn in_loop(&self, n: NodeId) -> Option<InLoop> {
        if !self.fused || self.consumers[n].len() != 1 {
            return None;
        }
        let consumer = self.consumers[n][0];
        let consumes_in_loop = match self.nodes[consumer].role()? {
            Role::Narrow(_) | Role::Shuffle(_) | Role::KeyedState(_) | Role::Global(_) => true,
            Role::Batch(_) | Role::Output(_) => false,
        };
        if !consumes_in_loop {
            return None;
        }
        match self.nodes[n].role()? {
            Role::Narrow(op) => Some(InLoop::Narrow(At::new(n, op))),
            Role::Shuffle(op) => Some(InLoop::Read(At::new(n, op))),
            Role::KeyedState(_) | Role::Global(_) | Role::Batch(_) | Role::Output(_) => None,
        }
    }
}

/// What produces records inside a stage's loop.
#[derive(Clone, Copy)]
enum InLoop {
    /// A narrow operator, over the records of its input.
    Narrow(At<dyn Narrow>),
    /// A stateless shuffle's read side, where the stage starts.
    Read(At<dyn Shuffle>),
}
