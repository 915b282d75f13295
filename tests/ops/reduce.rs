use crate::common::*;
use rill::prelude::*;

#[test]
fn reduces_a_batch_or_yields_nothing() {
    let got = both(|p| {
        let ctx = ctx(p);
        let out = stream! { ctx;
            let nums = queue_stream(vec![vec![1, 2, 3], vec![], vec![4]]);
            nums.reduce(|a, b| a + b).collect()
        };
        run(&ctx, 3, &out)
    });
    assert_eq!(got, vec![vec![6], vec![], vec![4]]);
}

#[test]
fn reduce_then_map() {
    let ctx = ctx(2);
    let out = stream! { ctx;
        let words = queue_stream(vec![vec![s("bb"), s("a"), s("ccc")]]);
        words.reduce(|a, b| if b.len() > a.len() { b } else { a }).map(|w| w.len()).collect()
    };
    assert_eq!(run(&ctx, 1, &out), vec![vec![3usize]]);
}
