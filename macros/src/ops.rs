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
}

use Arg::*;
use Class::*;

/// The operator table.
pub static OPS: &[OpSpec] = &[
    OpSpec {
        name: "map",
        op: Op::Map,
        args: &[(Func, "a function of the record")],
        class: Narrow,
    },
    OpSpec {
        name: "flat_map",
        op: Op::FlatMap,
        args: &[(Func, "a function from `&record` to an iterable")],
        class: Narrow,
    },
    OpSpec {
        name: "filter",
        op: Op::Filter,
        args: &[(Func, "a predicate on `&record`")],
        class: Narrow,
    },
    OpSpec {
        name: "map_values",
        op: Op::MapValues,
        args: &[(Func, "a function of the value")],
        class: Narrow,
    },
    OpSpec {
        name: "flat_map_values",
        op: Op::FlatMapValues,
        args: &[(Func, "a function from `&value` to an iterable")],
        class: Narrow,
    },
    OpSpec {
        name: "reduce_by_key",
        op: Op::ReduceByKey,
        args: &[(Func, "a reduce function `|a, b| ...`")],
        class: Shuffle,
    },
    OpSpec {
        name: "count_by_value",
        op: Op::CountByValue,
        args: &[],
        class: Shuffle,
    },
    OpSpec {
        name: "group_by_key",
        op: Op::GroupByKey,
        args: &[],
        class: Shuffle,
    },
    OpSpec {
        name: "join",
        op: Op::Join,
        args: &[(Stream, "the other keyed stream")],
        class: Shuffle,
    },
    OpSpec {
        name: "left_outer_join",
        op: Op::LeftOuterJoin,
        args: &[(Stream, "the other keyed stream")],
        class: Shuffle,
    },
    OpSpec {
        name: "right_outer_join",
        op: Op::RightOuterJoin,
        args: &[(Stream, "the other keyed stream")],
        class: Shuffle,
    },
    OpSpec {
        name: "full_outer_join",
        op: Op::FullOuterJoin,
        args: &[(Stream, "the other keyed stream")],
        class: Shuffle,
    },
    OpSpec {
        name: "cogroup",
        op: Op::Cogroup,
        args: &[(Stream, "the other keyed stream")],
        class: Shuffle,
    },
    OpSpec {
        name: "repartition",
        op: Op::Repartition,
        args: &[(Value, "the number of partitions")],
        class: Shuffle,
    },
    OpSpec {
        name: "count",
        op: Op::Count,
        args: &[],
        class: Global,
    },
    OpSpec {
        name: "reduce",
        op: Op::Reduce,
        args: &[(Func, "a reduce function `|a, b| ...`")],
        class: Global,
    },
    OpSpec {
        name: "union",
        op: Op::Union,
        args: &[(Stream, "the other stream")],
        class: Batch,
    },
    OpSpec {
        name: "transform",
        op: Op::Transform,
        args: &[(
            Func,
            "a function of the batch's records (and optionally the time first)",
        )],
        class: Batch,
    },
    OpSpec {
        name: "print",
        op: Op::Print,
        args: &[],
        class: Output,
    },
    OpSpec {
        name: "print_n",
        op: Op::PrintN,
        args: &[(Value, "the number of records to print")],
        class: Output,
    },
    OpSpec {
        name: "save_as_text_files",
        op: Op::SaveAsTextFiles,
        args: &[(Value, "the prefix"), (Value, "the suffix")],
        class: Output,
    },
    OpSpec {
        name: "for_each_batch",
        op: Op::ForEachBatch,
        args: &[(Func, "a function `|time, records| ...`")],
        class: Output,
    },
    OpSpec {
        name: "collect",
        op: Op::Collect,
        args: &[],
        class: Output,
    },
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
