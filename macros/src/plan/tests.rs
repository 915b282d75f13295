//! Planner tests, without macro expansion.

use super::*;
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
    assert_eq!(
        p.steps,
        vec![
            Step::Source(1),
            Step::Output(2),
            Step::Source(0),
            Step::Output(3)
        ]
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
        all.contains("`queue_stream` is a source, not an operator"),
        "{all}"
    );
    assert!(all.contains("`map` is an operator, not a source"), "{all}");
    assert!(all.contains("this stream is never used"), "{all}");
    assert!(
        all.contains("unknown source `qeue_stream`; did you mean `queue_stream`?"),
        "{all}"
    );
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
