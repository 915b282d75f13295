//! Planner tests, without macro expansion.

use super::*;
use crate::ops::Merge;
use crate::parse::Pipeline;

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
    let order: Vec<(&str, NodeId)> = p
        .steps
        .iter()
        .map(|s| match s {
            Step::Source(n) => ("source", *n),
            Step::Output(at) => ("output", at.node),
            _ => ("other", 0),
        })
        .collect();
    assert_eq!(
        order,
        vec![("source", 1), ("output", 2), ("source", 0), ("output", 3)]
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
        all.contains("unknown operator `queue_stream`; if `queue_stream` is a source"),
        "{all}"
    );
    assert!(all.contains("`map` is an operator, not a source"), "{all}");
    assert!(all.contains("this stream is never used"), "{all}");
    // A source's name is checked by the compiler: `qeue_stream` resolves in
    // `rill::source`, where rustc suggests `queue_stream`.
    assert!(!all.contains("qeue_stream"), "{all}");
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

#[test]
fn literal_windows_are_checked_at_compile_time() {
    let errs = plan_of(quote::quote! { StreamingContext::manual(Duration::from_secs(1));
        let a = queue_stream(vec![vec![1]]);
        a.window(Duration::from_millis(1500), Duration::from_secs(1)).print();
        a.count_by_window(Duration::from_secs(0), Duration::from_secs(1)).print();
        a.window(Duration::from_secs(4), Duration::from_secs(2)).window(Duration::from_secs(3), Duration::from_secs(2)).print();
        a.window(len, slide).print();
    })
    .err()
    .expect("errors");
    assert_eq!(
        errs,
        vec![
            "must be a multiple of the stream's interval (1000 ms), not 1500 ms",
            "a window length or slide must be positive",
            "must be a multiple of the stream's interval (2000 ms), not 3000 ms",
        ]
    );
}

fn canonical(tokens: proc_macro2::TokenStream) -> String {
    plan_of(tokens).unwrap().canonical()
}

#[test]
fn the_canonical_form_lists_operators_inputs_and_literal_windows() {
    let text = canonical(quote::quote! { ctx;
        let lines = queue_stream(vec![vec!["a b"]]);
        let words = lines.flat_map(|l| l.split(' ')).map(|w| (w, 1));
        let a = socket_listen_stream(addr);
        words.union(a.map(|l| (l, 1)))
            .reduce_by_key_and_window(|a, b| a + b, Duration::from_secs(30), Duration::from_millis(10_000))
            .print();
        words.sliding_by_key(5).count_by_window(len, Duration::from_secs(2)).collect()
    });
    assert_eq!(
        text,
        "rill-plan 1\n\
         0 queue_stream\n\
         1 flat_map <- 0\n\
         2 map <- 1\n\
         3 socket_listen_stream\n\
         4 map <- 3\n\
         5 union <- 2,4\n\
         6 reduce_by_key_and_window <- 5 len=30000ms slide=10000ms\n\
         7 print <- 6\n\
         8 sliding_by_key <- 2 n=5\n\
         9 count_by_window <- 8 len=? slide=2000ms\n\
         10 collect <- 9\n"
    );
}

#[test]
fn names_closures_and_formatting_leave_the_canonical_form_unchanged() {
    let base = canonical(quote::quote! { ctx;
        let lines = queue_stream(vec![vec!["a b"]]);
        let counts = lines.flat_map(|l| l.split(' ')).map(|w| (w, 1u64)).update_state_by_key(|n: Vec<u64>, s: Option<u64>| Some(s.unwrap_or(0) + n.iter().sum::<u64>()));
        counts.window(Duration::from_secs(4), Duration::from_secs(2)).print();
        counts.collect()
    });
    // Other stream names, closure bodies, source data, a duration written otherwise,
    // another output option and layout: the same graph.
    let renamed = canonical(quote::quote! { ctx, unfused;
        let input = queue_stream(vec![vec!["x y z"], vec!["w"]]);
        let totals = input
            .flat_map(|line| line.split_whitespace())
            .map(|word| (word, 2u64))
            .update_state_by_key(|new: Vec<u64>, old: Option<u64>| old.map(|o| o + new.len() as u64));
        totals.window(Duration::from_millis(4000), Duration::from_millis(2000)).print();
        totals.collect()
    });
    assert_eq!(base, renamed);
}

#[test]
fn a_new_operator_or_another_literal_window_changes_the_canonical_form() {
    let base = canonical(quote::quote! { ctx;
        let lines = queue_stream(vec![vec!["a b"]]);
        lines.map(|w| (w, 1)).reduce_by_key_and_window(|a, b| a + b, Duration::from_secs(4), Duration::from_secs(2)).print();
    });
    let with_filter = canonical(quote::quote! { ctx;
        let lines = queue_stream(vec![vec!["a b"]]);
        lines.filter(|l| !l.is_empty()).map(|w| (w, 1)).reduce_by_key_and_window(|a, b| a + b, Duration::from_secs(4), Duration::from_secs(2)).print();
    });
    let longer = canonical(quote::quote! { ctx;
        let lines = queue_stream(vec![vec!["a b"]]);
        lines.map(|w| (w, 1)).reduce_by_key_and_window(|a, b| a + b, Duration::from_secs(6), Duration::from_secs(2)).print();
    });
    let other_slide = canonical(quote::quote! { ctx;
        let lines = queue_stream(vec![vec!["a b"]]);
        lines.map(|w| (w, 1)).reduce_by_key_and_window(|a, b| a + b, Duration::from_secs(4), Duration::from_secs(4)).print();
    });
    let other_source = canonical(quote::quote! { ctx;
        let lines = text_file_stream("in");
        lines.map(|w| (w, 1)).reduce_by_key_and_window(|a, b| a + b, Duration::from_secs(4), Duration::from_secs(2)).print();
    });
    for other in [&with_filter, &longer, &other_slide, &other_source] {
        assert_ne!(&base, other);
    }
}

fn stage_writing(p: &Plan, op: NodeId) -> &Stage {
    stages(p)
        .into_iter()
        .find(|s| matches!(s.sink, Sink::ShuffleWrite(n, ..) if n == op))
        .expect("a stage writes the shuffle")
}

fn write_of(s: &Stage) -> Write {
    match s.sink {
        Sink::ShuffleWrite(_, _, w) => w,
        other => panic!("not a shuffle write: {other:?}"),
    }
}

#[test]
fn word_count_reads_lines_by_reference_and_keeps_borrowed_words_as_keys() {
    let p = plan_of(quote::quote! { ctx;
        let lines = queue_stream(vec![vec!["a b"]]);
        lines.flat_map(|l| l.split(' ')).map(|w| (w, 1)).reduce_by_key(|a, b| a + b).print();
    })
    .unwrap();
    let st = stage_writing(&p, 3);
    assert_eq!(st.mode, Mode::Ref, "flat_map borrows from the line");
    assert!(!st.boxed);
    assert_eq!(
        write_of(st),
        Write::Combine(Combine {
            merge: Merge::Reduce(0),
            keys: Keys::AsIs,
            boxed: false
        })
    );
    let text = p.explain();
    assert!(
        text.contains(
            "flat_map -> map => reduce_by_key (map-side combine, write shuffle)\n    records by reference, keys as they are\n"
        ),
        "{text}"
    );
    let read = &stages(&p)[1];
    assert_eq!(
        read.mode,
        Mode::Owned,
        "a shuffle's read side makes records"
    );
    assert!(
        text.contains("=> materialize reduce_by_key\n    records by value\n"),
        "{text}"
    );
}

#[test]
fn words_borrowed_from_a_record_made_in_the_loop_become_owned_keys() {
    let p = plan_of(quote::quote! { ctx;
        let lines = queue_stream(vec![vec!["a b"]]);
        lines.map(|l| l.to_uppercase()).flat_map(|l| l.split(' ')).map(|w| (w.to_string(), 1)).reduce_by_key(|a, b| a + b).print();
    })
    .unwrap();
    let st = stage_writing(&p, 4);
    assert_eq!(st.mode, Mode::Owned, "map takes the line by value");
    assert!(matches!(
        write_of(st),
        Write::Combine(Combine {
            keys: Keys::Owned,
            ..
        })
    ));
    assert!(p.explain().contains("records by value, keys made owned"));
}

#[test]
fn a_filter_passes_the_record_on_and_a_shared_or_windowed_input_is_read_by_reference() {
    let p = plan_of(quote::quote! { ctx;
        let lines = queue_stream(vec![vec!["a b"]]);
        lines.filter(|l| !l.is_empty()).flat_map(|l| l.split(' ')).count().print();
        let nums = queue_stream(vec![vec![1]]);
        nums.map(|x| x + 1).print();
        nums.map(|x| x * 2).print();
        nums.window(Duration::from_secs(2), Duration::from_secs(1)).map(|x| x + 1).print();
    })
    .unwrap();
    let modes: Vec<(Vec<NodeId>, Mode)> = stages(&p)
        .iter()
        .map(|s| (s.chain.iter().map(|at| at.node).collect(), s.mode))
        .collect();
    assert_eq!(
        modes,
        vec![
            (vec![1, 2], Mode::Ref),
            (vec![6], Mode::Ref),
            (vec![8], Mode::Ref),
            (vec![11], Mode::Ref),
        ]
    );
}

#[test]
fn unfused_stages_box_their_operators_and_the_reduce_function() {
    let p = plan_of(quote::quote! { ctx, unfused;
        let lines = queue_stream(vec![vec!["a b"]]);
        let words = lines.flat_map(|l| l.split(' ')).map(|w| (w, 1));
        words.reduce_by_key(|a, b| a + b).print();
        lines.count_by_value().print();
    })
    .unwrap();
    assert!(
        stages(&p)
            .iter()
            .filter(|s| !s.chain.is_empty())
            .all(|s| s.boxed)
    );
    assert_eq!(
        write_of(stage_writing(&p, 3)),
        Write::Combine(Combine {
            merge: Merge::Reduce(0),
            keys: Keys::AsIs,
            boxed: true
        })
    );
    assert_eq!(
        write_of(stage_writing(&p, 5)),
        Write::Combine(Combine {
            merge: Merge::Count,
            keys: Keys::AsIs,
            boxed: false
        }),
        "counting needs no function"
    );
    let text = p.explain();
    assert!(
        text.contains("=> materialize flat_map\n    records by reference, operators boxed\n"),
        "{text}"
    );
    assert!(
        text.contains("records by value, keys as they are, reduce boxed"),
        "{text}"
    );
}

#[test]
fn repartition_writes_round_robin_into_its_argument_partitions() {
    let p = plan_of(quote::quote! { ctx;
        let nums = queue_stream(vec![vec![1]]);
        nums.map(|x| x + 1).repartition(3).collect()
    })
    .unwrap();
    assert_eq!(write_of(stage_writing(&p, 2)), Write::RoundRobin(0));
    assert!(
        p.steps
            .contains(&Step::Exchange(2, 0, Partitions::Value(0)))
    );
}

#[test]
fn a_keyed_state_is_stepped_as_the_stage_reading_its_shuffle() {
    let p = plan_of(quote::quote! { ctx;
        let words = queue_stream(vec![vec!["a"]]).map(|w| (w, 1u64));
        words.reduce_by_key_and_window(|a, b| a + b, Duration::from_secs(2), Duration::from_secs(1)).print();
        words.update_state_by_key(|vs: Vec<u64>, s: Option<u64>| s).print();
    })
    .unwrap();
    let states: Vec<(usize, NodeId)> = p
        .steps
        .iter()
        .filter_map(|s| match s {
            Step::State(number, at) => Some((*number, at.node)),
            _ => None,
        })
        .collect();
    assert_eq!(states, vec![(3, 2), (5, 4)]);
    assert!(matches!(
        write_of(stage_writing(&p, 2)),
        Write::Combine(Combine {
            merge: Merge::Reduce(0),
            ..
        })
    ));
    assert_eq!(write_of(stage_writing(&p, 4)), Write::Pairs);
    let text = p.explain();
    assert!(
        text.contains("pipeline (fused): 5 stages, 2 shuffles"),
        "{text}"
    );
    assert!(
        text.contains("map `words` => reduce_by_key_and_window (map-side combine, write shuffle)"),
        "{text}"
    );
    assert!(
        text.contains("stage 3: reduce_by_key_and_window (read shuffle) => materialize reduce_by_key_and_window\n"),
        "{text}"
    );
}

#[test]
fn the_graph_names_each_steps_operators_and_what_flows_between_them() {
    let p = plan_of(quote::quote! { ctx;
        let lines = queue_stream(vec![vec!["a b"]]);
        let counts = lines.flat_map(|l| l.split(' ')).map(|w| (w, 1)).reduce_by_key(|a, b| a + b);
        counts.count().print();
    })
    .unwrap();
    let g = p.graph();
    assert!(g.starts_with("{\"fused\":true,\"nodes\":[{\"id\":0,\"op\":\"queue_stream\",\"name\":\"lines\",\"inputs\":[]},"), "{g}");
    for step in [
        r#"{"kind":"source","stage":null,"ops":[0],"consumes":[],"produces":["n0"],"detail":""}"#,
        r#"{"kind":"stage","stage":1,"ops":[1,2,3],"consumes":["n0"],"produces":["w3.0"],"detail":"map-side combine, write shuffle"}"#,
        r#"{"kind":"shuffle","stage":null,"ops":[3],"consumes":["w3.0"],"produces":["x3.0"],"detail":"input 1"}"#,
        r#"{"kind":"stage","stage":2,"ops":[3,4],"consumes":["x3.0"],"produces":["p4"],"detail":"partial"}"#,
        r#"{"kind":"driver","stage":null,"ops":[4],"consumes":["p4"],"produces":["n4"],"detail":"merge partials"}"#,
        r#"{"kind":"output","stage":null,"ops":[5],"consumes":["n4"],"produces":[],"detail":""}"#,
    ] {
        assert!(g.contains(step), "{step} not in {g}");
    }
}
