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
