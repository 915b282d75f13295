use crate::common::*;
use rill::forecast::{ArimaSpec, Order};
use rill::prelude::*;

/// Two sensors: "flat" around 5 with small noise, "trend" rising by 1 per step.
fn readings(batches: usize, per_batch: usize) -> Vec<Vec<(&'static str, f64)>> {
    let mut s = 7u64;
    let mut noise = move || {
        s ^= s << 13;
        s ^= s >> 7;
        s ^= s << 17;
        (s >> 11) as f64 / (1u64 << 53) as f64 - 0.5
    };
    (0..batches)
        .map(|b| {
            (0..per_batch)
                .flat_map(|i| {
                    let t = (b * per_batch + i) as f64;
                    [("flat", 5.0 + 0.2 * noise()), ("trend", t + 0.2 * noise())]
                })
                .collect()
        })
        .collect()
}

#[test]
fn forecasts_every_key_at_each_slide() {
    let job = |p: usize| {
        let ctx = ctx(p);
        let spec = ArimaSpec::new(Order::arima(1, 1, 0))
            .constant(true)
            .history(60)
            .horizon(3);
        let out = stream! { ctx;
            queue_stream(readings(6, 20)).forecast_arima(spec, secs(2)).collect()
        };
        let mut got = run_windowed(&ctx, 6, &out);
        for b in &mut got {
            b.sort_by(|x, y| x.0.cmp(&y.0));
        }
        got
    };
    let got = job(1);
    assert_eq!(got, job(4), "the same fits at parallelism 1 and 4");
    // Slides at 2 s, 4 s, 6 s; both keys have enough history at each.
    assert_eq!(got.len(), 3);
    for batch in &got {
        assert_eq!(batch.len(), 2);
    }
    let last = &got[2];
    let (_, flat) = &last[0];
    let (_, trend) = &last[1];
    assert!(
        flat.iter()
            .all(|f| (f.mean - 5.0).abs() < 0.5 && f.lower < f.mean && f.mean < f.upper),
        "{flat:?}"
    );
    // The trend continues: 120 readings 0..119, so the next ones are about 120, 121, 122.
    for (h, f) in trend.iter().enumerate() {
        assert!((f.mean - (120.0 + h as f64)).abs() < 1.0, "step {h}: {f:?}");
    }
}

#[test]
fn detects_an_observation_outside_its_interval() {
    // One sensor: an AR(1) around 5 with Gaussian noise (sd 0.1), and one spike.
    let mut s = 11u64;
    let mut uniform = move || {
        s ^= s << 13;
        s ^= s >> 7;
        s ^= s << 17;
        (s >> 11) as f64 / (1u64 << 53) as f64
    };
    let mut x = 0.0;
    let mut input: Vec<Vec<(&str, f64)>> = (0..6)
        .map(|_| {
            (0..40)
                .map(|_| {
                    let gauss: f64 = (0..12).map(|_| uniform()).sum::<f64>() - 6.0;
                    x = 0.5 * x + 0.1 * gauss;
                    ("flat", 5.0 + x)
                })
                .collect()
        })
        .collect();
    input[5][20] = ("flat", 9.0);
    let ctx = ctx(2);
    let spec = ArimaSpec::new(Order::arima(1, 0, 0)).history(120);
    let out = stream! { ctx;
        queue_stream(input).detect_anomalies(spec, secs(1)).collect()
    };
    let alerts: Vec<_> = run(&ctx, 6, &out).into_iter().flatten().collect();
    assert!(
        alerts
            .iter()
            .any(|a| a.key == "flat" && a.value == 9.0 && a.upper < 9.0),
        "{alerts:?}"
    );
    // 200 observations are checked after the first fit: at 95%, about 10 false alarms
    // are expected.
    assert!(
        alerts.len() <= 20,
        "too many false alarms at 95%: {}",
        alerts.len()
    );
}
