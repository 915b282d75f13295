use crate::common::*;
use rill::prelude::*;

#[test]
fn counts_each_distinct_record() {
    let got = both(|p| {
        let ctx = ctx(p);
        let out = stream! { ctx;
            let words = queue_stream(vec![vec!["a", "b", "a", "c", "a"], vec![], vec!["b"]]);
            words.count_by_value().collect()
        };
        run(&ctx, 3, &out)
    });
    assert_eq!(
        got,
        vec![
            vec![(s("a"), 3u64), (s("b"), 1), (s("c"), 1)],
            vec![],
            vec![(s("b"), 1)]
        ]
    );
}

#[test]
fn counts_tuples_after_a_chain() {
    let ctx = ctx(2);
    let out = stream! { ctx;
        let nums = queue_stream(vec![vec![1u32, 2, 3, 4, 5]]);
        nums.map(|x| (x % 2, x > 2)).count_by_value().collect()
    };
    assert_eq!(
        sorted(run(&ctx, 1, &out)),
        vec![vec![
            ((0, false), 1),
            ((0, true), 1),
            ((1, false), 1),
            ((1, true), 2)
        ]]
    );
}
