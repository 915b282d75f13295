use crate::common::*;
use rill::prelude::*;

fn job(p: usize) -> Vec<Vec<u8>> {
    let ctx = ctx(p);
    let out = stream! { ctx;
        let a = queue_stream(vec![vec![1u8, 2], vec![3], vec![]]);
        let b = queue_stream(vec![vec![10u8], vec![], vec![]]);
        a.union(b).collect()
    };
    run(&ctx, 3, &out)
}

#[test]
fn first_stream_then_second() {
    let expected = vec![vec![1, 2, 10], vec![3], vec![]];
    assert_eq!(job(1), expected);
    assert_eq!(job(4), expected);
}

#[test]
fn union_with_itself_and_a_chain() {
    let ctx = ctx(2);
    let out = stream! { ctx;
        let a = queue_stream(vec![vec![1u8, 2]]);
        a.union(a.map(|x| x * 2)).union(a).collect()
    };
    assert_eq!(run(&ctx, 1, &out), vec![vec![1, 2, 2, 4, 1, 2]]);
}

/// Spark's `StreamingContext.union(Seq(s1, s2, s3))`: every stream's records, in
/// argument order.
#[test]
fn union_of_several_streams_at_the_context_level() {
    let ctx = ctx(1);
    let out = stream! { ctx;
        let a = queue_stream(vec![vec![1], vec![2]]);
        let b = queue_stream(vec![vec![10], vec![]]);
        let c = queue_stream(vec![vec![100, 101], vec![200]]);
        union(a, b, c.map(|x| x + 1)).collect()
    };
    assert_eq!(
        run(&ctx, 2, &out),
        vec![vec![1, 10, 101, 102], vec![2, 201]]
    );
}
