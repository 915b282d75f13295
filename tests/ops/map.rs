use crate::common::*;
use rill::prelude::*;

fn job(p: usize) -> Vec<Vec<u64>> {
    let ctx = ctx(p);
    let factor = 10u64;
    let out = stream! { ctx;
        let nums = queue_stream(vec![vec![1u64, 2, 3], vec![], vec![4]]);
        nums.map(move |x| x * factor).collect()
    };
    run(&ctx, 3, &out)
}

#[test]
fn maps_every_record_in_order() {
    assert_eq!(job(1), vec![vec![10, 20, 30], vec![], vec![40]]);
    assert_eq!(
        job(4),
        vec![vec![10, 20, 30], vec![], vec![40]],
        "narrow operators keep order"
    );
}

#[test]
fn takes_records_by_value() {
    let ctx = ctx(2);
    let out = stream! { ctx;
        let lines = queue_stream(vec![vec![s("ab"), s("c")]]);
        lines.map(|l: String| l + "!").collect()
    };
    assert_eq!(run(&ctx, 1, &out), vec![vec![s("ab!"), s("c!")]]);
}

#[test]
fn accepts_a_function_path_and_a_closure_variable() {
    let ctx = ctx(2);
    let double = |x: u32| x * 2;
    let out = stream! { ctx;
        let words = queue_stream(vec![vec!["a", "bc"]]);
        let owned = words.map(str::to_owned);
        let lens = queue_stream(vec![vec![1u32, 2]]).map(double);
        (owned.collect(), lens.collect())
    };
    ctx.start().unwrap();
    ctx.advance(1).unwrap();
    assert_eq!(out.0.take(), vec![vec![s("a"), s("bc")]]);
    assert_eq!(out.1.take(), vec![vec![2, 4]]);
}
