//! The decisions a stage's code follows, made when the stage is cut: how its loop holds
//! records, whether operators are boxed, and how a shuffle write combines and keeps keys.
//! They are part of the plan, so `explain()` shows them and the planner's tests check them.

use super::{At, Combine, Input, Keys, Mode, NodeId, Plan, Sink, Stage, Write};
use crate::ops::{Global, MapSide, Merge, Narrow, Role, Takes};

/// Where a stage's records go, before the stage's decisions are made.
#[derive(Clone, Copy)]
pub(super) enum Target {
    /// Into the materialized partitions of this node.
    Materialize(NodeId),
    /// Into the map side of side `.1` of shuffle `.0`, which writes as `.2` says.
    Shuffle(NodeId, usize, MapSide),
    /// Into the partials of a global node.
    Partial(At<dyn Global>),
}

impl Plan {
    /// The stage numbered `number` reading `input` through `chain` into `target`.
    pub(super) fn decide(
        &self,
        number: usize,
        input: Input,
        chain: Vec<At<dyn Narrow>>,
        target: Target,
    ) -> Stage {
        let mode = self.mode(input, &chain);
        let boxed = !self.fused && matches!(input, Input::Materialized(_));
        let sink = match target {
            Target::Materialize(n) => Sink::Materialize(n),
            Target::Partial(at) => Sink::Partial(at),
            Target::Shuffle(op, side, map_side) => {
                let write = match map_side {
                    MapSide::Pairs => Write::Pairs,
                    MapSide::RoundRobin(n) => Write::RoundRobin(n),
                    MapSide::Combine(merge) => Write::Combine(Combine {
                        merge,
                        // A cluster build sends the tables to other processes, which can
                        // read back owned keys (and `&str`), not references to other keys.
                        keys: if !cfg!(feature = "cluster")
                            && self.keys_outlive_the_loop(input, mode, &chain)
                        {
                            Keys::AsIs
                        } else {
                            Keys::Owned
                        },
                        // The box is made from the partition, which fixes the pairs' type.
                        boxed: boxed && chain.is_empty() && matches!(merge, Merge::Reduce(_)),
                    }),
                };
                Sink::ShuffleWrite(op, side, write)
            }
        };
        Stage {
            number,
            input,
            chain,
            sink,
            mode,
            boxed,
        }
    }

    /// How a stage reads its input: by reference when a materialized input is shared, a
    /// window's shared partitions, or a `flat_map` may borrow from it; else by value, so
    /// `map` moves records.
    fn mode(&self, input: Input, chain: &[At<dyn Narrow>]) -> Mode {
        let Input::Materialized(m) = input else {
            return Mode::Owned;
        };
        let shared = match self.nodes[m].role() {
            Some(Role::Batch(b)) => b.shares_output(),
            Some(
                Role::Narrow(_)
                | Role::Shuffle(_)
                | Role::KeyedState(_)
                | Role::Global(_)
                | Role::Output(_),
            )
            | None => false,
        };
        if self.consumers[m].len() > 1 || shared {
            return Mode::Ref;
        }
        for at in chain {
            match at.op.takes() {
                Takes::PassesOn => continue,
                Takes::Borrows => return Mode::Ref,
                Takes::Consumes => return Mode::Owned,
            }
        }
        Mode::Owned
    }

    /// Whether every key reaching the sink lives as long as the batch: it can borrow only
    /// from a materialized partition (a `flat_map` reading the partition by reference),
    /// never from a record made inside the loop. Then a map-side combine keeps keys as
    /// they are, and the reduce side makes each key owned once.
    fn keys_outlive_the_loop(&self, input: Input, mode: Mode, chain: &[At<dyn Narrow>]) -> bool {
        let mut from_partition = matches!(input, Input::Materialized(_)) && mode == Mode::Ref;
        for at in chain {
            match at.op.takes() {
                Takes::PassesOn => {}
                Takes::Borrows if !from_partition => return false,
                Takes::Borrows | Takes::Consumes => from_partition = false,
            }
        }
        true
    }
}
