use crate::common::*;
use rill::prelude::*;

#[test]
fn groups_both_sides_for_every_key() {
    let got = both(|p| {
        let ctx = ctx(p);
        let out = stream! { ctx;
            let l = queue_stream(vec![vec![("a", 1), ("a", 2), ("b", 3)], vec![]]);
            let r = queue_stream(vec![vec![("a", 'x'), ("c", 'y')], vec![]]);
            l.cogroup(r).map(|(k, (mut vs, ws))| { vs.sort(); (k, (vs, ws)) }).collect()
        };
        run(&ctx, 2, &out)
    });
    assert_eq!(
        got,
        vec![
            vec![
                (s("a"), (vec![1, 2], vec!['x'])),
                (s("b"), (vec![3], vec![])),
                (s("c"), (vec![], vec!['y']))
            ],
            vec![]
        ]
    );
}
