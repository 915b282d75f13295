use crate::common::*;
use rill::prelude::*;

#[test]
fn one_pair_per_item_with_the_key_repeated() {
    let got = both(|p| {
        let ctx = ctx(p);
        let out = stream! { ctx;
            let pairs = queue_stream(vec![vec![("a", s("x,y")), ("b", s(""))], vec![("c", s("z"))]]);
            pairs.flat_map_values(|v| v.split(',').filter(|x| !x.is_empty())).collect()
        };
        run(&ctx, 2, &out)
    });
    assert_eq!(
        got,
        vec![
            vec![(s("a"), s("x")), (s("a"), s("y"))],
            vec![(s("c"), s("z"))]
        ]
    );
}
