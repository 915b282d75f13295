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
