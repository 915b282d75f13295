use crate::common::*;
use rill::prelude::*;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

#[test]
fn a_stream_used_twice_is_computed_once_per_batch() {
    let calls = Arc::new(AtomicUsize::new(0));
    let c = calls.clone();
    let ctx = ctx(2);
    let out = stream! { ctx;
        let words = queue_stream(vec![vec!["a", "b"], vec!["c"]]).map(move |w| { c.fetch_add(1, Ordering::SeqCst); w });
        let upper = words.map(|w| w.to_uppercase());
        (words.collect(), upper.collect(), words.count().collect())
    };
    ctx.start().unwrap();
    ctx.advance(2).unwrap();
    // On a test cluster (RILL_MASTER) each process maps only its own partitions' records.
    if !on_test_cluster() {
        assert_eq!(
            calls.load(Ordering::SeqCst),
            3,
            "3 records, each mapped once"
        );
    }
    assert_eq!(out.0.take(), vec![vec![s("a"), s("b")], vec![s("c")]]);
    assert_eq!(out.1.take(), vec![vec![s("A"), s("B")], vec![s("C")]]);
    assert_eq!(out.2.take(), vec![vec![2u64], vec![1]]);
}

#[test]
fn let_bound_output_handles_and_for_each_batch() {
    let seen = Arc::new(std::sync::Mutex::new(Vec::new()));
    let sink = seen.clone();
    let ctx = ctx(2);
    let out = stream! { ctx;
        let nums = queue_stream(vec![vec![1, 2], vec![], vec![3]]);
        nums.for_each_batch(move |time, records| sink.lock().unwrap().push((time.millis(), records)));
        let handle = nums.collect();
        handle
    };
    ctx.start().unwrap();
    ctx.advance(3).unwrap();
    assert_eq!(out.take(), vec![vec![1, 2], vec![], vec![3]]);
    assert_eq!(
        *seen.lock().unwrap(),
        vec![(1000, vec![1, 2]), (2000, vec![]), (3000, vec![3])]
    );
}

#[test]
fn the_suite_runs_with_the_plan_it_asks_for() {
    let ctx = ctx(1);
    stream! { ctx;
        queue_stream(vec![vec![1]]).map(|x: i32| x + 1).filter(|x| *x > 0).print();
    };
    let text = ctx.explain();
    if cfg!(feature = "force-unfused") {
        assert!(text.contains("(unfused): 2 stages"), "{text}");
    } else {
        assert!(text.contains("(fused): 1 stage,"), "{text}");
    }
}
