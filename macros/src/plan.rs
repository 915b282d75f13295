//! The logical plan (a DAG of named operators) and the physical plan (stages and steps).
//!
//! Planning is plain Rust over syn types and is unit-tested without expansion.
//! See `README.md` next to this file for how stages are cut.

use crate::errors::Errors;
use crate::ops::{self, Arg, Class, Op, Source};
use crate::parse::{Pipeline, Statement, StreamExpr, Tail};
use crate::suggest::did_you_mean;
use proc_macro2::Span;
use std::collections::{HashMap, HashSet};
use syn::{Expr, Ident};

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

    /// The operator, if the node is one.
    pub fn op(&self) -> Option<Op> {
        match self.kind {
            Kind::Op(op) => Some(op),
            Kind::Source(_) => None,
        }
    }

    fn op_name(&self) -> &'static str {
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

struct Builder<'e> {
    nodes: Vec<Node>,
    names: HashMap<String, NodeId>,
    later: HashSet<String>,
    /// Names whose definition had an error: uses are not reported again.
    poisoned: HashSet<String>,
    errors: &'e mut Errors,
}

impl Builder<'_> {
    fn add(&mut self, kind: Kind, inputs: Vec<NodeId>, args: Vec<Expr>, span: Span) -> NodeId {
        self.nodes.push(Node {
            kind,
            inputs,
            args,
            span,
            name: None,
        });
        self.nodes.len() - 1
    }

    /// Lowers a stream expression; `None` after reporting an error.
    fn lower(&mut self, e: &StreamExpr) -> Option<NodeId> {
        match e {
            StreamExpr::Invalid => None,
            StreamExpr::Name(id) => self.lookup(id),
            StreamExpr::Source { name, args } => self.source(name, args),
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

    fn source(&mut self, name: &Ident, args: &[Expr]) -> Option<NodeId> {
        let text = name.to_string();
        let Some(spec) = ops::source(&text) else {
            if ops::op(&text).is_some() {
                self.errors.error(name, format!("`{text}` is an operator, not a source; call it on a stream: `stream.{text}(...)`"));
            } else {
                let hint = did_you_mean(&text, ops::SOURCES.iter().map(|s| s.name));
                self.errors
                    .error(name, format!("unknown source `{text}`{hint}"));
            }
            return None;
        };
        if args.len() != spec.args.len() {
            self.errors.error(
                name,
                format!(
                    "`{text}` takes {}, {} given",
                    ops::describe_args(spec.args),
                    args.len()
                ),
            );
            return None;
        }
        Some(self.add(
            Kind::Source(spec.source),
            Vec::new(),
            args.to_vec(),
            name.span(),
        ))
    }

    fn op(&mut self, name: &Ident, args: &[Expr], _span: Span) -> Option<NodeId> {
        let text = name.to_string();
        let Some(spec) = ops::op(&text) else {
            if ops::source(&text).is_some() {
                self.errors.error(name, format!("`{text}` is a source, not an operator; define it on its own: `let s = {text}(...);`"));
            } else {
                let hint = did_you_mean(&text, ops::OPS.iter().map(|s| s.name));
                self.errors
                    .error(name, format!("unknown operator `{text}`{hint}"));
            }
            return None;
        };
        if args.len() != spec.args.len() {
            let described: Vec<&str> = spec.args.iter().map(|(_, d)| *d).collect();
            self.errors.error(
                name,
                format!(
                    "`{text}` takes {}, {} given",
                    ops::describe_args(&described),
                    args.len()
                ),
            );
            return None;
        }
        let mut inputs = Vec::new();
        let mut values = Vec::new();
        let mut ok = true;
        for ((kind, _), arg) in spec.args.iter().zip(args) {
            if *kind == Arg::Stream {
                let mut errors = Errors::default();
                let e = StreamExpr::from_expr(arg, &mut errors);
                let failed = !errors.is_empty();
                self.errors.push_all(errors);
                match (failed, self.lower(&e)) {
                    (false, Some(n)) if self.nodes[n].class() == Some(Class::Output) => {
                        self.errors
                            .error(arg, "an output cannot be an operator's input");
                        ok = false;
                    }
                    (false, Some(n)) => inputs.push(n),
                    _ => ok = false,
                }
            } else {
                values.push(arg.clone());
            }
        }
        if !ok {
            return None;
        }
        Some(self.add(Kind::Op(spec.op), inputs, values, name.span()))
    }
}

impl Errors {
    /// Moves every error of `other` into `self`.
    pub fn push_all(&mut self, other: Errors) {
        if let Err(e) = other.finish() {
            for single in e {
                self.push(single);
            }
        }
    }
}

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
            matches!(self.nodes[n].class(), Some(Class::Narrow | Class::Shuffle));
        let consumer = self.consumers[n][0];
        let consumes_in_loop = matches!(
            self.nodes[consumer].class(),
            Some(Class::Narrow | Class::Shuffle | Class::Global)
        );
        produces_in_loop && consumes_in_loop
    }

    /// `op `name`` or `op`, for `explain`.
    fn label(&self, n: NodeId) -> String {
        let node = &self.nodes[n];
        match &node.name {
            Some(name) => format!("{} `{}`", node.op_name(), name),
            None => node.op_name().to_string(),
        }
    }

    /// The plan as text: stages, what each fused, and where the shuffles are.
    pub fn explain(&self) -> String {
        let stages = self
            .steps
            .iter()
            .filter(|s| matches!(s, Step::Stage(_)))
            .count();
        let shuffles = self
            .steps
            .iter()
            .filter(|s| matches!(s, Step::Exchange(..)))
            .count();
        let mut out = format!(
            "pipeline ({}): {} stage{}, {} shuffle{}\n",
            if self.fused { "fused" } else { "unfused" },
            stages,
            if stages == 1 { "" } else { "s" },
            shuffles,
            if shuffles == 1 { "" } else { "s" },
        );
        for step in &self.steps {
            let line = match step {
                Step::Source(n) => format!("source: {}", self.label(*n)),
                Step::Stage(s) => {
                    let mut parts = vec![match s.input {
                        Input::Materialized(n) => self.label(n),
                        Input::ShuffleRead(n) => format!("{} (read shuffle)", self.label(n)),
                    }];
                    parts.extend(s.chain.iter().map(|n| self.label(*n)));
                    let sink = match s.sink {
                        Sink::Materialize(n) => format!("materialize {}", self.label(n)),
                        Sink::ShuffleWrite(n, _) => {
                            let combine = matches!(
                                self.nodes[n].op(),
                                Some(Op::ReduceByKey | Op::CountByValue)
                            );
                            format!(
                                "{} ({}write shuffle)",
                                self.label(n),
                                if combine { "map-side combine, " } else { "" }
                            )
                        }
                        Sink::Partial(n) => format!("{} (partial per partition)", self.label(n)),
                    };
                    format!("stage {}: {} => {}", s.number, parts.join(" -> "), sink)
                }
                Step::Exchange(n, side) => {
                    format!("shuffle: {} input {}", self.label(*n), side + 1)
                }
                Step::Driver(n) => format!("driver: {}", self.label(*n)),
                Step::Output(n) => format!(
                    "output: {} of {}",
                    self.label(*n),
                    self.label(self.nodes[*n].inputs[0])
                ),
            };
            out.push_str("  ");
            out.push_str(&line);
            out.push('\n');
        }
        out
    }
}

/// Orders the steps of a batch: outputs in definition order, each preceded by whatever
/// it needs that was not computed yet.
struct Scheduler<'p> {
    plan: &'p Plan,
    done: HashSet<NodeId>,
    written: HashSet<(NodeId, usize)>,
    steps: Vec<Step>,
    stages: usize,
}

impl<'p> Scheduler<'p> {
    fn new(plan: &'p Plan) -> Self {
        Scheduler {
            plan,
            done: HashSet::new(),
            written: HashSet::new(),
            steps: Vec::new(),
            stages: 0,
        }
    }

    fn run(mut self) -> Vec<Step> {
        for &o in &self.plan.outputs {
            let input = self.plan.nodes[o].inputs[0];
            self.materialize(input);
            self.steps.push(Step::Output(o));
        }
        self.steps
    }

    fn materialize(&mut self, n: NodeId) {
        if !self.done.insert(n) {
            return;
        }
        let node = &self.plan.nodes[n];
        match node.class() {
            None => self.steps.push(Step::Source(n)),
            Some(Class::Batch) => {
                for &i in &node.inputs {
                    self.materialize(i);
                }
                self.steps.push(Step::Driver(n));
            }
            Some(Class::Global) => {
                self.write(n, 0, Sink::Partial(n));
                self.steps.push(Step::Driver(n));
            }
            Some(Class::Narrow | Class::Shuffle) => {
                let stage = self.stage_ending_at(n, Sink::Materialize(n), true);
                self.push_stage(stage);
            }
            Some(Class::Output) => unreachable!("outputs are never inputs"),
        }
    }

    fn write(&mut self, op: NodeId, side: usize, sink: Sink) {
        if !self.written.insert((op, side)) {
            return;
        }
        let e = self.plan.nodes[op].inputs[side];
        let stage = self.stage_ending_at(e, sink, self.plan.inline(e));
        self.push_stage(stage);
        if matches!(sink, Sink::ShuffleWrite(..)) {
            self.steps.push(Step::Exchange(op, side));
        }
    }

    fn push_stage(&mut self, mut stage: Stage) {
        match stage.input {
            Input::Materialized(m) => self.materialize(m),
            Input::ShuffleRead(op) => {
                for side in 0..self.plan.nodes[op].inputs.len() {
                    self.write(op, side, Sink::ShuffleWrite(op, side));
                }
            }
        }
        self.stages += 1;
        stage.number = self.stages;
        self.steps.push(Step::Stage(stage));
    }

    /// The stage whose last record-producing node is `e`.
    fn stage_ending_at(&self, e: NodeId, sink: Sink, e_in_loop: bool) -> Stage {
        let mut stage = Stage {
            number: 0,
            input: Input::Materialized(e),
            chain: Vec::new(),
            sink,
        };
        if !e_in_loop {
            return stage;
        }
        let mut cur = e;
        loop {
            let node = &self.plan.nodes[cur];
            match node.class() {
                Some(Class::Narrow) => {
                    stage.chain.push(cur);
                    let inp = node.inputs[0];
                    if self.plan.inline(inp) {
                        cur = inp;
                    } else {
                        stage.input = Input::Materialized(inp);
                        break;
                    }
                }
                Some(Class::Shuffle) => {
                    stage.input = Input::ShuffleRead(cur);
                    break;
                }
                _ => unreachable!("only narrow and shuffle nodes produce records in a loop"),
            }
        }
        stage.chain.reverse();
        stage
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn plan_of(tokens: proc_macro2::TokenStream) -> Result<Plan, Vec<String>> {
        let p: Pipeline = syn::parse2(tokens).unwrap();
        let mut errors = Errors::default();
        let plan = plan(&p, &mut errors);
        let mut all = p.errors.messages();
        all.extend(errors.messages());
        match plan {
            Some(plan) if all.is_empty() => Ok(plan),
            _ => Err(all),
        }
    }

    fn stages(p: &Plan) -> Vec<&Stage> {
        p.steps
            .iter()
            .filter_map(|s| match s {
                Step::Stage(s) => Some(s),
                _ => None,
            })
            .collect()
    }

    #[test]
    fn word_count_fuses_into_two_stages() {
        let p = plan_of(quote::quote! { ctx;
            let lines = queue_stream(vec![vec!["a b"]]);
            let counts = lines.flat_map(|l| l.split(' ')).map(|w| (w, 1)).reduce_by_key(|a, b| a + b);
            counts.print();
            counts.collect()
        })
        .unwrap();
        let st = stages(&p);
        assert_eq!(st.len(), 2);
        assert_eq!(st[0].chain.len(), 2, "flat_map and map fused");
        assert!(matches!(st[0].sink, Sink::ShuffleWrite(..)));
        assert!(matches!(st[1].input, Input::ShuffleRead(_)));
        assert!(matches!(st[1].sink, Sink::Materialize(_)));
        let text = p.explain();
        assert!(
            text.contains("pipeline (fused): 2 stages, 1 shuffle"),
            "{text}"
        );
        assert!(
            text.contains(
                "flat_map -> map => reduce_by_key `counts` (map-side combine, write shuffle)"
            ),
            "{text}"
        );
    }

    #[test]
    fn unfused_gives_every_operator_its_own_stage() {
        let p = plan_of(quote::quote! { ctx, unfused;
            let lines = queue_stream(vec![vec!["a b"]]);
            lines.flat_map(|l| l.split(' ')).map(|w| (w, 1)).reduce_by_key(|a, b| a + b).print();
        })
        .unwrap();
        let st = stages(&p);
        assert_eq!(st.len(), 4);
        assert!(st.iter().all(|s| s.chain.len() <= 1));
    }

    #[test]
    fn a_shared_stream_is_computed_once() {
        let p = plan_of(quote::quote! { ctx;
            let words = queue_stream(vec![vec!["a"]]).map(|w| w);
            words.filter(|w| true).print();
            words.count().print();
        })
        .unwrap();
        let materialized: Vec<_> = stages(&p)
            .into_iter()
            .filter(|s| s.sink == Sink::Materialize(1))
            .collect();
        assert_eq!(materialized.len(), 1);
    }

    #[test]
    fn outputs_run_in_definition_order() {
        let p = plan_of(quote::quote! { ctx;
            let a = queue_stream(vec![vec![1]]);
            let b = queue_stream(vec![vec![2]]);
            b.print();
            a.print();
        })
        .unwrap();
        assert_eq!(
            p.steps,
            vec![
                Step::Source(1),
                Step::Output(2),
                Step::Source(0),
                Step::Output(3)
            ]
        );
    }

    #[test]
    fn join_writes_both_sides() {
        let p = plan_of(quote::quote! { ctx;
            let a = queue_stream(vec![vec![(1, 2)]]);
            let b = queue_stream(vec![vec![(1, 3)]]);
            a.join(b.map(|x| x)).collect()
        })
        .unwrap();
        let exchanges = p
            .steps
            .iter()
            .filter(|s| matches!(s, Step::Exchange(..)))
            .count();
        assert_eq!(exchanges, 2);
    }

    #[test]
    fn errors_are_all_collected_with_suggestions() {
        let errs = plan_of(quote::quote! { ctx;
            let a = queue_stream(vec![vec![1]]);
            a.fletmap(|x| x).print();
            a.map(|x| x, 2).print();
            b.print();
            let b = a.queue_stream(1);
            map(a).print();
            a.map(|x| x);
            let c = qeue_stream(vec![]);
        })
        .err()
        .expect("errors");
        let all = errs.join("\n");
        assert!(
            all.contains("unknown operator `fletmap`; did you mean `flat_map`?"),
            "{all}"
        );
        assert!(
            all.contains("`map` takes 1 argument (a function of the record), 2 given"),
            "{all}"
        );
        assert!(
            all.contains("stream `b` is used before it is defined"),
            "{all}"
        );
        assert!(
            all.contains("`queue_stream` is a source, not an operator"),
            "{all}"
        );
        assert!(all.contains("`map` is an operator, not a source"), "{all}");
        assert!(all.contains("this stream is never used"), "{all}");
        assert!(
            all.contains("unknown source `qeue_stream`; did you mean `queue_stream`?"),
            "{all}"
        );
    }

    #[test]
    fn unknown_stream_suggests_a_defined_name() {
        let errs = plan_of(quote::quote! { ctx;
            let counts = queue_stream(vec![vec![1]]);
            cuonts.print();
        })
        .err()
        .expect("errors");
        assert_eq!(
            errs,
            vec!["unknown stream `cuonts`; did you mean `counts`?"]
        );
    }
}
