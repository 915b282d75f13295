use crate::common::*;
use rill::prelude::*;

fn words() -> Vec<Vec<&'static str>> {
    vec![
        vec!["a"],
        vec!["a", "b"],
        vec!["a", "b", "c"],
        vec!["a", "b"],
        vec!["a"],
        vec![],
    ]
}

#[test]
fn running_counts_as_in_sparks_suite() {
    let got = both(|p| {
        let ctx = ctx(p);
        let out = stream! { ctx;
            queue_stream(words())
                .map(|w| (w, 1u32))
                .update_state_by_key(|values: Vec<u32>, state: Option<u32>| Some(values.iter().sum::<u32>() + state.unwrap_or(0)))
                .collect()
        };
        run(&ctx, 6, &out)
    });
    let pairs = |v: &[(&str, u32)]| v.iter().map(|(k, n)| (s(k), *n)).collect::<Vec<_>>();
    assert_eq!(
        got,
        vec![
            pairs(&[("a", 1)]),
            pairs(&[("a", 2), ("b", 1)]),
            pairs(&[("a", 3), ("b", 2), ("c", 1)]),
            pairs(&[("a", 4), ("b", 3), ("c", 1)]),
            pairs(&[("a", 5), ("b", 3), ("c", 1)]),
            pairs(&[("a", 5), ("b", 3), ("c", 1)]),
        ]
    );
}

#[test]
fn returning_none_removes_the_key() {
    let got = both(|p| {
        let ctx = ctx(p);
        let out = stream! { ctx;
            queue_stream(words())
                .map(|w| (w, 1u32))
                .update_state_by_key(|values: Vec<u32>, state: Option<u32>| {
                    if values.is_empty() { None } else { Some(values.len() as u32 + state.unwrap_or(0)) }
                })
                .collect()
        };
        run(&ctx, 6, &out)
    });
    assert_eq!(got[2], vec![(s("a"), 3), (s("b"), 2), (s("c"), 1)]);
    assert_eq!(
        got[3],
        vec![(s("a"), 4), (s("b"), 3)],
        "c had no value and was removed"
    );
    assert_eq!(got[4], vec![(s("a"), 5)]);
    assert_eq!(got[5], vec![]);
}

#[test]
fn initial_state_and_the_time_aware_form() {
    let got = both(|p| {
        let ctx = ctx(p);
        let initial = vec![(s("a"), 100u64), (s("z"), 7)];
        let out = stream! { ctx;
            queue_stream(vec![vec![("a", 1u64)], vec![]])
                .update_state_by_key(
                    |t: Time, key: &String, values: Vec<u64>, state: Option<u64>| {
                        let total = state.unwrap_or(0) + values.iter().sum::<u64>();
                        if key == "z" && t.millis() >= 2000 { None } else { Some(total + t.millis()) }
                    },
                    initial
                )
                .collect()
        };
        run(&ctx, 2, &out)
    });
    assert_eq!(
        got,
        vec![vec![(s("a"), 1101), (s("z"), 1007)], vec![(s("a"), 3101)]]
    );
}
