use crate::common::*;
use rill::prelude::*;

/// Spark's `StreamingContext.transform(Seq(s1, s2), ...)`: one function over the batches
/// of several streams, one `Vec` each in the order given.
#[test]
fn a_function_over_the_batches_of_several_streams() {
    let got = both(|p| {
        let ctx = ctx(p);
        let out = stream! { ctx;
            let a = queue_stream(vec![vec![1u32, 2], vec![3]]);
            let b = queue_stream(vec![vec![10u32], vec![]]);
            let c = queue_stream(vec![vec![100u32], vec![200, 300]]);
            transform([a, b, c], |batches: Vec<Vec<u32>>| {
                batches.into_iter().map(|b| b.iter().sum::<u32>()).collect::<Vec<_>>()
            })
            .collect()
        };
        run(&ctx, 2, &out)
    });
    assert_eq!(got, vec![vec![3, 10, 100], vec![0, 3, 500]]);
}

#[test]
fn the_two_argument_form_gets_the_batch_time_and_keeps_the_order() {
    let ctx = ctx(1);
    let out = stream! { ctx;
        let a = queue_stream(vec![vec!["x"]]);
        let b = queue_stream(vec![vec!["y"]]);
        transform([b, a], |t: Time, batches: Vec<Vec<&str>>| {
            vec![format!("{} {}", t.millis(), batches.concat().join(""))]
        })
        .collect()
    };
    assert_eq!(run(&ctx, 1, &out), vec![vec!["1000 yx".to_string()]]);
}
