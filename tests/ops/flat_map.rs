use crate::common::*;
use rill::prelude::*;

fn job(p: usize) -> Vec<Vec<String>> {
    let ctx = ctx(p);
    let out = stream! { ctx;
        let lines = queue_stream(vec![vec![s("a b"), s(""), s("c")], vec![], vec![s("d d")]]);
        lines.flat_map(|l| l.split(' ').filter(|w| !w.is_empty())).collect()
    };
    run(&ctx, 3, &out)
}

#[test]
fn yields_every_item_borrowing_from_the_record() {
    let expected = vec![vec![s("a"), s("b"), s("c")], vec![], vec![s("d"), s("d")]];
    assert_eq!(job(1), expected);
    assert_eq!(job(4), expected);
}

#[test]
fn any_into_iterator_works() {
    let ctx = ctx(3);
    let out = stream! { ctx;
        let n = queue_stream(vec![vec![1u32, 3]]);
        n.flat_map(|x| vec![*x; *x as usize]).collect()
    };
    assert_eq!(run(&ctx, 1, &out), vec![vec![1, 3, 3, 3]]);
}

#[test]
fn borrows_from_a_record_made_earlier_in_the_stage() {
    let ctx = ctx(2);
    let out = stream! { ctx;
        let lines = queue_stream(vec![vec!["A b", "C"]]);
        lines
            .map(|l| l.to_lowercase())
            .flat_map(|l| l.split(' '))
            .map(|w| (w, 1u32))
            .reduce_by_key(|a, b| a + b)
            .collect()
    };
    assert_eq!(
        sorted(run(&ctx, 1, &out)),
        vec![vec![(s("a"), 1), (s("b"), 1), (s("c"), 1)]]
    );
}
