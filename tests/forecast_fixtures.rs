//! ARIMA fits and forecasts checked against statsmodels (fixtures made by
//! `tools/arima_fixtures.py`): coefficients within 0.05, forecasts within 2% of the
//! series' standard deviation, 95% interval widths within 10%.

use rill::forecast::{Arima, Order};
use serde_json::Value;

fn cases() -> Vec<Value> {
    let text = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/fixtures/arima.json"
    ))
    .unwrap();
    let v: Value = serde_json::from_str(&text).unwrap();
    v["cases"].as_array().unwrap().clone()
}

fn floats(v: &Value) -> Vec<f64> {
    v.as_array()
        .unwrap()
        .iter()
        .map(|x| x.as_f64().unwrap())
        .collect()
}

fn usizes(v: &Value) -> Vec<usize> {
    v.as_array()
        .unwrap()
        .iter()
        .map(|x| x.as_u64().unwrap() as usize)
        .collect()
}

#[test]
fn fits_and_forecasts_match_statsmodels() {
    let mut report = Vec::new();
    for case in cases() {
        let name = case["name"].as_str().unwrap();
        let y = floats(&case["series"]);
        let o = usizes(&case["order"]);
        let so = usizes(&case["seasonal_order"]);
        let order = Order::sarima(o[0], o[1], o[2], so[0], so[1], so[2], so[3]);
        let constant = case["trend"].as_str().unwrap() != "n";
        let m = Arima::fit(&y, order, constant, None).unwrap();
        let names: Vec<&str> = case["param_names"]
            .as_array()
            .unwrap()
            .iter()
            .map(|n| n.as_str().unwrap())
            .collect();
        let params = floats(&case["params"]);
        for (n, want) in names.iter().zip(&params) {
            let got = match *n {
                "const" | "x1" => m.mean,
                "sigma2" => continue,
                n if n.starts_with("ar.S.L") => {
                    m.sar[n[6..].parse::<usize>().unwrap() / order.s - 1]
                }
                n if n.starts_with("ma.S.L") => {
                    m.sma[n[6..].parse::<usize>().unwrap() / order.s - 1]
                }
                n if n.starts_with("ar.L") => m.ar[n[4..].parse::<usize>().unwrap() - 1],
                n if n.starts_with("ma.L") => m.ma[n[4..].parse::<usize>().unwrap() - 1],
                other => panic!("unknown parameter {other}"),
            };
            report.push(format!("{name} {n}: rill {got:.4} statsmodels {want:.4}"));
            assert!(
                (got - want).abs() < 0.05,
                "{name}: {n} is {got}, statsmodels {want}"
            );
        }
        let sigma2 = case["sigma2"].as_f64().unwrap();
        assert!(
            (m.sigma2 / sigma2 - 1.0).abs() < 0.05,
            "{name}: sigma2 {} vs {sigma2}",
            m.sigma2
        );
        let mean = y.iter().sum::<f64>() / y.len() as f64;
        let sd = (y.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / y.len() as f64).sqrt();
        let (fc, lo, hi) = (
            floats(&case["forecast"]),
            floats(&case["lower"]),
            floats(&case["upper"]),
        );
        let ours = m.forecast(fc.len());
        for (h, f) in ours.iter().enumerate() {
            assert!(
                (f.mean - fc[h]).abs() <= 0.02 * sd,
                "{name} h={h}: forecast {} vs {} (sd {sd})",
                f.mean,
                fc[h]
            );
            let (w, want) = (f.upper - f.lower, hi[h] - lo[h]);
            assert!(
                (w / want - 1.0).abs() <= 0.10,
                "{name} h={h}: interval width {w} vs {want}"
            );
        }
    }
    eprintln!("{}", report.join("\n"));
}
