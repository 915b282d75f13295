use crate::common::*;
use rill::prelude::*;

type Inner = Vec<Vec<(String, (i32, char))>>;
type Left = Vec<Vec<(String, (i32, Option<char>))>>;
type Right = Vec<Vec<(String, (Option<i32>, char))>>;
type Full = Vec<Vec<(String, (Option<i32>, Option<char>))>>;

/// "a" is on both sides (twice on the left), "b" only left, "c" only right; the second
/// batch is empty on the left, the third empty on both sides.
fn job(p: usize) -> (Inner, Left, Right, Full) {
    let ctx = ctx(p);
    let out = stream! { ctx;
        let l = queue_stream(vec![vec![("a", 1), ("b", 2), ("a", 3)], vec![], vec![]]);
        let r = queue_stream(vec![vec![("a", 'x'), ("c", 'z')], vec![("d", 'w')], vec![]]);
        (l.join(r).collect(), l.left_outer_join(r).collect(), l.right_outer_join(r).collect(), l.full_outer_join(r).collect())
    };
    ctx.start().unwrap();
    ctx.advance(3).unwrap();
    (
        sorted(out.0.take()),
        sorted(out.1.take()),
        sorted(out.2.take()),
        sorted(out.3.take()),
    )
}

#[test]
fn joins_match_spark_and_agree_across_parallelism() {
    let (inner, left, right, full) = job(1);
    assert_eq!(
        job(4),
        (inner.clone(), left.clone(), right.clone(), full.clone())
    );
    assert_eq!(
        inner,
        vec![vec![(s("a"), (1, 'x')), (s("a"), (3, 'x'))], vec![], vec![]]
    );
    assert_eq!(
        left,
        vec![
            vec![
                (s("a"), (1, Some('x'))),
                (s("a"), (3, Some('x'))),
                (s("b"), (2, None))
            ],
            vec![],
            vec![]
        ]
    );
    assert_eq!(
        right,
        vec![
            vec![
                (s("a"), (Some(1), 'x')),
                (s("a"), (Some(3), 'x')),
                (s("c"), (None, 'z'))
            ],
            vec![(s("d"), (None, 'w'))],
            vec![]
        ]
    );
    assert_eq!(
        full,
        vec![
            vec![
                (s("a"), (Some(1), Some('x'))),
                (s("a"), (Some(3), Some('x'))),
                (s("b"), (Some(2), None)),
                (s("c"), (None, Some('z')))
            ],
            vec![(s("d"), (None, Some('w')))],
            vec![]
        ]
    );
}

#[test]
fn joins_the_results_of_two_fused_chains() {
    let ctx = ctx(2);
    let out = stream! { ctx;
        let clicks = queue_stream(vec![vec!["u1 home", "u2 cart", "u1 cart"]]);
        let users = queue_stream(vec![vec!["u1,Ann", "u2,Bob"]]);
        let per_user = clicks.map(|c| (c.split(' ').next().unwrap_or(""), 1u32)).reduce_by_key(|a, b| a + b);
        let names = users.flat_map(|u| u.split_once(','));
        per_user.join(names).map(|(_, (n, name))| (name, n)).collect()
    };
    assert_eq!(
        sorted(run(&ctx, 1, &out)),
        vec![vec![(s("Ann"), 2), (s("Bob"), 1)]]
    );
}
