//! The plan as text, for `ctx.explain()` and `RILL_EXPLAIN=1`.

use super::{Input, NodeId, Op, Plan, Sink, Step};

impl Plan {
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
