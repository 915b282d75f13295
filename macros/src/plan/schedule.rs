//! Ordering a batch's steps and cutting fused stages.

use super::decide::Target;
use super::{At, InLoop, Input, NodeId, Partitions, Plan, Step};
use crate::ops::{MapSide, Narrow, Role};
use std::collections::HashSet;

/// Orders the steps of a batch: outputs in definition order, each preceded by whatever
/// it needs that was not computed yet.
pub(super) struct Scheduler<'p> {
    plan: &'p Plan,
    done: HashSet<NodeId>,
    written: HashSet<(NodeId, usize)>,
    steps: Vec<Step>,
    stages: usize,
}

impl<'p> Scheduler<'p> {
    pub(super) fn new(plan: &'p Plan) -> Self {
        Scheduler {
            plan,
            done: HashSet::new(),
            written: HashSet::new(),
            steps: Vec::new(),
            stages: 0,
        }
    }

    pub(super) fn run(mut self) -> Vec<Step> {
        for &o in &self.plan.outputs {
            self.need(o);
        }
        self.steps
    }

    /// Emits the steps that compute node `n` (for an output, that run it), after those
    /// of what it needs.
    fn need(&mut self, n: NodeId) {
        if !self.done.insert(n) {
            return;
        }
        let node = &self.plan.nodes[n];
        let Some(role) = node.role() else {
            self.steps.push(Step::Source(n));
            return;
        };
        match role {
            Role::Batch(op) => {
                for &i in &node.inputs {
                    self.need(i);
                }
                self.steps.push(Step::Driver(At::new(n, op)));
            }
            Role::Global(op) => {
                let at = At::new(n, op);
                self.write(n, 0, Target::Partial(at));
                self.steps.push(Step::Merge(at));
            }
            Role::Narrow(op) => self.cut(InLoop::Narrow(At::new(n, op)), Target::Materialize(n)),
            Role::Shuffle(op) => self.cut(InLoop::Read(At::new(n, op)), Target::Materialize(n)),
            Role::KeyedState(op) => {
                self.write_all(n, op.map_side());
                self.stages += 1;
                self.steps.push(Step::State(self.stages, At::new(n, op)));
            }
            Role::Output(op) => {
                self.need(node.inputs[0]);
                self.steps.push(Step::Output(At::new(n, op)));
            }
        }
    }

    /// Writes every input of shuffle `op`.
    fn write_all(&mut self, op: NodeId, map_side: MapSide) {
        for side in 0..self.plan.nodes[op].inputs.len() {
            self.write(op, side, Target::Shuffle(op, side, map_side));
        }
    }

    /// The stage (and exchange) writing input `side` of `op` into `target`.
    fn write(&mut self, op: NodeId, side: usize, target: Target) {
        if !self.written.insert((op, side)) {
            return;
        }
        let e = self.plan.nodes[op].inputs[side];
        match self.plan.in_loop(e) {
            Some(last) => self.cut(last, target),
            None => self.push_stage(Input::Materialized(e), Vec::new(), target),
        }
        if let Target::Shuffle(_, _, map_side) = target {
            let partitions = match map_side {
                MapSide::RoundRobin(n) => Partitions::Value(n),
                MapSide::Pairs | MapSide::Combine(_) => Partitions::Context,
            };
            self.steps.push(Step::Exchange(op, side, partitions));
        }
    }

    /// The stage whose last record-producing operator is `last`: back through the
    /// inline narrow operators before it, to a materialized node or a shuffle's read.
    fn cut(&mut self, last: InLoop, target: Target) {
        let mut chain: Vec<At<dyn Narrow>> = Vec::new();
        let mut cur = last;
        let input = loop {
            match cur {
                InLoop::Narrow(at) => {
                    chain.push(at);
                    let inp = self.plan.nodes[at.node].inputs[0];
                    match self.plan.in_loop(inp) {
                        Some(prev) => cur = prev,
                        None => break Input::Materialized(inp),
                    }
                }
                InLoop::Read(at) => break Input::ShuffleRead(at),
            }
        };
        chain.reverse();
        self.push_stage(input, chain, target);
    }

    fn push_stage(&mut self, input: Input, chain: Vec<At<dyn Narrow>>, target: Target) {
        match input {
            Input::Materialized(m) => self.need(m),
            Input::ShuffleRead(at) => self.write_all(at.node, at.op.map_side()),
        }
        self.stages += 1;
        let stage = self.plan.decide(self.stages, input, chain, target);
        self.steps.push(Step::Stage(stage));
    }
}
