use crate::common::*;
use rill::prelude::*;

#[test]
fn a_sum_and_a_count_per_key_give_its_average() {
    let got = both(|p| {
        let ctx = ctx(p);
        let out = stream! { ctx;
            let pairs = queue_stream(vec![
                vec![("a", 1u32), ("b", 4), ("a", 3), ("a", 5), ("b", 6)],
                vec![],
                vec![("c", 10)],
            ]);
            pairs
                .combine_by_key(|v| (v, 1u32), |(sum, n), v| (sum + v, n + 1), |(s1, n1), (s2, n2)| (s1 + s2, n1 + n2))
                .map(|(k, (sum, n))| (k, sum, n, sum / n))
                .collect()
        };
        run(&ctx, 3, &out)
    });
    assert_eq!(
        got,
        vec![
            vec![(s("a"), 9, 3, 3), (s("b"), 10, 2, 5)],
            vec![],
            vec![(s("c"), 10, 1, 10)]
        ]
    );
}

#[test]
fn combiners_of_another_type_group_the_values() {
    let got = both(|p| {
        let ctx = ctx(p);
        let out = stream! { ctx;
            queue_stream(vec![vec![(1u8, "x"), (2, "y"), (1, "z"), (3, "w"), (1, "v")]])
                .combine_by_key(|v| vec![v], |mut c, v| { c.push(v); c }, |mut a, b| { a.extend(b); a })
                .map(|(k, mut vs)| { vs.sort(); (k, vs) })
                .collect()
        };
        run(&ctx, 1, &out)
    });
    assert_eq!(
        got,
        vec![vec![
            (1, vec![s("v"), s("x"), s("z")]),
            (2, vec![s("y")]),
            (3, vec![s("w")])
        ]]
    );
}

#[test]
fn functions_given_by_name() {
    fn first(v: String) -> usize {
        v.len()
    }
    fn add(c: usize, v: String) -> usize {
        c + v.len()
    }
    fn merge(a: usize, b: usize) -> usize {
        a + b
    }
    let got = both(|p| {
        let ctx = ctx(p);
        let out = stream! { ctx;
            queue_stream(vec![vec!["a bb", "ccc a", "bb"]])
                .flat_map(|l| l.split(' '))
                .map(|w| (w.len() % 2 == 0, w.to_string()))
                .combine_by_key(first, add, merge)
                .collect()
        };
        run(&ctx, 1, &out)
    });
    // Odd lengths: a, ccc, a; even: bb, bb.
    assert_eq!(got, vec![vec![(false, 5), (true, 4)]]);
}
