use crate::common::*;
use rill::prelude::*;

#[test]
fn zero_counts_vanish() {
    let got = both(|p| {
        let ctx = ctx(p);
        let out = stream! { ctx;
            queue_stream(vec![vec!["a", "a"], vec!["b"], vec![], vec![]]).count_by_value_and_window(secs(2), secs(1)).collect()
        };
        run(&ctx, 4, &out)
    });
    assert_eq!(
        got,
        vec![
            vec![(s("a"), 2u64)],
            vec![(s("a"), 2), (s("b"), 1)],
            vec![(s("b"), 1)],
            vec![]
        ]
    );
}
