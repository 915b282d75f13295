//! `stream!` inside a user's `macro_rules!`: the identifiers the generated code makes for
//! itself resolve where the macro is called, whichever macro the user's closures, values
//! and stream names come from.

use rill::prelude::*;

fn ctx() -> StreamingContext {
    StreamingContext::builder()
        .batch_interval(Duration::from_secs(1))
        .parallelism(2)
        .manual_clock()
        .build()
        .expect("valid configuration")
}

fn sorted<T: Ord>(mut batches: Vec<Vec<T>>) -> Vec<Vec<T>> {
    for b in &mut batches {
        b.sort();
    }
    batches
}

/// The pipeline is written in the macro; the context, the data, the closures and the
/// window's length come from the caller.
macro_rules! windowed_word_count {
    ($ctx:expr, $data:expr, $split:expr, $add:expr, $len:expr $(, $option:ident)?) => {
        stream! { $ctx $(, $option)?;
            let lines = queue_stream($data);
            let counts = lines
                .flat_map($split)
                .filter(|w: &&str| !w.is_empty())
                .map(|w| (w, 1u64))
                .reduce_by_key($add);
            counts
                .window($len, Duration::from_secs(1))
                .reduce_by_key($add)
                .collect()
        }
    };
}

fn windowed(unfused: bool) -> Vec<Vec<(String, u64)>> {
    let ctx = ctx();
    let data = vec![vec!["a b", "a"], vec!["b  c"], vec![]];
    let out = if unfused {
        windowed_word_count!(
            ctx,
            data,
            |l: &&str| l.split(' '),
            |a, b| a + b,
            Duration::from_secs(2),
            unfused
        )
    } else {
        windowed_word_count!(
            ctx,
            data,
            |l: &&str| l.split(' '),
            |a, b| a + b,
            Duration::from_secs(2)
        )
    };
    ctx.start().expect("starts");
    ctx.advance(3).expect("runs");
    let got = out.take();
    ctx.stop().expect("stops");
    sorted(got)
}

fn s(x: &str) -> String {
    x.to_string()
}

#[test]
fn closures_and_values_from_the_caller_of_a_macro() {
    let expected = vec![
        vec![(s("a"), 2), (s("b"), 1)],
        vec![(s("a"), 2), (s("b"), 2), (s("c"), 1)],
        vec![(s("b"), 1), (s("c"), 1)],
    ];
    assert_eq!(windowed(false), expected);
    assert_eq!(windowed(true), expected);
}

/// Every token of the block comes from the caller; only `stream!` is the macro's.
macro_rules! pipeline {
    ($($body:tt)*) => {
        stream! { $($body)* }
    };
}

#[test]
fn a_whole_block_passed_through_a_macro() {
    let ctx = ctx();
    let limit = 10u32;
    let (sums, totals, seen) = pipeline! { ctx;
        let nums = queue_stream(vec![vec![(1u32, 2u32), (2, 3), (1, 4)], vec![(2, 5)], vec![]]);
        let names = queue_stream(vec![vec![(1u32, "one"), (2, "two")], vec![(2, "two")], vec![]]);
        let sums = nums.filter(|(_, v)| *v < limit).reduce_by_key(|a, b| a + b);
        let totals = sums.update_state_by_key(|vs: Vec<u32>, s: Option<u32>| Some(s.unwrap_or(0) + vs.iter().sum::<u32>()));
        let joined = sums.join(names).map(|(k, (v, n))| (n, k + v));
        let windowed = joined.map(|(n, v)| (n, v as u64)).reduce_by_key_and_window(|a, b| a + b, Duration::from_secs(2), Duration::from_secs(1));
        windowed.count().print();
        (sums.collect(), totals.collect(), windowed.collect())
    };
    ctx.start().expect("starts");
    ctx.advance(3).expect("runs");
    let (sums, totals, seen) = (
        sorted(sums.take()),
        sorted(totals.take()),
        sorted(seen.take()),
    );
    ctx.stop().expect("stops");
    assert_eq!(sums, vec![vec![(1, 6), (2, 3)], vec![(2, 5)], vec![]]);
    assert_eq!(
        totals,
        vec![
            vec![(1, 6), (2, 3)],
            vec![(1, 6), (2, 8)],
            vec![(1, 6), (2, 8)]
        ]
    );
    assert_eq!(
        seen,
        vec![
            vec![(s("one"), 7), (s("two"), 5)],
            vec![(s("one"), 7), (s("two"), 12)],
            vec![(s("two"), 7)]
        ]
    );
}
