use crate::common::*;
use rill::prelude::*;

#[test]
fn maps_values_keeps_keys() {
    let got = both(|p| {
        let ctx = ctx(p);
        let out = stream! { ctx;
            let pairs = queue_stream(vec![vec![("a", 1), ("b", 2)], vec![]]);
            pairs.map_values(|v| v * 100).collect()
        };
        run(&ctx, 2, &out)
    });
    assert_eq!(got, vec![vec![(s("a"), 100), (s("b"), 200)], vec![]]);
}
