//! The plan as text, for `ctx.explain()` and `RILL_EXPLAIN=1`.

use super::{Input, Keys, Mode, NodeId, Plan, Sink, Stage, Step, Write};

impl Plan {
    /// `op `name`` or `op`, for `explain`.
    fn label(&self, n: NodeId) -> String {
        let node = &self.nodes[n];
        match &node.name {
            Some(name) => format!("{} `{}`", node.op_name(), name),
            None => node.op_name().to_string(),
        }
    }

    /// The plan as text: stages, what each fused, where the shuffles are, and under each
    /// stage what its code was decided to do.
    pub fn explain(&self) -> String {
        let stages = self
            .steps
            .iter()
            .filter(|s| matches!(s, Step::Stage(_) | Step::State(..)))
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
                        Input::ShuffleRead(at) => format!("{} (read shuffle)", self.label(at.node)),
                    }];
                    parts.extend(s.chain.iter().map(|at| self.label(at.node)));
                    let sink = match s.sink {
                        Sink::Materialize(n) => format!("materialize {}", self.label(n)),
                        Sink::ShuffleWrite(n, _, write) => format!(
                            "{} ({}write shuffle)",
                            self.label(n),
                            if matches!(write, Write::Combine(_)) {
                                "map-side combine, "
                            } else {
                                ""
                            }
                        ),
                        Sink::Partial(at) => {
                            format!("{} (partial per partition)", self.label(at.node))
                        }
                    };
                    format!(
                        "stage {}: {} => {}\n    {}",
                        s.number,
                        parts.join(" -> "),
                        sink,
                        decisions(s)
                    )
                }
                Step::State(number, at) => format!(
                    "stage {number}: {} (read shuffle) => materialize {}",
                    self.label(at.node),
                    self.label(at.node)
                ),
                Step::Exchange(n, side, _) => {
                    format!("shuffle: {} input {}", self.label(*n), side + 1)
                }
                Step::Driver(at) => format!("driver: {}", self.label(at.node)),
                Step::Merge(at) => format!("driver: {}", self.label(at.node)),
                Step::Output(at) => format!(
                    "output: {} of {}",
                    self.label(at.node),
                    self.label(self.nodes[at.node].inputs[0])
                ),
            };
            out.push_str("  ");
            out.push_str(&line);
            out.push('\n');
        }
        out
    }
}

/// What a stage's code was decided to do: `records by reference, keys as they are`.
fn decisions(s: &Stage) -> String {
    let mut parts = vec![match s.mode {
        Mode::Owned => "records by value",
        Mode::Ref => "records by reference",
    }];
    if s.boxed && !s.chain.is_empty() {
        parts.push("operators boxed");
    }
    if let Sink::ShuffleWrite(_, _, Write::Combine(c)) = s.sink {
        parts.push(match c.keys {
            Keys::AsIs => "keys as they are",
            Keys::Owned => "keys made owned",
        });
        if c.boxed {
            parts.push("reduce boxed");
        }
    }
    parts.join(", ")
}
