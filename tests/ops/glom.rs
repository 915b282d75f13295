use crate::common::*;
use rill::prelude::*;

/// Spark's BasicOperationsSuite "glom": 1 to 12 in three batches of two partitions.
#[test]
fn sparks_glom() {
    let ctx = ctx(2);
    let out = stream! { ctx;
        queue_stream(vec![(1..=4).collect::<Vec<i32>>(), (5..=8).collect(), (9..=12).collect()])
            .glom()
            .collect()
    };
    assert_eq!(
        run(&ctx, 3, &out),
        vec![
            vec![vec![1, 2], vec![3, 4]],
            vec![vec![5, 6], vec![7, 8]],
            vec![vec![9, 10], vec![11, 12]],
        ]
    );
}

#[test]
fn an_empty_partition_is_an_empty_record_and_the_next_step_sees_the_groups() {
    let ctx = ctx(3);
    let out = stream! { ctx;
        queue_stream(vec![vec!["a", "b"]]).glom().map(|p: Vec<&str>| p.len()).collect()
    };
    let mut got = run(&ctx, 1, &out);
    got[0].sort();
    assert_eq!(got, vec![vec![0, 1, 1]]);
}
