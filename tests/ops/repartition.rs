use crate::common::*;
use rill::prelude::*;
use std::sync::{Arc, Mutex};

#[test]
fn keeps_every_record() {
    let got = both(|p| {
        let ctx = ctx(p);
        let out = stream! { ctx;
            let nums = queue_stream(vec![(0..100).collect::<Vec<u32>>(), vec![]]);
            nums.repartition(3).collect()
        };
        run(&ctx, 2, &out)
    });
    assert_eq!(got, vec![(0..100).collect::<Vec<u32>>(), vec![]]);
}

#[test]
fn spreads_records_over_n_partitions() {
    let sizes = Arc::new(Mutex::new(Vec::new()));
    let seen = sizes.clone();
    let ctx = ctx(1);
    stream! { ctx;
        let nums = queue_stream(vec![(0..9).collect::<Vec<u32>>()]);
        nums.repartition(3).transform(move |v: Vec<u32>| { seen.lock().unwrap().push(v.len()); v }).print();
    };
    ctx.start().unwrap();
    ctx.advance(1).unwrap();
    assert_eq!(*sizes.lock().unwrap(), vec![9]);
}
