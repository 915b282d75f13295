//! The prelude alone is enough for a pipeline and its test: state specs, forecasting
//! specs, the builder and a stop handle need no further import.

use rill::prelude::*;

#[allow(clippy::ptr_arg)] // the key type of the state is String
fn running(word: &String, one: Option<u32>, state: &mut State<u32>) -> (String, u32) {
    let sum = one.unwrap_or(0) + state.get().copied().unwrap_or(0);
    state.update(sum);
    (word.clone(), sum)
}

#[test]
fn a_stateful_pipeline_needs_only_the_prelude() {
    let ctx: StreamingContext = Builder::default()
        .batch_interval(Duration::from_secs(1))
        .manual_clock()
        .parallelism(1)
        .build()
        .unwrap();
    let _stop: StopHandle = ctx.stop_handle();
    let _spec = ArimaSpec::new(Order::arima(1, 0, 0)).horizon(2);
    let _alerts: Option<Alert<String>> = None;
    let out: Collected<(String, u32)> = stream! { ctx;
        queue_stream(vec![vec!["a"], vec!["a", "b"]])
            .map(|w| (w.to_string(), 1u32))
            .map_with_state(StateSpec::function(running))
            .collect()
    };
    ctx.start().unwrap();
    ctx.advance(2).unwrap();
    let infos: Vec<BatchInfo> = ctx.batch_infos();
    assert_eq!(infos.len(), 2);
    let mut got = out.take();
    got[1].sort();
    assert_eq!(
        got,
        vec![
            vec![("a".to_string(), 1)],
            vec![("a".to_string(), 2), ("b".to_string(), 1)]
        ]
    );
    let _: Time = infos[0].time;
}
