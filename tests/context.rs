//! The context's lifecycle, clocks, errors and metrics.

use rill::prelude::*;
use std::time::Instant;

#[test]
fn manual_clock_batch_times_are_multiples_of_the_interval() {
    let ctx = StreamingContext::manual(Duration::from_millis(250));
    let times = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
    let t = times.clone();
    stream! { ctx;
        queue_stream(Vec::<Vec<u8>>::new()).for_each_batch(move |time, _| t.lock().unwrap().push(time));
    };
    ctx.start().unwrap();
    ctx.advance(3).unwrap();
    assert_eq!(
        *times.lock().unwrap(),
        vec![Time(250), Time(500), Time(750)]
    );
    assert_eq!(ctx.last_batch_time(), Time(750));
    let infos = ctx.batch_infos();
    assert_eq!(infos.len(), 3);
    assert_eq!(infos[0].time, Time(250));
}

#[test]
fn lifecycle_errors_are_reported_not_panicked() {
    let ctx = StreamingContext::manual(Duration::from_secs(1));
    assert!(
        ctx.advance(1)
            .unwrap_err()
            .to_string()
            .contains("start() the context before advance()")
    );
    ctx.start().unwrap();
    assert!(ctx.start().is_err());
    ctx.stop().unwrap();
    ctx.stop().unwrap();
    assert!(ctx.advance(1).is_err());
    assert!(
        ctx.start()
            .unwrap_err()
            .to_string()
            .contains("cannot be started again")
    );
    let sys = StreamingContext::new(Duration::from_secs(1));
    assert!(
        sys.advance(1)
            .unwrap_err()
            .to_string()
            .contains("manual clock")
    );
}

#[test]
fn invalid_configuration_is_an_error() {
    let ctx = StreamingContext::new(Duration::ZERO);
    assert!(
        ctx.start()
            .unwrap_err()
            .to_string()
            .contains("batch interval")
    );
    assert!(StreamingContext::builder().parallelism(2).build().is_err());
    assert!(
        StreamingContext::builder()
            .batch_interval(Duration::from_secs(1))
            .parallelism(0)
            .build()
            .is_err()
    );
    assert!(
        StreamingContext::builder()
            .batch_interval(Duration::from_micros(1500))
            .build()
            .is_err()
    );
}

#[test]
fn a_panicking_closure_is_an_error_with_the_batch_time() {
    let ctx = StreamingContext::manual(Duration::from_secs(1));
    stream! { ctx;
        queue_stream(vec![vec![1], vec![0]]).map(|x: i32| 10 / x).print();
    };
    ctx.start().unwrap();
    ctx.advance(1).unwrap();
    let e = ctx.advance(1).unwrap_err().to_string();
    assert!(e.contains("2000 ms") && e.contains("divide by zero"), "{e}");
}

#[test]
fn a_pipeline_defined_after_start_is_refused() {
    let ctx = StreamingContext::manual(Duration::from_secs(1));
    ctx.start().unwrap();
    let out = stream! { ctx;
        queue_stream(vec![vec![1]]).collect()
    };
    ctx.advance(1).unwrap();
    assert!(out.take().is_empty(), "the late pipeline does not run");
}

#[test]
fn system_clock_fires_at_aligned_times() {
    let ctx = StreamingContext::builder()
        .batch_interval(Duration::from_millis(100))
        .parallelism(2)
        .build()
        .unwrap();
    let out = stream! { ctx;
        queue_stream(vec![vec![1], vec![2], vec![3]]).collect()
    };
    let start = Instant::now();
    ctx.start().unwrap();
    assert!(
        out.wait_for(3, Duration::from_secs(5)),
        "three batches within 5 s"
    );
    ctx.stop().unwrap();
    assert!(start.elapsed() >= Duration::from_millis(200));
    let infos = ctx.batch_infos();
    assert!(infos.len() >= 3);
    for w in infos.windows(2) {
        assert_eq!(w[1].time.millis() - w[0].time.millis(), 100);
    }
    assert!(infos.iter().all(|i| i.time.millis() % 100 == 0));
    assert_eq!(out.take()[..3], [vec![1], vec![2], vec![3]]);
}

#[test]
fn await_termination_returns_when_stopped_elsewhere() {
    let ctx = std::sync::Arc::new(StreamingContext::new(Duration::from_millis(50)));
    ctx.start().unwrap();
    let c = ctx.clone();
    let stopper = std::thread::spawn(move || {
        std::thread::sleep(Duration::from_millis(150));
        c.stop().unwrap();
    });
    ctx.await_termination().unwrap();
    stopper.join().unwrap();
    assert!(
        ctx.await_termination_or_timeout(Duration::from_millis(1))
            .unwrap()
    );
}
