use crate::common::*;
use rill::prelude::*;

#[test]
fn reduces_values_per_key() {
    let got = both(|p| {
        let ctx = ctx(p);
        let out = stream! { ctx;
            let pairs = queue_stream(vec![
                vec![("a", 1), ("b", 2), ("a", 3), ("c", 4), ("a", 5)],
                vec![],
                vec![("b", 7)],
            ]);
            pairs.reduce_by_key(|x, y| x + y).collect()
        };
        run(&ctx, 3, &out)
    });
    assert_eq!(
        got,
        vec![
            vec![(s("a"), 9), (s("b"), 2), (s("c"), 4)],
            vec![],
            vec![(s("b"), 7)]
        ]
    );
}

#[test]
fn owned_keys_and_a_hoisted_function() {
    fn longest(a: String, b: String) -> String {
        if b.len() > a.len() { b } else { a }
    }
    let ctx = ctx(4);
    let out = stream! { ctx;
        let pairs = queue_stream(vec![vec![(1u8, s("x")), (2, s("yy")), (1, s("zzz"))]]);
        pairs.reduce_by_key(longest).collect()
    };
    assert_eq!(
        sorted(run(&ctx, 1, &out)),
        vec![vec![(1, s("zzz")), (2, s("yy"))]]
    );
}

#[test]
fn reduce_by_key_then_reduce_by_key() {
    let got = both(|p| {
        let ctx = ctx(p);
        let out = stream! { ctx;
            let words = queue_stream(vec![vec!["a", "bb", "a", "cc", "d"]]);
            words
                .map(|w| (w, 1u32))
                .reduce_by_key(|a, b| a + b)
                .map(|(w, n)| (w.len(), n))
                .reduce_by_key(|a, b| a + b)
                .collect()
        };
        run(&ctx, 1, &out)
    });
    assert_eq!(got, vec![vec![(1usize, 3u32), (2, 2)]]);
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, PartialOrd, Ord, rill::Key)]
#[cfg_attr(
    feature = "cluster",
    derive(rill::serde::Serialize, rill::serde::Deserialize)
)]
#[cfg_attr(feature = "cluster", serde(crate = "rill::serde"))]
struct Page {
    site: String,
    path: String,
}

#[derive(Clone, Debug, PartialEq, rill::Record)]
#[cfg_attr(
    feature = "cluster",
    derive(rill::serde::Serialize, rill::serde::Deserialize)
)]
#[cfg_attr(feature = "cluster", serde(crate = "rill::serde"))]
struct Hit {
    ms: f64,
}

#[test]
fn derived_keys_and_records() {
    let got = both(|p| {
        let ctx = ctx(p);
        let out = stream! { ctx;
            let hits = queue_stream(vec![vec![("a", "/", 1.5), ("a", "/x", 2.0), ("a", "/", 0.5)]]);
            hits.map(|(s, p, ms)| (Page { site: s.into(), path: p.into() }, Hit { ms }))
                .reduce_by_key(|a, b| Hit { ms: a.ms + b.ms })
                .map(|(page, hit)| (page, hit.ms as u64))
                .collect()
        };
        run(&ctx, 1, &out)
    });
    let page = |p: &str| Page {
        site: s("a"),
        path: s(p),
    };
    assert_eq!(got, vec![vec![(page("/"), 2), (page("/x"), 2)]]);
    let ctx = ctx(1);
    let out = stream! { ctx;
        queue_stream(vec![vec![Hit { ms: 1.0 }]]).collect()
    };
    assert_eq!(run(&ctx, 1, &out), vec![vec![Hit { ms: 1.0 }]]);
}
