//! The plan as a graph, in JSON, for the streaming UI's plan view: the operator nodes,
//! and the steps of a batch (sources, stages with the operators each fused, shuffles,
//! driver steps, outputs), each with what it consumes and produces, so the page draws
//! an edge from the step producing a value to every step consuming it.
//!
//! Values are named `n<node>` (a node's materialized partitions), `w<node>.<side>` (what
//! a stage wrote for side `side` of a shuffle), `x<node>.<side>` (the exchanged buckets)
//! and `p<node>` (a global operator's partials). The format is the runtime's to serve as
//! it is: `rill_runtime` embeds it in `/api/v1/plan` without reading it.

use super::{Input, NodeId, Plan, Sink, Step, Write};

impl Plan {
    /// The plan's graph as one JSON object (see the module's documentation).
    pub fn graph(&self) -> String {
        let nodes: Vec<String> = self
            .nodes
            .iter()
            .enumerate()
            .map(|(i, n)| {
                let inputs: Vec<String> = n.inputs.iter().map(|x| x.to_string()).collect();
                format!(
                    "{{\"id\":{i},\"op\":{},\"name\":{},\"inputs\":[{}]}}",
                    string(&n.op_name()),
                    n.name.as_deref().map_or("null".to_string(), string),
                    inputs.join(",")
                )
            })
            .collect();
        let steps: Vec<String> = self.steps.iter().map(|s| self.step_json(s)).collect();
        format!(
            "{{\"fused\":{},\"nodes\":[{}],\"steps\":[{}]}}",
            self.fused,
            nodes.join(","),
            steps.join(",")
        )
    }

    /// The exchanged values a shuffle read of `op` consumes: every side exchanged.
    fn exchanged(&self, op: NodeId) -> Vec<String> {
        self.steps
            .iter()
            .filter_map(|s| match s {
                Step::Exchange(n, side, _) if *n == op => Some(format!("x{n}.{side}")),
                _ => None,
            })
            .collect()
    }

    fn step_json(&self, step: &Step) -> String {
        let n = |id: NodeId| format!("n{id}");
        let (kind, stage, ops, consumes, produces, detail): (
            &str,
            Option<usize>,
            Vec<NodeId>,
            Vec<String>,
            Vec<String>,
            String,
        ) = match step {
            Step::Source(id) => (
                "source",
                None,
                vec![*id],
                vec![],
                vec![n(*id)],
                String::new(),
            ),
            Step::Stage(s) => {
                let mut ops = Vec::new();
                let consumes = match s.input {
                    Input::Materialized(m) => vec![n(m)],
                    Input::ShuffleRead(at) => {
                        ops.push(at.node);
                        self.exchanged(at.node)
                    }
                };
                ops.extend(s.chain.iter().map(|at| at.node));
                let (last, produced, detail) = match s.sink {
                    Sink::Materialize(m) => (m, n(m), "materialize"),
                    Sink::ShuffleWrite(op, side, write) => (
                        op,
                        format!("w{op}.{side}"),
                        if matches!(write, Write::Combine(_)) {
                            "map-side combine, write shuffle"
                        } else {
                            "write shuffle"
                        },
                    ),
                    Sink::Partial(at) => (at.node, format!("p{}", at.node), "partial"),
                };
                if ops.last() != Some(&last) {
                    ops.push(last);
                }
                let produces = if consumes.contains(&produced) {
                    vec![]
                } else {
                    vec![produced]
                };
                (
                    "stage",
                    Some(s.number),
                    ops,
                    consumes,
                    produces,
                    detail.to_string(),
                )
            }
            Step::State(number, at) => (
                "stage",
                Some(*number),
                vec![at.node],
                self.exchanged(at.node),
                vec![n(at.node)],
                "keyed state".to_string(),
            ),
            Step::Exchange(op, side, _) => (
                "shuffle",
                None,
                vec![*op],
                vec![format!("w{op}.{side}")],
                vec![format!("x{op}.{side}")],
                format!("input {}", side + 1),
            ),
            Step::Driver(at) => (
                "driver",
                None,
                vec![at.node],
                self.nodes[at.node].inputs.iter().map(|m| n(*m)).collect(),
                vec![n(at.node)],
                String::new(),
            ),
            Step::Merge(at) => (
                "driver",
                None,
                vec![at.node],
                vec![format!("p{}", at.node)],
                vec![n(at.node)],
                "merge partials".to_string(),
            ),
            Step::Output(at) => (
                "output",
                None,
                vec![at.node],
                self.nodes[at.node].inputs.iter().map(|m| n(*m)).collect(),
                vec![],
                String::new(),
            ),
        };
        let list = |v: &[String]| v.iter().map(|s| string(s)).collect::<Vec<_>>().join(",");
        let ops: Vec<String> = ops.iter().map(|o| o.to_string()).collect();
        format!(
            "{{\"kind\":\"{kind}\",\"stage\":{},\"ops\":[{}],\"consumes\":[{}],\"produces\":[{}],\"detail\":{}}}",
            stage.map_or("null".to_string(), |s| s.to_string()),
            ops.join(","),
            list(&consumes),
            list(&produces),
            string(&detail)
        )
    }
}

/// `s` as a JSON string.
fn string(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            c if (c as u32) < 0x20 => out.push_str(&format!("\\u{:04x}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}
