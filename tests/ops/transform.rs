use crate::common::*;
use rill::prelude::*;

#[test]
fn applies_a_function_to_the_whole_batch() {
    let ctx = ctx(3);
    let out = stream! { ctx;
        let nums = queue_stream(vec![vec![3, 1, 2], vec![]]);
        nums.transform(|mut v: Vec<i32>| { v.sort(); v.reverse(); v }).collect()
    };
    assert_eq!(run(&ctx, 2, &out), vec![vec![3, 2, 1], vec![]]);
}

#[test]
fn the_two_argument_form_gets_the_batch_time() {
    let ctx = ctx(2);
    let out = stream! { ctx;
        let nums = queue_stream(vec![vec![1u64], vec![2]]);
        nums.transform(|t: Time, v: Vec<u64>| v.into_iter().map(move |x| x + t.millis())).collect()
    };
    assert_eq!(run(&ctx, 2, &out), vec![vec![1001], vec![2002]]);
}
