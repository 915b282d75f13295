use crate::common::*;
use rill::prelude::*;

/// Spark's BasicOperationsSuite "transformWith": a join of two batches written by hand.
#[test]
fn sparks_transform_with() {
    let got = both(|p| {
        let ctx = ctx(p);
        let out = stream! { ctx;
            let t1 = queue_stream(vec![vec!["a", "b"], vec!["a", ""], vec![""], vec![]]).map(|x| (x, 1));
            let t2 = queue_stream(vec![vec!["a", "b"], vec!["b", ""], vec![], vec![""]]).map(|x| (x, "x"));
            t1.transform_with(t2, |a: Vec<(&str, i32)>, b: Vec<(&str, &str)>| {
                a.into_iter()
                    .flat_map(|(k, v)| b.iter().filter(move |(k2, _)| *k2 == k).map(move |(_, w)| (k, (v, *w))).collect::<Vec<_>>())
                    .collect::<Vec<_>>()
            })
            .collect()
        };
        run(&ctx, 4, &out)
    });
    assert_eq!(
        got,
        vec![
            vec![(s("a"), (1, s("x"))), (s("b"), (1, s("x")))],
            vec![(s(""), (1, s("x")))],
            vec![],
            vec![]
        ]
    );
}

#[test]
fn the_three_argument_form_gets_the_batch_time() {
    let ctx = ctx(2);
    let out = stream! { ctx;
        let a = queue_stream(vec![vec![1u64], vec![2]]);
        let b = queue_stream(vec![vec![10u64], vec![]]);
        a.transform_with(b, |t: Time, a: Vec<u64>, b: Vec<u64>| vec![t.millis() + a.iter().sum::<u64>() + b.iter().sum::<u64>()])
            .collect()
    };
    assert_eq!(run(&ctx, 2, &out), vec![vec![1011], vec![2002]]);
}
