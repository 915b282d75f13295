use crate::common::*;
use rill::prelude::*;

/// A record with an owned field the operator moves out.
#[derive(Clone, Debug)]
enum Shape {
    Named(String),
    Blank,
}

fn job(p: usize) -> Vec<Vec<String>> {
    let ctx = ctx(p);
    let out = stream! { ctx;
        let shapes = queue_stream(vec![
            vec![Shape::Named(s("a")), Shape::Blank, Shape::Named(s("b"))],
            vec![Shape::Blank],
            vec![Shape::Named(s("c"))],
        ]);
        shapes.filter_map(|x| match x { Shape::Named(n) => Some(n), Shape::Blank => None }).collect()
    };
    run(&ctx, 3, &out)
}

#[test]
fn keeps_the_some_values_moved_out_of_the_record() {
    let expected = vec![vec![s("a"), s("b")], vec![], vec![s("c")]];
    assert_eq!(sorted(job(1)), expected);
    assert_eq!(sorted(job(3)), expected);
}

#[test]
fn fuses_with_the_operators_around_it() {
    let ctx = ctx(2);
    let out = stream! { ctx;
        let n = queue_stream(vec![vec![1u32, 2, 3, 4, 5, 6]]);
        n.map(|x| x * 10)
            .filter_map(|x| (x % 20 == 0).then_some((x % 3, x)))
            .reduce_by_key(|a, b| a + b)
            .collect()
    };
    assert_eq!(
        sorted(run(&ctx, 1, &out)),
        vec![vec![(0, 60), (1, 40), (2, 20)]]
    );
}
