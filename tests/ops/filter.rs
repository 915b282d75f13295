use crate::common::*;
use rill::prelude::*;

fn job(p: usize) -> Vec<Vec<i32>> {
    let ctx = ctx(p);
    let out = stream! { ctx;
        let nums = queue_stream(vec![vec![1, 2, 3, 4, 5, 6], vec![1, 3], vec![]]);
        nums.filter(|x| x % 2 == 0).collect()
    };
    run(&ctx, 3, &out)
}

#[test]
fn keeps_matching_records_in_order() {
    let expected = vec![vec![2, 4, 6], vec![], vec![]];
    assert_eq!(job(1), expected);
    assert_eq!(job(4), expected);
}

#[test]
fn captures_state_by_reference_without_move() {
    let stop: std::collections::HashSet<String> =
        ["the", "a"].iter().map(|w| w.to_string()).collect();
    let ctx = ctx(2);
    let out = stream! { ctx;
        let words = queue_stream(vec![vec!["the", "cat", "a", "hat"]]);
        words.filter(move |w| !stop.contains(*w)).collect()
    };
    assert_eq!(run(&ctx, 1, &out), vec![vec![s("cat"), s("hat")]]);
}
