use crate::common::*;
use rill::prelude::*;

/// Spark's BasicOperationsSuite "mapPartitions": the sum of each of two partitions.
#[test]
fn sparks_map_partitions() {
    let ctx = ctx(2);
    let out = stream! { ctx;
        queue_stream(vec![(1..=4).collect::<Vec<i32>>(), (5..=8).collect(), (9..=12).collect()])
            .map_partitions(|it| std::iter::once(it.sum::<i32>()))
            .collect()
    };
    assert_eq!(
        run(&ctx, 3, &out),
        vec![vec![3, 7], vec![11, 15], vec![19, 23]]
    );
}

#[test]
fn returns_any_iterable_and_feeds_a_shuffle() {
    let got = both(|p| {
        let ctx = ctx(p);
        let out = stream! { ctx;
            queue_stream(vec![vec!["a b", "b"], vec![]])
                .map_partitions(|lines| lines.flat_map(|l| l.split(' ')).map(|w| (w, 1u32)).collect::<Vec<_>>())
                .reduce_by_key(|a, b| a + b)
                .collect()
        };
        sorted(run(&ctx, 2, &out))
    });
    assert_eq!(
        got,
        vec![vec![("a".to_string(), 1), ("b".to_string(), 2)], vec![]]
    );
}
