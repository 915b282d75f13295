use crate::common::*;
use rill::prelude::*;

#[test]
fn cumulative_value_of_every_key_every_batch() {
    let got = both(|p| {
        let ctx = ctx(p);
        let out = stream! { ctx;
            queue_stream(vec![vec![("a", 1), ("a", 2)], vec![("a", 3), ("b", 1)], vec![("a", 4)], vec![]])
                .running_reduce_by_key(|x, y| x + y)
                .collect()
        };
        run(&ctx, 4, &out)
    });
    assert_eq!(
        got,
        vec![
            vec![(s("a"), 3)],
            vec![(s("a"), 6), (s("b"), 1)],
            vec![(s("a"), 10), (s("b"), 1)],
            vec![(s("a"), 10), (s("b"), 1)],
        ]
    );
}
