use crate::common::*;
use rill::prelude::*;

#[test]
fn one_pair_per_item_with_the_key_repeated() {
    let got = both(|p| {
        let ctx = ctx(p);
        let out = stream! { ctx;
            let pairs = queue_stream(vec![vec![("a", s("x,y")), ("b", s(""))], vec![("c", s("z"))]]);
            pairs.flat_map_values(|v| v.split(',').filter(|x| !x.is_empty()).map(str::to_owned).collect::<Vec<_>>()).collect()
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

#[test]
fn takes_values_by_value_as_spark() {
    // Spark's BasicOperationsSuite: flatMapValues(x => Seq(x, x + 10)).
    let got = both(|p| {
        let ctx = ctx(p);
        let out = stream! { ctx;
            queue_stream(vec![vec![("a", 1), ("b", 1)], vec![("", 2)], vec![]])
                .flat_map_values(|x| vec![x, x + 10])
                .collect()
        };
        run(&ctx, 3, &out)
    });
    assert_eq!(
        got,
        vec![
            vec![(s("a"), 1), (s("a"), 11), (s("b"), 1), (s("b"), 11)],
            vec![(s(""), 2), (s(""), 12)],
            vec![]
        ]
    );
}
