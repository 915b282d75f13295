use crate::common::*;
use rill::prelude::*;

#[test]
fn reduces_the_window_or_yields_nothing() {
    let got = both(|p| {
        let ctx = ctx(p);
        let out = stream! { ctx;
            let xs = queue_stream(vec![vec![1], vec![2, 3], vec![], vec![4], vec![], vec![]]);
            xs.reduce_by_window(|a, b| a + b, secs(2), secs(1)).collect()
        };
        run(&ctx, 6, &out)
    });
    assert_eq!(
        got,
        vec![vec![1], vec![6], vec![5], vec![4], vec![4], vec![]]
    );
}

#[test]
fn keeps_time_order_for_a_non_commutative_function() {
    let ctx = ctx(3);
    let out = stream! { ctx;
        let xs = queue_stream(vec![vec![s("a")], vec![s("b"), s("c")], vec![s("d")]]);
        xs.reduce_by_window(|a, b| a + &b, secs(3), secs(3)).collect()
    };
    assert_eq!(run_windowed(&ctx, 3, &out), vec![vec![s("abcd")]]);
}
