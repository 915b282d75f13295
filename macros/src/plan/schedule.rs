//! Ordering a batch's steps and cutting fused stages.

use super::{Class, Input, NodeId, Plan, Sink, Stage, Step};
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
