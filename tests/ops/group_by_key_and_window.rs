use crate::common::*;
use rill::prelude::*;

/// Spark's WindowOperationsSuite "groupByKeyAndWindow": twelve batches, a 2 s window
/// sliding every second.
#[test]
fn sparks_group_by_key_and_window() {
    let input: Vec<Vec<(&str, i32)>> = vec![
        vec![("a", 1)],
        vec![("a", 1), ("b", 1)],
        vec![("a", 1), ("b", 1), ("c", 1)],
        vec![("a", 1), ("b", 1)],
        vec![("a", 1)],
        vec![],
        vec![("a", 1)],
        vec![("a", 1), ("b", 1)],
        vec![("a", 1), ("b", 1), ("c", 1)],
        vec![("a", 1), ("b", 1)],
        vec![("a", 1)],
        vec![],
    ];
    let got = both(|p| {
        let ctx = ctx(p);
        let input = input.clone();
        let out = stream! { ctx;
            queue_stream(input)
                .group_by_key_and_window(secs(2), secs(1))
                .map(|(k, mut vs)| { vs.sort(); (k, vs) })
                .collect()
        };
        run(&ctx, 12, &out)
    });
    // Spark compares each key's values as a set; these are the multisets.
    let a1 = (s("a"), vec![1]);
    let a2 = (s("a"), vec![1, 1]);
    let (b1, b2) = ((s("b"), vec![1]), (s("b"), vec![1, 1]));
    let c1 = (s("c"), vec![1]);
    let expected = vec![
        vec![a1.clone()],
        vec![a2.clone(), b1.clone()],
        vec![a2.clone(), b2.clone(), c1.clone()],
        vec![a2.clone(), b2.clone(), c1.clone()],
        vec![a2.clone(), b1.clone()],
        vec![a1.clone()],
        vec![a1.clone()],
        vec![a2.clone(), b1.clone()],
        vec![a2.clone(), b2.clone(), c1.clone()],
        vec![a2.clone(), b2, c1],
        vec![a2, b1],
        vec![a1],
    ];
    assert_eq!(got, expected);
}

#[test]
fn a_slide_of_two_batches_keeps_the_values_in_batch_order() {
    // Spark's "larger slide time" input: W = 4 s, S = 2 s fire at 2, 4, 6 and 8 s.
    let got = both(|p| {
        let ctx = ctx(p);
        let input: Vec<Vec<(&str, u32)>> = (1..=6)
            .map(|i| vec![("a", i)])
            .chain([vec![], vec![]])
            .collect();
        let out = stream! { ctx;
            queue_stream(input).group_by_key_and_window(secs(4), secs(2)).collect()
        };
        run_windowed(&ctx, 8, &out)
    });
    assert_eq!(
        got,
        vec![
            vec![(s("a"), vec![1, 2])],
            vec![(s("a"), vec![1, 2, 3, 4])],
            vec![(s("a"), vec![3, 4, 5, 6])],
            vec![(s("a"), vec![5, 6])],
        ]
    );
}

fn pairs() -> Vec<Vec<(&'static str, u8)>> {
    vec![vec![("a", 1)], vec![("b", 2)], vec![("a", 3)], vec![]]
}

#[test]
fn without_a_slide_it_slides_every_batch() {
    let got = both(|p| {
        let ctx = ctx(p);
        let out = stream! { ctx;
            queue_stream(pairs()).group_by_key_and_window(secs(2)).collect()
        };
        run(&ctx, 4, &out)
    });
    assert_eq!(
        got,
        vec![
            vec![(s("a"), vec![1])],
            vec![(s("a"), vec![1]), (s("b"), vec![2])],
            vec![(s("a"), vec![3]), (s("b"), vec![2])],
            vec![(s("a"), vec![3])],
        ]
    );
}

#[test]
fn without_a_slide_over_a_window_it_slides_with_that_window() {
    // The window fires every 2 s, so the grouping over 4 s does too: at 2 s and 4 s.
    let got = both(|p| {
        let ctx = ctx(p);
        let out = stream! { ctx;
            queue_stream(pairs()).window(secs(2), secs(2)).group_by_key_and_window(secs(4)).collect()
        };
        run_windowed(&ctx, 4, &out)
    });
    assert_eq!(
        got,
        vec![
            vec![(s("a"), vec![1]), (s("b"), vec![2])],
            vec![(s("a"), vec![1, 3]), (s("b"), vec![2])],
        ]
    );
}

#[test]
fn lengths_and_slides_that_are_not_multiples_fail_at_start() {
    let ctx = ctx(1);
    stream! { ctx;
        queue_stream(vec![vec![("a", 1)]]).group_by_key_and_window(secs(2), Duration::from_millis(1500)).print();
    };
    let e = ctx.start().unwrap_err().to_string();
    assert!(
        e.contains("group_by_key_and_window: the window length (2s) and slide (1.5s) must be multiples of the stream's interval"),
        "{e}"
    );
}
