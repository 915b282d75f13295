use crate::common::*;
use rill::prelude::*;

#[test]
fn the_last_w_values_per_updated_key() {
    let got = both(|p| {
        let ctx = ctx(p);
        let out = stream! { ctx;
            queue_stream(vec![vec![("a", 1), ("a", 2)], vec![("a", 3), ("b", 1)], vec![("a", 4)], vec![]])
                .sliding_by_key(3)
                .collect()
        };
        run(&ctx, 4, &out)
    });
    assert_eq!(
        got,
        vec![
            vec![(s("a"), vec![1, 2])],
            vec![(s("a"), vec![1, 2, 3]), (s("b"), vec![1])],
            vec![(s("a"), vec![2, 3, 4])],
            vec![],
        ]
    );
}
