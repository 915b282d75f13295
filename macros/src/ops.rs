//! The operator table: every source and operator the `stream!` macro knows, with its
//! arguments and how it plans. Adding an operator starts with one entry here.

/// What an argument of an operator is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Arg {
    /// A function (a closure literal, a path, or a variable holding a closure).
    Func,
    /// Another stream (a name or a chain).
    Stream,
    /// A plain value (a number of partitions, a path prefix, ...).
    Value,
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

/// Every operator.
#[allow(missing_docs)]
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Op {
    Map,
    FlatMap,
    Filter,
    MapValues,
    FlatMapValues,
    ReduceByKey,
    CountByValue,
    GroupByKey,
    Join,
    LeftOuterJoin,
    RightOuterJoin,
    FullOuterJoin,
    Cogroup,
    Repartition,
    Count,
    Reduce,
    Union,
    Transform,
    Window,
    CountByWindow,
    ReduceByWindow,
    ReduceByKeyAndWindow,
    ReduceByKeyAndWindowInv,
    CountByValueAndWindow,
    UpdateStateByKey,
    MapWithState,
    StateSnapshots,
    SlidingByKey,
    RunningReduceByKey,
    ForecastArima,
    DetectAnomalies,
    Print,
    PrintN,
    SaveAsTextFiles,
    ForEachBatch,
    Collect,
}

/// One row of the operator table.
pub struct OpSpec {
    /// The name users write (Spark's name in snake_case).
    pub name: &'static str,
    /// Which operator.
    pub op: Op,
    /// Its arguments.
    pub args: &'static [(Arg, &'static str)],
    /// How it is planned.
    pub class: Class,
    /// How many of `args` are required (the rest are optional trailing arguments).
    pub min_args: usize,
    /// Whether it keeps state across batches (its output is always materialized).
    pub stateful: bool,
}

const fn entry(
    name: &'static str,
    op: Op,
    args: &'static [(Arg, &'static str)],
    class: Class,
) -> OpSpec {
    OpSpec {
        name,
        op,
        args,
        class,
        min_args: args.len(),
        stateful: false,
    }
}

const fn stateful(mut spec: OpSpec, min_args: usize) -> OpSpec {
    spec.stateful = true;
    spec.min_args = min_args;
    spec
}

const LEN: (Arg, &str) = (Value, "the window length (a Duration)");
const SLIDE: (Arg, &str) = (Value, "the slide (a Duration)");
const REDUCE: (Arg, &str) = (Func, "a reduce function `|a, b| ...`");
const INV: (Arg, &str) = (Func, "the inverse function `|a, b| ...`");
const FILTER: (Arg, &str) = (Func, "an optional filter `|key, value| ...`");
const UPDATE: (Arg, &str) = (Func, "an update function `|values, state| ...`");
const INITIAL: (Arg, &str) = (Value, "an optional initial state, a Vec of (key, state)");

use Arg::*;
use Class::*;

/// The operator table.
pub static OPS: &[OpSpec] = &[
    entry(
        "map",
        Op::Map,
        &[(Func, "a function of the record")],
        Narrow,
    ),
    entry(
        "flat_map",
        Op::FlatMap,
        &[(Func, "a function from `&record` to an iterable")],
        Narrow,
    ),
    entry(
        "filter",
        Op::Filter,
        &[(Func, "a predicate on `&record`")],
        Narrow,
    ),
    entry(
        "map_values",
        Op::MapValues,
        &[(Func, "a function of the value")],
        Narrow,
    ),
    entry(
        "flat_map_values",
        Op::FlatMapValues,
        &[(Func, "a function from `&value` to an iterable")],
        Narrow,
    ),
    entry(
        "reduce_by_key",
        Op::ReduceByKey,
        &[(Func, "a reduce function `|a, b| ...`")],
        Shuffle,
    ),
    entry("count_by_value", Op::CountByValue, &[], Shuffle),
    entry("group_by_key", Op::GroupByKey, &[], Shuffle),
    entry(
        "join",
        Op::Join,
        &[(Stream, "the other keyed stream")],
        Shuffle,
    ),
    entry(
        "left_outer_join",
        Op::LeftOuterJoin,
        &[(Stream, "the other keyed stream")],
        Shuffle,
    ),
    entry(
        "right_outer_join",
        Op::RightOuterJoin,
        &[(Stream, "the other keyed stream")],
        Shuffle,
    ),
    entry(
        "full_outer_join",
        Op::FullOuterJoin,
        &[(Stream, "the other keyed stream")],
        Shuffle,
    ),
    entry(
        "cogroup",
        Op::Cogroup,
        &[(Stream, "the other keyed stream")],
        Shuffle,
    ),
    entry(
        "repartition",
        Op::Repartition,
        &[(Value, "the number of partitions")],
        Shuffle,
    ),
    entry("count", Op::Count, &[], Global),
    entry(
        "reduce",
        Op::Reduce,
        &[(Func, "a reduce function `|a, b| ...`")],
        Global,
    ),
    entry("union", Op::Union, &[(Stream, "the other stream")], Batch),
    entry(
        "transform",
        Op::Transform,
        &[(
            Func,
            "a function of the batch's records (and optionally the time first)",
        )],
        Batch,
    ),
    stateful(entry("window", Op::Window, &[LEN, SLIDE], Batch), 1),
    stateful(
        entry("count_by_window", Op::CountByWindow, &[LEN, SLIDE], Global),
        2,
    ),
    stateful(
        entry(
            "reduce_by_window",
            Op::ReduceByWindow,
            &[REDUCE, LEN, SLIDE],
            Global,
        ),
        3,
    ),
    stateful(
        entry(
            "reduce_by_key_and_window",
            Op::ReduceByKeyAndWindow,
            &[REDUCE, LEN, SLIDE],
            Shuffle,
        ),
        3,
    ),
    stateful(
        entry(
            "reduce_by_key_and_window_inv",
            Op::ReduceByKeyAndWindowInv,
            &[REDUCE, INV, LEN, SLIDE, FILTER],
            Shuffle,
        ),
        4,
    ),
    stateful(
        entry(
            "count_by_value_and_window",
            Op::CountByValueAndWindow,
            &[LEN, SLIDE],
            Shuffle,
        ),
        2,
    ),
    stateful(
        entry(
            "update_state_by_key",
            Op::UpdateStateByKey,
            &[UPDATE, INITIAL],
            Shuffle,
        ),
        1,
    ),
    stateful(
        entry(
            "map_with_state",
            Op::MapWithState,
            &[(Value, "a StateSpec")],
            Shuffle,
        ),
        1,
    ),
    entry("state_snapshots", Op::StateSnapshots, &[], Batch),
    stateful(
        entry(
            "sliding_by_key",
            Op::SlidingByKey,
            &[(Value, "the number of values per key")],
            Shuffle,
        ),
        1,
    ),
    stateful(
        entry(
            "running_reduce_by_key",
            Op::RunningReduceByKey,
            &[REDUCE],
            Shuffle,
        ),
        1,
    ),
    stateful(
        entry(
            "forecast_arima",
            Op::ForecastArima,
            &[(Value, "an ArimaSpec"), SLIDE],
            Shuffle,
        ),
        2,
    ),
    stateful(
        entry(
            "detect_anomalies",
            Op::DetectAnomalies,
            &[(Value, "an ArimaSpec"), SLIDE],
            Shuffle,
        ),
        2,
    ),
    entry("print", Op::Print, &[], Output),
    entry(
        "print_n",
        Op::PrintN,
        &[(Value, "the number of records to print")],
        Output,
    ),
    entry(
        "save_as_text_files",
        Op::SaveAsTextFiles,
        &[(Value, "the prefix"), (Value, "the suffix")],
        Output,
    ),
    entry(
        "for_each_batch",
        Op::ForEachBatch,
        &[(Func, "a function `|time, records| ...`")],
        Output,
    ),
    entry("collect", Op::Collect, &[], Output),
];

/// Every source.
#[allow(missing_docs)]
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Source {
    Queue,
    SocketText,
    SocketListen,
    TextFile,
}

/// One row of the source table.
pub struct SourceSpec {
    /// The name users write.
    pub name: &'static str,
    /// Which source.
    pub source: Source,
    /// Its arguments, described for error messages.
    pub args: &'static [&'static str],
}

/// The source table.
pub static SOURCES: &[SourceSpec] = &[
    SourceSpec {
        name: "queue_stream",
        source: Source::Queue,
        args: &["a `Vec` of batches, each a `Vec` of records"],
    },
    SourceSpec {
        name: "socket_text_stream",
        source: Source::SocketText,
        args: &["the host", "the port"],
    },
    SourceSpec {
        name: "socket_listen_stream",
        source: Source::SocketListen,
        args: &["the address to listen on"],
    },
    SourceSpec {
        name: "text_file_stream",
        source: Source::TextFile,
        args: &["the directory"],
    },
];

/// The operator named `name`.
pub fn op(name: &str) -> Option<&'static OpSpec> {
    OPS.iter().find(|s| s.name == name)
}

/// The spec of `op`.
pub fn spec(op: Op) -> &'static OpSpec {
    OPS.iter()
        .find(|s| s.op == op)
        .expect("every operator has a table entry")
}

/// The source named `name`.
pub fn source(name: &str) -> Option<&'static SourceSpec> {
    SOURCES.iter().find(|s| s.name == name)
}

/// The name of a source.
pub fn source_name(source: Source) -> &'static str {
    SOURCES
        .iter()
        .find(|s| s.source == source)
        .map_or("source", |s| s.name)
}

/// "no arguments", "1 argument (a function)", "2 arguments (the prefix, the suffix)".
pub fn describe_args(args: &[&str]) -> String {
    match args.len() {
        0 => "no arguments".to_string(),
        1 => format!("1 argument ({})", args[0]),
        n => format!("{n} arguments ({})", args.join(", ")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_unique_and_snake_case() {
        let mut names: Vec<&str> = OPS
            .iter()
            .map(|s| s.name)
            .chain(SOURCES.iter().map(|s| s.name))
            .collect();
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
    fn every_op_has_one_entry() {
        assert_eq!(spec(Op::Join).name, "join");
        assert_eq!(op("flat_map").unwrap().class, Class::Narrow);
        assert_eq!(describe_args(&["a", "b"]), "2 arguments (a, b)");
    }
}
