use crate::common::*;
use rill::prelude::*;

fn input() -> Vec<Vec<(&'static str, i32)>> {
    vec![
        vec![("a", 1), ("a", 3)],
        vec![("a", 2), ("b", 1)],
        vec![("b", 1)],
        vec![],
        vec![],
        vec![("a", 1)],
    ]
}

#[test]
fn keys_that_fall_to_zero_are_kept_as_in_spark() {
    let got = both(|p| {
        let ctx = ctx(p);
        let out = stream! { ctx;
            queue_stream(input())
                .reduce_by_key_and_window_inv(|a, b| a + b, |a, b| a - b, secs(2), secs(1))
                .collect()
        };
        run(&ctx, 6, &out)
    });
    assert_eq!(
        got,
        vec![
            vec![(s("a"), 4)],
            vec![(s("a"), 6), (s("b"), 1)],
            vec![(s("a"), 2), (s("b"), 2)],
            vec![(s("a"), 0), (s("b"), 1)],
            vec![(s("a"), 0), (s("b"), 0)],
            vec![(s("a"), 1), (s("b"), 0)],
        ]
    );
}

#[test]
fn a_filter_drops_keys_from_the_result_and_the_state() {
    let got = both(|p| {
        let ctx = ctx(p);
        let out = stream! { ctx;
            queue_stream(input())
                .reduce_by_key_and_window_inv(|a, b| a + b, |a, b| a - b, secs(2), secs(1), |_, v| *v != 0)
                .collect()
        };
        run(&ctx, 6, &out)
    });
    assert_eq!(
        got,
        vec![
            vec![(s("a"), 4)],
            vec![(s("a"), 6), (s("b"), 1)],
            vec![(s("a"), 2), (s("b"), 2)],
            vec![(s("b"), 1)],
            vec![],
            vec![(s("a"), 1)],
        ]
    );
}

#[test]
fn agrees_with_the_plain_window_for_other_slides() {
    for (len, slide) in [(3, 1), (4, 2), (2, 3), (6, 3)] {
        let data: Vec<Vec<(u8, i64)>> = (0..12u8)
            .map(|i| vec![(i % 3, i as i64), (i % 4, 1)])
            .collect();
        let ctx = ctx(3);
        let (plain, inv) = {
            let d = data.clone();
            stream! { ctx;
                let xs = queue_stream(d);
                (
                    xs.reduce_by_key_and_window(|a, b| a + b, secs(len), secs(slide)).collect(),
                    xs.reduce_by_key_and_window_inv(|a, b| a + b, |a, b| a - b, secs(len), secs(slide), |_, v| *v != 0).collect(),
                )
            }
        };
        ctx.start().unwrap();
        ctx.advance(12).unwrap();
        let plain = sorted(plain.take());
        let inv = sorted(inv.take());
        let nonzero: Vec<Vec<(u8, i64)>> = plain
            .into_iter()
            .map(|b| b.into_iter().filter(|(_, v)| *v != 0).collect())
            .collect();
        assert_eq!(nonzero, inv, "len {len}, slide {slide}");
    }
}
