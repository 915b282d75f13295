use crate::common::*;
use rill::prelude::*;

fn input() -> Vec<Vec<(&'static str, i32)>> {
    vec![
        vec![("a", 1), ("a", 3)],
        vec![("a", 2), ("b", 1)],
        vec![("b", 1)],
        vec![],
        vec![],
        vec![("a", 1)],
    ]
}

#[test]
fn keys_leave_and_return_to_the_window() {
    let got = both(|p| {
        let ctx = ctx(p);
        let out = stream! { ctx;
            queue_stream(input()).reduce_by_key_and_window(|a, b| a + b, secs(2), secs(1)).collect()
        };
        run(&ctx, 6, &out)
    });
    assert_eq!(
        got,
        vec![
            vec![(s("a"), 4)],
            vec![(s("a"), 6), (s("b"), 1)],
            vec![(s("a"), 2), (s("b"), 2)],
            vec![(s("b"), 1)],
            vec![],
            vec![(s("a"), 1)],
        ]
    );
}

#[test]
fn slide_larger_than_the_interval() {
    let got = both(|p| {
        let ctx = ctx(p);
        let out = stream! { ctx;
            queue_stream(input()).reduce_by_key_and_window(|a, b| a + b, secs(4), secs(2)).collect()
        };
        run_windowed(&ctx, 6, &out)
    });
    // Windows (0,2], (0,4], (2,6].
    assert_eq!(
        got,
        vec![
            vec![(s("a"), 6), (s("b"), 1)],
            vec![(s("a"), 6), (s("b"), 2)],
            vec![(s("a"), 1), (s("b"), 1)]
        ]
    );
}

#[test]
fn word_count_over_a_window_after_a_fused_chain() {
    let ctx = ctx(2);
    let out = stream! { ctx;
        let lines = queue_stream(vec![vec!["a b"], vec!["b c"], vec!["c"]]);
        lines
            .flat_map(|l| l.split(' '))
            .map(|w| (w, 1u64))
            .reduce_by_key_and_window(|a, b| a + b, secs(2), secs(1))
            .filter(|(_, n)| *n > 1)
            .collect()
    };
    assert_eq!(
        sorted(run(&ctx, 3, &out)),
        vec![vec![], vec![(s("b"), 2)], vec![(s("c"), 2)]]
    );
}
