//! The operators: one module each, registered in [`Op::def`].
//!
//! A module holds all that is particular to its operator: its [`OpDef`] (the name users
//! write, its arguments and their forms, window arguments) and the code it generates,
//! as an implementation of the trait of its [`Role`] (a narrow step, a shuffle's read
//! side, a keyed state, a per-partition partial and its merge, a driver step, an
//! output). Planning and code generation call those traits and never match on
//! operators. Every file of this directory is a module without a `mod` line (the
//! package's `build.rs` declares them), so adding an operator is adding its files
//! (`ops/<name>.rs` here, `runtime/src/ops/<name>.rs` if it has a runtime half,
//! `tests/ops/<name>.rs`) and one line of the `operators!` registry.

use crate::codegen::{Gen, Rec, Rest};
use crate::plan::NodeId;
use proc_macro2::TokenStream;

// Every other file of this directory is a module, declared by `build.rs`: adding an
// operator's file declares it.
include!(concat!(env!("OUT_DIR"), "/ops_modules.rs"));

pub use transform_streams::CONTEXT_TRANSFORM;
pub use union::CONTEXT_UNION;

/// The registry: one line per operator, `Variant => module::DEF`. It declares [`Op`],
/// [`Op::ALL`] and [`Op::def`] from that one list, so they cannot disagree; an operator
/// module without its line leaves its `DEF` unused, which `#![deny(dead_code)]` makes an
/// error when this crate builds.
macro_rules! operators {
    ($($op:ident => $def:path),* $(,)?) => {
        /// Every operator: the index of the registry, [`Op::def`].
        #[allow(missing_docs)]
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
        pub enum Op {
            $($op),*
        }

        impl Op {
            /// Every operator, in declaration order.
            pub const ALL: &'static [Op] = &[$(Op::$op),*];

            /// The operator's definition.
            pub fn def(self) -> &'static OpDef {
                match self {
                    $(Op::$op => &$def),*
                }
            }
        }
    };
}

operators! {
    Map => map::DEF,
    FlatMap => flat_map::DEF,
    Filter => filter::DEF,
    FilterMap => filter_map::DEF,
    MapValues => map_values::DEF,
    FlatMapValues => flat_map_values::DEF,
    ReduceByKey => reduce_by_key::DEF,
    CountByValue => count_by_value::DEF,
    GroupByKey => group_by_key::DEF,
    CombineByKey => combine_by_key::DEF,
    Join => join::INNER,
    LeftOuterJoin => join::LEFT_OUTER,
    RightOuterJoin => join::RIGHT_OUTER,
    FullOuterJoin => join::FULL_OUTER,
    Cogroup => cogroup::DEF,
    Repartition => repartition::DEF,
    Count => count::DEF,
    Reduce => reduce::DEF,
    Union => union::DEF,
    Transform => transform::DEF,
    TransformWith => transform_with::DEF,
    TransformStreams => transform_streams::DEF,
    Glom => glom::DEF,
    MapPartitions => map_partitions::DEF,
    Window => window::DEF,
    CountByWindow => count_by_window::DEF,
    ReduceByWindow => reduce_by_window::DEF,
    ReduceByKeyAndWindow => reduce_by_key_and_window::DEF,
    GroupByKeyAndWindow => group_by_key_and_window::DEF,
    ReduceByKeyAndWindowInv => reduce_by_key_and_window_inv::DEF,
    CountByValueAndWindow => count_by_value_and_window::DEF,
    UpdateStateByKey => update_state_by_key::DEF,
    MapWithState => map_with_state::DEF,
    StateSnapshots => state_snapshots::DEF,
    SlidingByKey => sliding_by_key::DEF,
    RunningReduceByKey => running_reduce_by_key::DEF,
    ForecastArima => forecast_arima::DEF,
    DetectAnomalies => detect_anomalies::DEF,
    WithWatermark => with_watermark::DEF,
    ReduceByKeyAndEventWindow => reduce_by_key_and_event_window::DEF,
    CountByKeyAndEventWindow => count_by_key_and_event_window::DEF,
    ReduceByEventWindow => reduce_by_event_window::DEF,
    CountByEventWindow => count_by_event_window::DEF,
    ReduceByKeyAndSessionWindow => reduce_by_key_and_session_window::DEF,
    CountByKeyAndSessionWindow => count_by_key_and_session_window::DEF,
    LateRecords => late_records::DEF,
    Print => print::DEF,
    PrintN => print_n::DEF,
    SaveAsTextFiles => save_as_text_files::DEF,
    ForEachBatch => for_each_batch::DEF,
    Collect => collect::DEF,
    WriteTo => write_to::DEF,
}

/// What an argument of an operator is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Arg {
    /// A function (a closure literal, a path, or a variable holding a closure).
    Func,
    /// A function called through `&mut` (an `FnMut`, such as `for_each_batch`'s).
    FuncMut,
    /// Another stream (a name or a chain).
    Stream,
    /// A plain value (a number of partitions, a path prefix, ...).
    Value,
}

impl Arg {
    /// Whether the argument is a function.
    pub fn is_func(self) -> bool {
        matches!(self, Arg::Func | Arg::FuncMut)
    }
}

/// How an operator is planned.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Class {
    /// Per record, fused into the surrounding stage's loop.
    Narrow,
    /// Ends a stage with a hash (or round-robin) shuffle; the next stage reads it.
    Shuffle,
    /// Needs every partition: per-partition partial results merged on the driver.
    Global,
    /// Works on the whole materialized batch on the driver.
    Batch,
    /// An output operator: ends a chain.
    Output,
}

/// One operator: what users write and what it generates.
pub struct OpDef {
    /// The name users write (Spark's name in snake_case).
    pub name: &'static str,
    /// Its arguments: what each is, and how an error message describes it.
    pub args: &'static [(Arg, &'static str)],
    /// How many of `args` are required (the rest are optional trailing arguments).
    pub min_args: usize,
    /// Positions of the window length and slide among the non-stream arguments, for
    /// operators over a window.
    pub window: Option<(usize, usize)>,
    /// Other literal arguments that shape its state, named, with their positions (part
    /// of the canonical form a checkpoint is resumed by).
    pub state_args: &'static [(&'static str, usize)],
    /// The operator whose output it must be applied to, and the error otherwise.
    pub applies_to: Option<(Op, &'static str)>,
    /// Its role in a plan, with the code it generates there.
    pub role: Role,
}

impl OpDef {
    /// A definition with every argument required and no window.
    pub const fn new(name: &'static str, args: &'static [(Arg, &'static str)], role: Role) -> Self {
        OpDef {
            name,
            args,
            min_args: args.len(),
            window: None,
            state_args: &[],
            applies_to: None,
            role,
        }
    }

    /// Only the first `min_args` arguments are required.
    pub const fn optional_after(mut self, min_args: usize) -> Self {
        self.min_args = min_args;
        self
    }

    /// Works over a window whose length and slide are arguments `len` and `slide`.
    pub const fn window(mut self, len: usize, slide: usize) -> Self {
        self.window = Some((len, slide));
        self
    }

    /// How it is planned.
    pub fn class(&self) -> Class {
        self.role.class()
    }

    /// The kinds of its non-stream arguments, in order (as a node's `args` holds them).
    pub fn value_args(&self) -> impl Iterator<Item = Arg> + '_ {
        self.args
            .iter()
            .map(|(a, _)| *a)
            .filter(|a| *a != Arg::Stream)
    }
}

/// An operator's role in a plan, with the code it generates in that role.
#[derive(Clone, Copy)]
pub enum Role {
    /// Per record, inside a stage's loop.
    Narrow(&'static dyn Narrow),
    /// A stateless shuffle: written at the end of a stage, read in the next one's loop.
    Shuffle(&'static dyn Shuffle),
    /// A shuffle whose read side steps state kept per key across batches.
    KeyedState(&'static dyn KeyedState),
    /// A partial per partition, merged on the driver.
    Global(&'static dyn Global),
    /// A step on the driver over whole materialized batches.
    Batch(&'static dyn Batch),
    /// An output.
    Output(&'static dyn Output),
}

impl Role {
    /// How an operator in this role is planned.
    pub fn class(self) -> Class {
        match self {
            Role::Narrow(_) => Class::Narrow,
            Role::Shuffle(_) | Role::KeyedState(_) => Class::Shuffle,
            Role::Global(_) => Class::Global,
            Role::Batch(_) => Class::Batch,
            Role::Output(_) => Class::Output,
        }
    }
}

/// How a narrow operator uses the record it is given; the planner decides from it how a
/// stage holds its records and whether keys may stay borrowed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Takes {
    /// Reads it by reference and passes the same record on (`filter`).
    PassesOn,
    /// Reads it by reference and makes records that may borrow from it (`flat_map`).
    Borrows,
    /// Takes it by value.
    Consumes,
}

/// What merges two values of a key (or two partial results).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Merge {
    /// The reduce function that is function argument `.0`.
    Reduce(usize),
    /// Counting: each record is one.
    Count,
}

/// How the map side of a shuffle writes records.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MapSide {
    /// `(key, value)` pairs into hash buckets, as they come.
    Pairs,
    /// `(key, value)` pairs into a table per partition that merges each key's values.
    Combine(Merge),
    /// Whole records, round-robin, into as many partitions as value argument `.0` says.
    RoundRobin(usize),
}

/// State an operator keeps across batches, made before the job.
pub struct Kept {
    /// The expression making it.
    pub make: TokenStream,
    /// Whether checkpoints save it (and recovery restores it).
    pub checkpointed: bool,
}

impl Kept {
    /// State saved in checkpoints.
    pub fn checkpointed(make: TokenStream) -> Self {
        Kept {
            make,
            checkpointed: true,
        }
    }
}

/// A narrow operator.
pub trait Narrow: Sync {
    /// How it uses its record.
    fn takes(&self) -> Takes;
    /// Its code for record `r` of node `n`, with the rest of the stage nested inside.
    fn step(&self, g: &mut Gen, n: NodeId, r: Rec, rest: Rest<'_>) -> TokenStream;
}

/// A stateless shuffle.
pub trait Shuffle: Sync {
    /// How the map side writes.
    fn map_side(&self) -> MapSide {
        MapSide::Pairs
    }
    /// The records of the read side of node `n`, an iterable over the exchanged input
    /// `__in` (and `__in2` for a second input) of one partition.
    fn read(&self, g: &mut Gen, n: NodeId) -> TokenStream;
}

/// A shuffle read by a state kept per key.
pub trait KeyedState: Sync {
    /// How the map side writes.
    fn map_side(&self) -> MapSide {
        MapSide::Pairs
    }
    /// The state of node `n`.
    fn state(&self, g: &Gen, n: NodeId) -> Kept;
    /// The read side: binds node `n`'s output (`Gen::var`), usually with
    /// [`Gen::keyed_state_read`] over the state's step.
    fn read(&self, g: &mut Gen, n: NodeId) -> TokenStream;
}

/// A global operator: a partial result per partition, merged on the driver.
pub trait Global: Sync {
    /// What the partial result is.
    fn partial(&self) -> Merge;
    /// The state it keeps, if any.
    fn state(&self, _g: &Gen, _n: NodeId) -> Option<Kept> {
        None
    }
    /// The driver step over the partials of node `n`: an `Option` of its output.
    fn merge(&self, g: &mut Gen, n: NodeId) -> TokenStream;
}

/// An operator over whole materialized batches, on the driver.
pub trait Batch: Sync {
    /// The state it keeps, if any.
    fn state(&self, _g: &Gen, _n: NodeId) -> Option<Kept> {
        None
    }
    /// Whether its output partitions are shared (so consumers read them by reference).
    fn shares_output(&self) -> bool {
        false
    }
    /// The driver step producing node `n`'s output: an `Option` of its partitions.
    fn driver(&self, g: &mut Gen, n: NodeId) -> TokenStream;
}

/// An output operator.
pub trait Output: Sync {
    /// What it sets up before the job (handles, writers).
    fn setup(&self, _g: &Gen, _o: NodeId) -> Option<TokenStream> {
        None
    }
    /// What it does at a batch where its stream has output.
    fn run(&self, g: &mut Gen, o: NodeId) -> TokenStream;
    /// What it contributes to the block's value.
    fn value(&self, _o: NodeId) -> TokenStream {
        quote::quote!(())
    }
}

/// The operator named `name`.
pub fn op(name: &str) -> Option<Op> {
    Op::ALL.iter().copied().find(|op| op.def().name == name)
}

/// The names of every operator.
pub fn names() -> impl Iterator<Item = &'static str> {
    Op::ALL.iter().map(|op| op.def().name)
}

/// "no arguments", "1 argument (a function)", "2 arguments (the prefix, the suffix)".
pub fn describe_args(args: &[&str]) -> String {
    match args.len() {
        0 => "no arguments".to_string(),
        1 => format!("1 argument ({})", args[0]),
        n => format!("{n} arguments ({})", args.join(", ")),
    }
}

/// Argument descriptions shared by several operators.
pub mod args {
    use super::Arg::{self, Func, Value};

    /// A window's length.
    pub const LEN: (Arg, &str) = (Value, "the window length (a Duration)");
    /// A window's slide.
    pub const SLIDE: (Arg, &str) = (Value, "the slide (a Duration)");
    /// A reduce function.
    pub const REDUCE: (Arg, &str) = (Func, "a reduce function `|a, b| ...`");
    /// An inverse reduce function.
    pub const INV: (Arg, &str) = (Func, "the inverse function `|a, b| ...`");
    /// An optional filter of a window's keys.
    pub const FILTER: (Arg, &str) = (Func, "an optional filter `|key, value| ...`");
    /// A state update function.
    pub const UPDATE: (Arg, &str) = (Func, "an update function `|values, state| ...`");
    /// An optional initial state.
    pub const INITIAL: (Arg, &str) = (Value, "an optional initial state, a Vec of (key, state)");
    /// The other input of a join.
    pub const OTHER_KEYED: (Arg, &str) = (Arg::Stream, "the other keyed stream");
    /// An ARIMA model's specification.
    pub const ARIMA_SPEC: (Arg, &str) = (Value, "an ArimaSpec");
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_unique_and_snake_case() {
        let mut names: Vec<&str> = names().collect();
        let n = names.len();
        names.sort();
        names.dedup();
        assert_eq!(names.len(), n);
        assert!(
            names
                .iter()
                .all(|n| n.chars().all(|c| c.is_ascii_lowercase() || c == '_'))
        );
    }

    #[test]
    fn every_op_is_found_by_its_name() {
        for &o in Op::ALL {
            assert_eq!(op(o.def().name), Some(o));
        }
        assert_eq!(Op::Join.def().name, "join");
        assert_eq!(op("flat_map").map(|o| o.def().class()), Some(Class::Narrow));
        assert_eq!(describe_args(&["a", "b"]), "2 arguments (a, b)");
    }

    #[test]
    fn arguments_are_consistent() {
        for &o in Op::ALL {
            let d = o.def();
            assert!(d.min_args <= d.args.len(), "{}", d.name);
            let values = d.value_args().count();
            if let Some((l, s)) = d.window {
                assert!(l < values && s < values, "{}", d.name);
            }
            for (_, i) in d.state_args {
                assert!(*i < values, "{}", d.name);
            }
            if let Role::Shuffle(s) = d.role {
                check_map_side(d, s.map_side());
            }
            if let Role::KeyedState(s) = d.role {
                check_map_side(d, s.map_side());
            }
            if let Role::Global(g) = d.role {
                check_merge(d, g.partial());
            }
        }
    }

    fn check_map_side(d: &OpDef, m: MapSide) {
        match m {
            MapSide::Pairs => {}
            MapSide::Combine(merge) => check_merge(d, merge),
            MapSide::RoundRobin(i) => assert_eq!(d.value_args().nth(i), Some(Arg::Value)),
        }
    }

    fn check_merge(d: &OpDef, m: Merge) {
        match m {
            Merge::Count => {}
            Merge::Reduce(i) => assert_eq!(d.value_args().nth(i), Some(Arg::Func), "{}", d.name),
        }
    }
}
