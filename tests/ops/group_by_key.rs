use crate::common::*;
use rill::prelude::*;

#[test]
fn groups_values_per_key() {
    let got = both(|p| {
        let ctx = ctx(p);
        let out = stream! { ctx;
            let pairs = queue_stream(vec![vec![("a", 1), ("b", 2), ("a", 3)], vec![]]);
            pairs.group_by_key().map(|(k, mut vs)| { vs.sort(); (k, vs) }).collect()
        };
        run(&ctx, 2, &out)
    });
    assert_eq!(
        got,
        vec![vec![(s("a"), vec![1, 3]), (s("b"), vec![2])], vec![]]
    );
}
