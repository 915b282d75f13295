use crate::common::*;
use rill::ops::map_with_state::{State, StateSpec};
use rill::prelude::*;

fn words() -> Vec<Vec<&'static str>> {
    vec![
        vec![],
        vec!["a"],
        vec!["a", "b"],
        vec!["a", "b", "c"],
        vec!["a", "b"],
        vec!["a"],
        vec![],
    ]
}

#[allow(clippy::ptr_arg)] // the key type of the state is String
fn count(word: &String, one: Option<u32>, state: &mut State<u32>) -> (String, u32) {
    let sum = one.unwrap_or(0) + state.get().copied().unwrap_or(0);
    state.update(sum);
    (word.clone(), sum)
}

#[test]
fn sparks_basic_operations() {
    let (mapped, snaps) = {
        let run_p = |p: usize| {
            let ctx = ctx(p);
            let out = stream! { ctx;
                let counted = queue_stream(words()).map(|w| (w.to_string(), 1u32)).map_with_state(StateSpec::function(count));
                (counted.collect(), counted.state_snapshots().collect())
            };
            ctx.start().unwrap();
            ctx.advance(7).unwrap();
            (sorted(out.0.take()), sorted(out.1.take()))
        };
        let one = run_p(1);
        assert_eq!(one, run_p(4));
        one
    };
    let counts: Vec<Vec<u32>> = mapped
        .iter()
        .map(|b| {
            let mut v: Vec<u32> = b.iter().map(|(_, n)| *n).collect();
            v.sort();
            v
        })
        .collect();
    assert_eq!(
        counts,
        vec![
            vec![],
            vec![1],
            vec![1, 2],
            vec![1, 2, 3],
            vec![3, 4],
            vec![5],
            vec![]
        ]
    );
    let pairs = |v: &[(&str, u32)]| v.iter().map(|(k, n)| (s(k), *n)).collect::<Vec<_>>();
    assert_eq!(
        snaps,
        vec![
            vec![],
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
fn every_record_is_a_call_even_for_the_same_key() {
    let ctx = ctx(2);
    let out = stream! { ctx;
        queue_stream(vec![vec![("k", 1u32), ("k", 1), ("k", 1)]]).map(|(k, v)| (k.to_string(), v)).map_with_state(StateSpec::function(count)).collect()
    };
    let mut got = run(&ctx, 1, &out);
    got[0].sort();
    assert_eq!(got, vec![vec![(s("k"), 1), (s("k"), 2), (s("k"), 3)]]);
}

#[test]
fn idle_keys_time_out_once_and_leave_the_state() {
    let spec = StateSpec::function(|key: &String, v: Option<u32>, state: &mut State<u32>| {
        if state.is_timing_out() {
            return format!("{key} timed out");
        }
        let n = state.get().copied().unwrap_or(0) + v.unwrap_or(0);
        state.update(n);
        format!("{key}={n}")
    })
    .timeout(secs(3));
    let ctx = ctx(2);
    let input = vec![
        vec!["a", "b", "c"],
        vec!["a"],
        vec!["a", "c"],
        vec!["a"],
        vec!["a"],
        vec!["a"],
        vec!["a"],
        vec![],
    ];
    let out = stream! { ctx;
        let m = queue_stream(input).map(|w| (w.to_string(), 1u32)).map_with_state(spec);
        (m.collect(), m.state_snapshots().collect())
    };
    ctx.start().unwrap();
    ctx.advance(8).unwrap();
    let mapped = sorted(out.0.take());
    let snaps = sorted(out.1.take());
    // b was last updated at 1000: idle since, strictly before 5000 - 3000 at batch 5.
    // c was last updated at 3000: times out at batch 7 (3000 < 7000 - 3000).
    let timed_out: Vec<(usize, &String)> = mapped
        .iter()
        .enumerate()
        .flat_map(|(i, b)| {
            b.iter()
                .filter(|m| m.ends_with("timed out"))
                .map(move |m| (i + 1, m))
        })
        .collect();
    assert_eq!(
        timed_out,
        vec![(5, &s("b timed out")), (7, &s("c timed out"))]
    );
    assert_eq!(snaps[7], vec![(s("a"), 7)], "only a is left");
}

#[test]
fn initial_state_and_removal() {
    let spec = StateSpec::function(|key: &String, v: Option<i32>, state: &mut State<i32>| {
        let n = state.get().copied().unwrap_or(0) + v.unwrap_or(0);
        if n <= 0 {
            state.remove()
        } else {
            state.update(n)
        }
        (key.clone(), n)
    })
    .initial_state(vec![(s("x"), 10), (s("y"), 1)]);
    let ctx = ctx(2);
    let out = stream! { ctx;
        let m = queue_stream(vec![vec![("x", -3), ("y", -1)], vec![("x", 1)]]).map(|(k, v)| (k.to_string(), v)).map_with_state(spec);
        (m.collect(), m.state_snapshots().collect())
    };
    ctx.start().unwrap();
    ctx.advance(2).unwrap();
    assert_eq!(
        sorted(out.0.take()),
        vec![vec![(s("x"), 7), (s("y"), 0)], vec![(s("x"), 8)]]
    );
    assert_eq!(
        sorted(out.1.take()),
        vec![vec![(s("x"), 7)], vec![(s("x"), 8)]]
    );
}

#[test]
fn misusing_the_state_is_an_error_not_a_panic() {
    let spec = StateSpec::function(|_: &String, _: Option<u8>, state: &mut State<u8>| {
        state.remove();
        state.update(1);
    });
    let ctx = ctx(1);
    stream! { ctx;
        queue_stream(vec![vec![(s("k"), 1u8)]]).map_with_state(spec).print();
    };
    ctx.start().unwrap();
    let e = ctx.advance(1).unwrap_err().to_string();
    assert!(e.contains("update() after remove()"), "{e}");
}

#[test]
fn state_changed_in_place_is_kept_and_taken_state_is_gone() {
    // Each key keeps the values it saw in place; "stop" takes a key's list out.
    let spec = StateSpec::function(
        |key: &String, v: Option<u32>, state: &mut State<Vec<u32>>| {
            let v = v.unwrap_or(0);
            if v == 0 {
                return format!("{key} took {:?}", state.take());
            }
            match state.get_mut() {
                Some(seen) => seen.push(v),
                None => state.update(vec![v]),
            }
            format!("{key} has {:?}", state.get())
        },
    );
    let ctx = ctx(2);
    let input = vec![
        vec![("a", 1), ("b", 2)],
        vec![("a", 3)],
        vec![("a", 0), ("b", 4)],
        vec![("a", 5)],
    ];
    let out = stream! { ctx;
        let m = queue_stream(input).map(|(k, v)| (k.to_string(), v)).map_with_state(spec);
        (m.collect(), m.state_snapshots().collect())
    };
    ctx.start().unwrap();
    ctx.advance(4).unwrap();
    let mapped = sorted(out.0.take());
    assert_eq!(mapped[1], vec![s("a has Some([1, 3])")]);
    assert_eq!(
        mapped[2],
        vec![s("a took Some([1, 3])"), s("b has Some([2, 4])")]
    );
    assert_eq!(mapped[3], vec![s("a has Some([5])")]);
    let snaps = sorted(out.1.take());
    assert_eq!(snaps[3], vec![(s("a"), vec![5]), (s("b"), vec![2, 4])]);
}
