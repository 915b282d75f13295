use crate::common::*;
use rill::prelude::*;

#[test]
fn one_count_per_batch_and_zero_for_an_empty_batch() {
    let got = both(|p| {
        let ctx = ctx(p);
        let out = stream! { ctx;
            let nums = queue_stream(vec![vec![1, 2, 3], vec![], vec![4]]);
            nums.count().collect()
        };
        run(&ctx, 4, &out)
    });
    assert_eq!(got, vec![vec![3u64], vec![0], vec![1], vec![0]]);
}

#[test]
fn counts_after_a_fused_chain() {
    let ctx = ctx(3);
    let out = stream! { ctx;
        let lines = queue_stream(vec![vec!["a b c", "d"]]);
        lines.flat_map(|l| l.split(' ')).filter(|w| *w != "d").count().collect()
    };
    assert_eq!(run(&ctx, 1, &out), vec![vec![3]]);
}
