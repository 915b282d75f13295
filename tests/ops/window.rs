use crate::common::*;
use rill::prelude::*;

fn window(len: u64, slide: u64, batches: u32) -> Vec<Vec<u32>> {
    let ctx = ctx(2);
    let input: Vec<Vec<u32>> = (1..=batches).map(|i| vec![i]).collect();
    let out = stream! { ctx;
        queue_stream(input).window(secs(len), secs(slide)).collect()
    };
    run_windowed(&ctx, batches as usize, &out)
}

#[test]
fn first_windows_are_partial() {
    // Spark's "window - basic window": W = 2 s, S = 1 s.
    assert_eq!(
        window(2, 1, 4),
        vec![vec![1], vec![1, 2], vec![2, 3], vec![3, 4]]
    );
}

#[test]
fn a_slide_of_two_batches_gives_half_as_many_entries() {
    // W = 4 s, S = 2 s: outputs at 2000 (1-2), 4000 (1-4), 6000 (3-6), 8000 (5-8).
    assert_eq!(
        window(4, 2, 8),
        vec![
            vec![1, 2],
            vec![1, 2, 3, 4],
            vec![3, 4, 5, 6],
            vec![5, 6, 7, 8]
        ]
    );
}

#[test]
fn a_slide_longer_than_the_window_skips_batches() {
    // W = 2 s, S = 3 s: batches 2-3 at 3000, 5-6 at 6000.
    assert_eq!(window(2, 3, 6), vec![vec![2, 3], vec![5, 6]]);
}

#[test]
fn window_with_one_argument_slides_every_batch_and_composes() {
    let got = both(|p| {
        let ctx = ctx(p);
        let out = stream! { ctx;
            let words = queue_stream(vec![vec!["a", "b"], vec!["a"], vec![], vec![]]);
            words.window(secs(2)).map(|w| (w, 1u32)).reduce_by_key(|a, b| a + b).collect()
        };
        run(&ctx, 4, &out)
    });
    assert_eq!(
        got,
        vec![
            vec![(s("a"), 1), (s("b"), 1)],
            vec![(s("a"), 2), (s("b"), 1)],
            vec![(s("a"), 1)],
            vec![]
        ]
    );
}

#[test]
fn a_window_of_a_window_and_outputs_only_at_slides() {
    let ctx = ctx(2);
    let times = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
    let seen = times.clone();
    let out = stream! { ctx;
        let w = queue_stream((1..=6).map(|i| vec![i]).collect::<Vec<Vec<u32>>>()).window(secs(2), secs(2));
        w.for_each_batch(move |t, _| seen.lock().unwrap().push(t.millis()));
        w.window(secs(4), secs(4)).collect()
    };
    assert_eq!(run_windowed(&ctx, 6, &out), vec![vec![1, 2, 3, 4]]);
    assert_eq!(*times.lock().unwrap(), vec![2000, 4000, 6000]);
}

#[test]
fn lengths_that_are_not_multiples_fail_at_start() {
    let ctx = ctx(1);
    stream! { ctx;
        queue_stream(vec![vec![1]]).window(Duration::from_millis(1500), secs(1)).print();
    };
    let e = ctx.start().unwrap_err().to_string();
    assert!(
        e.contains("must be multiples of the stream's interval"),
        "{e}"
    );
    let ctx = self::ctx(1);
    stream! { ctx;
        let a = queue_stream(vec![vec![1]]);
        a.window(secs(2), secs(2)).union(a).print();
    };
    let e = ctx.start().unwrap_err().to_string();
    assert!(
        e.contains("union: the two streams must have the same slide"),
        "{e}"
    );
}
