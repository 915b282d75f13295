//! The streaming UI (`Builder::ui`): its JSON API lists the batches that ran, its
//! Prometheus metrics parse and count them, bad requests are refused without harm to
//! the job, and the page, loaded in headless Chromium, draws the batches and the plan.

mod support;

use rill::prelude::*;
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::time::Instant;
use support::servers;

/// An answer: status code, headers (names lower-cased), body.
struct Answer {
    status: u16,
    headers: Vec<(String, String)>,
    body: String,
}

impl Answer {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }

    fn json(&self) -> serde_json::Value {
        assert_eq!(self.status, 200, "{}", self.body);
        serde_json::from_str(&self.body).unwrap_or_else(|e| panic!("{e}: {}", self.body))
    }
}

/// Sends `raw` as the request and reads the whole answer.
fn request(addr: SocketAddr, raw: &[u8]) -> Answer {
    let mut s = TcpStream::connect(addr).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(30))).unwrap();
    s.write_all(raw).unwrap();
    let mut bytes = Vec::new();
    s.read_to_end(&mut bytes).unwrap();
    let text = String::from_utf8(bytes).unwrap();
    let (head, body) = text.split_once("\r\n\r\n").expect("an HTTP answer");
    let mut lines = head.split("\r\n");
    let status = lines
        .next()
        .unwrap()
        .split(' ')
        .nth(1)
        .unwrap()
        .parse()
        .unwrap();
    let headers = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(n, v)| (n.to_ascii_lowercase(), v.trim().to_string()))
        .collect();
    Answer {
        status,
        headers,
        body: body.to_string(),
    }
}

fn get(addr: SocketAddr, path: &str) -> Answer {
    request(
        addr,
        format!("GET {path} HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n").as_bytes(),
    )
}

/// The records of batch `i` (1-based) of [`word_count`]: a varying number of lines.
fn lines_of(i: usize) -> Vec<String> {
    (0..(i * 7) % 13 + 1)
        .map(|j| format!("w{} w{} w{}", j % 5, (i + j) % 7, i % 3))
        .collect()
}

/// A manual context with the UI on an ephemeral port, running a word count over
/// `batches` queued batches.
fn word_count(batches: usize) -> StreamingContext {
    let ctx = StreamingContext::builder()
        .batch_interval(Duration::from_millis(500))
        .parallelism(2)
        .manual_clock()
        .ui("127.0.0.1:0")
        .build()
        .unwrap();
    let queue: Vec<Vec<String>> = (1..=batches).map(lines_of).collect();
    stream! { ctx;
        let lines = queue_stream(queue);
        let counts = lines.flat_map(|l| l.split(' ')).map(|w| (w, 1u64)).reduce_by_key(|a, b| a + b);
        counts.for_each_batch(|_, c| { std::hint::black_box(c.len()); });
    };
    ctx
}

#[test]
fn the_json_api_lists_the_batches_that_ran() {
    let ctx = word_count(6);
    let addr = ctx.ui_addr().expect("the UI is bound");
    assert_ne!(addr.port(), 0);
    // Before start: the plan is there, no batches.
    let status = get(addr, "/api/v1/status").json();
    assert_eq!(status["state"], "initialized");
    ctx.start().unwrap();
    ctx.advance(6).unwrap();

    let b = get(addr, "/api/v1/batches").json();
    assert_eq!(b["batch_interval_ms"], 500);
    assert_eq!(b["active"].as_array().unwrap().len(), 0);
    let done = b["completed"].as_array().unwrap();
    assert_eq!(done.len(), 6);
    for (i, batch) in done.iter().enumerate() {
        let n = lines_of(i + 1).len() as u64;
        assert_eq!(batch["time_ms"], 500 * (i as u64 + 1));
        assert_eq!(batch["records"], n);
        assert_eq!(batch["source_records"], serde_json::json!([n]));
        assert_eq!(batch["input_rate"], n as f64 * 2.0);
        let stages: Vec<u64> = batch["stages"]
            .as_array()
            .unwrap()
            .iter()
            .map(|s| {
                assert_eq!(s["pipeline"], 1);
                assert!(s["time_ms"].as_f64().unwrap() >= 0.0);
                s["stage"].as_u64().unwrap()
            })
            .collect();
        // Fused: flat_map -> map => map-side combine, then the reduce side.
        let expected: Vec<u64> = if cfg!(feature = "force-unfused") {
            stages.clone()
        } else {
            vec![1, 2]
        };
        assert_eq!(stages, expected);
        assert!(!stages.is_empty());
        let processing = batch["processing_time_ms"].as_f64().unwrap();
        let total = batch["total_delay_ms"].as_f64().unwrap();
        assert!(total >= processing);
        assert_eq!(batch["pipeline_times_ms"].as_array().unwrap().len(), 1);
    }
    assert_eq!(b["totals"]["batches"], 6);
    // `limit` keeps the newest.
    let last2 = get(addr, "/api/v1/batches?limit=2").json();
    let times: Vec<u64> = last2["completed"]
        .as_array()
        .unwrap()
        .iter()
        .map(|b| b["time_ms"].as_u64().unwrap())
        .collect();
    assert_eq!(times, [2500, 3000]);

    let r = get(addr, "/api/v1/receivers").json();
    let sources = r["receivers"].as_array().unwrap();
    assert_eq!(sources.len(), 1);
    assert_eq!(sources[0]["receiver"], false);
    let all: usize = (1..=6).map(|i| lines_of(i).len()).sum();
    assert_eq!(sources[0]["records_total"], all as u64);
    assert_eq!(sources[0]["last_batch_records"], lines_of(6).len() as u64);

    let p = get(addr, "/api/v1/plan").json();
    let pipelines = p["pipelines"].as_array().unwrap();
    assert_eq!(pipelines.len(), 1);
    assert!(
        pipelines[0]["explain"]
            .as_str()
            .unwrap()
            .starts_with("pipeline 1")
    );
    let graph = &pipelines[0]["graph"];
    let steps = graph["steps"].as_array().unwrap();
    let stage_steps: Vec<&serde_json::Value> =
        steps.iter().filter(|s| s["kind"] == "stage").collect();
    assert_eq!(
        stage_steps.len(),
        if graph["fused"] == true { 2 } else { 4 }
    );
    // Every value consumed is produced by an earlier step.
    for (i, s) in steps.iter().enumerate() {
        for v in s["consumes"].as_array().unwrap() {
            assert!(
                steps[..i]
                    .iter()
                    .any(|e| e["produces"].as_array().unwrap().contains(v)),
                "{v} of step {i} is produced by no step before it: {graph}"
            );
        }
        for op in s["ops"].as_array().unwrap() {
            assert!(op.as_u64().unwrap() < graph["nodes"].as_array().unwrap().len() as u64);
        }
    }
    let ops: Vec<&str> = graph["nodes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| n["op"].as_str().unwrap())
        .collect();
    assert_eq!(
        ops,
        [
            "queue_stream",
            "flat_map",
            "map",
            "reduce_by_key",
            "for_each_batch"
        ]
    );

    let s = get(addr, "/api/v1/status").json();
    assert_eq!(s["state"], "active");
    assert_eq!(s["batches_completed"], 6);
    assert_eq!(s["records_total"], all as u64);
    assert_eq!(s["last_batch_time_ms"], 3000);
    assert_eq!(s["manual_clock"], true);
    assert_eq!(s["checkpoint"]["dir"], serde_json::Value::Null);
    assert_eq!(s["recovery"]["recovered"], false);
    assert!(
        ctx.status_line().contains("6 batches"),
        "{}",
        ctx.status_line()
    );
    ctx.stop().unwrap();
}

#[test]
fn prometheus_metrics_parse_and_count_the_batches() {
    let ctx = word_count(5);
    let addr = ctx.ui_addr().unwrap();
    ctx.start().unwrap();
    ctx.advance(5).unwrap();
    let answer = get(addr, "/metrics");
    assert_eq!(answer.status, 200);
    assert!(
        answer
            .header("content-type")
            .unwrap()
            .starts_with("text/plain; version=0.0.4"),
        "{:?}",
        answer.headers
    );
    let lines = answer.body.lines().map(|l| Ok(l.to_string()));
    let scrape = prometheus_parse::Scrape::parse(lines).unwrap();
    let value = |name: &str, labels: &[(&str, &str)]| -> f64 {
        let s = scrape
            .samples
            .iter()
            .find(|s| s.metric == name && labels.iter().all(|(k, v)| s.labels.get(k) == Some(*v)))
            .unwrap_or_else(|| panic!("no sample {name} {labels:?} in\n{}", answer.body));
        match &s.value {
            prometheus_parse::Value::Counter(x)
            | prometheus_parse::Value::Gauge(x)
            | prometheus_parse::Value::Untyped(x) => *x,
            other => panic!("{name}: {other:?}"),
        }
    };
    let records: usize = (1..=5).map(|i| lines_of(i).len()).sum();
    assert_eq!(value("rill_batches_completed_total", &[]), 5.0);
    assert_eq!(value("rill_batches_failed_total", &[]), 0.0);
    assert_eq!(value("rill_input_records_total", &[]), records as f64);
    assert_eq!(value("rill_up", &[]), 1.0);
    assert_eq!(value("rill_batch_interval_seconds", &[]), 0.5);
    assert_eq!(
        value("rill_receiver_records_total", &[("receiver", "0")]),
        records as f64
    );
    for h in [
        "rill_batch_processing_seconds",
        "rill_batch_scheduling_delay_seconds",
        "rill_batch_total_delay_seconds",
    ] {
        let sample = scrape
            .samples
            .iter()
            .find(|s| s.metric == h)
            .unwrap_or_else(|| panic!("no histogram {h}"));
        match &sample.value {
            prometheus_parse::Value::Histogram(buckets) => {
                let inf = buckets
                    .iter()
                    .find(|b| b.less_than == f64::INFINITY)
                    .unwrap();
                assert_eq!(inf.count, 5.0, "{h}");
                assert!(buckets.windows(2).all(|w| w[0].count <= w[1].count));
            }
            other => panic!("{h} is not a histogram: {other:?}"),
        }
        assert_eq!(value(&format!("{h}_count"), &[]), 5.0);
    }
    if !cfg!(feature = "force-unfused") {
        assert_eq!(
            value(
                "rill_stage_runs_total",
                &[("pipeline", "1"), ("stage", "2")]
            ),
            5.0
        );
    }
    // Every family has its HELP and TYPE, and every sample's name starts with `rill_`.
    for s in &scrape.samples {
        assert!(s.metric.starts_with("rill_"), "{}", s.metric);
    }
    for name in [
        "rill_batches_completed_total",
        "rill_receiver_records_total",
    ] {
        assert!(answer.body.contains(&format!("# HELP {name} ")));
        assert!(answer.body.contains(&format!("# TYPE {name} counter")));
    }
    // Counters go on with the batches.
    ctx.advance(2).unwrap();
    let body = get(addr, "/metrics").body;
    assert!(
        body.contains("\nrill_batches_completed_total 7\n"),
        "{body}"
    );
    ctx.stop().unwrap();
}

#[test]
fn bad_requests_are_refused_and_the_job_goes_on() {
    let ctx = word_count(8);
    let addr = ctx.ui_addr().unwrap();
    ctx.start().unwrap();
    ctx.advance(2).unwrap();
    // Connections that send nothing hold a worker each until they time out; the
    // others are still answered.
    let idle: Vec<TcpStream> = (0..3).map(|_| TcpStream::connect(addr).unwrap()).collect();
    let cases: Vec<(&[u8], u16)> = vec![
        (b"HELLO\r\n\r\n", 400),
        (b"GET\r\n\r\n", 400),
        (b"GET / HTTP/9\r\n\r\n", 400),
        (b"GET relative HTTP/1.1\r\n\r\n", 400),
        (b"GET / HTTP/1.1\r\nno colon here\r\n\r\n", 400),
        (b"GET /\xff\xfe HTTP/1.1\r\n\r\n", 400),
        (
            b"POST /api/v1/batches HTTP/1.1\r\nContent-Length: 0\r\n\r\n",
            405,
        ),
        (b"DELETE / HTTP/1.1\r\n\r\n", 405),
        (b"GET /nope HTTP/1.1\r\n\r\n", 404),
        (b"GET /api/v1/nope HTTP/1.1\r\n\r\n", 404),
        (b"GET /api/v2/batches HTTP/1.1\r\n\r\n", 404),
        (b"GET /api/v1/batches?limit=-1 HTTP/1.1\r\n\r\n", 400),
        (b"GET /api/v1/batches?limit=x HTTP/1.1\r\n\r\n", 400),
    ];
    for (raw, status) in &cases {
        let a = request(addr, raw);
        assert_eq!(a.status, *status, "{}", String::from_utf8_lossy(raw));
        assert!(a.header("content-length").is_some());
    }
    let post = request(addr, b"POST / HTTP/1.1\r\n\r\n");
    assert_eq!(post.header("allow"), Some("GET"));
    // A head longer than the server reads is refused, not buffered.
    let mut long = b"GET / HTTP/1.1\r\nX-Long: ".to_vec();
    long.extend(std::iter::repeat_n(b'a', 64 * 1024));
    long.extend_from_slice(b"\r\n\r\n");
    let mut s = TcpStream::connect(addr).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(30))).unwrap();
    let _ = s.write_all(&long);
    let mut answer = String::new();
    let _ = s.read_to_string(&mut answer);
    assert!(answer.starts_with("HTTP/1.1 431 "), "{answer}");
    // A client that hangs up at once is no harm either.
    drop(TcpStream::connect(addr).unwrap());
    drop(idle);
    // The job is unharmed: it runs on, and the UI answers.
    ctx.advance(3).unwrap();
    assert_eq!(ctx.batch_infos().len(), 5);
    let b = get(addr, "/api/v1/batches").json();
    assert_eq!(b["completed"].as_array().unwrap().len(), 5);
    assert_eq!(get(addr, "/").status, 200);
    ctx.stop().unwrap();
}

#[test]
fn a_system_clock_job_shows_its_batches_and_the_ui_stops_with_it() {
    let ctx = StreamingContext::builder()
        .batch_interval(Duration::from_millis(50))
        .parallelism(2)
        .ui("127.0.0.1:0")
        // Stdout is not a terminal here: no status line, and no harm.
        .status_line(true)
        .build()
        .unwrap();
    let queue: Vec<Vec<String>> = (1..=1000).map(lines_of).collect();
    stream! { ctx;
        queue_stream(queue).flat_map(|l| l.split(' ')).map(|w| (w, 1u64)).reduce_by_key(|a, b| a + b).count().for_each_batch(|_, _| {});
    };
    let addr = ctx.ui_addr().unwrap();
    ctx.start().unwrap();
    let deadline = Instant::now() + support::HUNG;
    loop {
        let s = get(addr, "/api/v1/status").json();
        if s["batches_completed"].as_u64().unwrap() >= 5 {
            assert_eq!(s["state"], "active");
            assert!(s["uptime_seconds"].as_f64().unwrap() > 0.0);
            break;
        }
        assert!(Instant::now() < deadline, "no batches: {s}");
        std::thread::sleep(Duration::from_millis(50));
    }
    let b = get(addr, "/api/v1/batches").json();
    let times: Vec<u64> = b["completed"]
        .as_array()
        .unwrap()
        .iter()
        .map(|b| b["time_ms"].as_u64().unwrap())
        .collect();
    assert!(times.windows(2).all(|w| w[1] == w[0] + 50), "{times:?}");
    assert!(times[0] > 1_600_000_000_000, "system-clock batch times");
    ctx.stop().unwrap();
    // The server stopped with the context: the port is closed.
    let deadline = Instant::now() + support::HUNG;
    while TcpStream::connect(addr).is_ok() {
        assert!(Instant::now() < deadline, "the UI still listens");
        std::thread::sleep(Duration::from_millis(20));
    }
}

#[test]
fn an_address_that_cannot_be_bound_fails_the_build() {
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = taken.local_addr().unwrap().to_string();
    let built = StreamingContext::builder()
        .batch_interval(Duration::from_secs(1))
        .ui(addr)
        .build();
    assert!(built.is_err());
    let built = StreamingContext::builder()
        .batch_interval(Duration::from_secs(1))
        .ui("not an address")
        .build();
    assert!(matches!(built, Err(rill::Error::Config(_))));
}

/// The pixels of a PNG, as RGBA rows: width, height, whether it has two colours or more.
fn png_is_drawn(path: &std::path::Path) -> (u32, u32, usize) {
    let decoder = png::Decoder::new(std::io::BufReader::new(std::fs::File::open(path).unwrap()));
    let mut reader = decoder.read_info().unwrap();
    let mut buf = vec![0; reader.output_buffer_size().unwrap()];
    let info = reader.next_frame(&mut buf).unwrap();
    let px = info.color_type.samples() * (info.bit_depth as usize).div_ceil(8);
    let data = &buf[..info.buffer_size()];
    let mut colours = std::collections::HashSet::new();
    for p in data.chunks(px) {
        colours.insert(p.to_vec());
        if colours.len() > 50 {
            break;
        }
    }
    (info.width, info.height, colours.len())
}

#[test]
fn the_page_draws_the_batches_and_the_plan_in_headless_chromium() {
    let Some(chromium) = servers::chromium() else {
        return;
    };
    let ctx = word_count(24);
    let addr = ctx.ui_addr().unwrap();
    ctx.start().unwrap();
    ctx.advance(24).unwrap();
    let url = format!("http://{addr}/");
    let flags = [
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-dev-shm-usage",
        "--virtual-time-budget=5000",
    ];
    let started = Instant::now();
    let out = std::process::Command::new(&chromium)
        .args(flags)
        .arg("--dump-dom")
        .arg(&url)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let dom = String::from_utf8_lossy(&out.stdout);
    eprintln!("dump-dom took {:?}", started.elapsed());
    let count = |needle: &str| dom.matches(needle).count();
    assert!(
        dom.contains("data-updates="),
        "the page never updated:\n{dom}"
    );
    // Four timelines of 24 points each, and four histograms of 24 values.
    assert_eq!(count("data-points=\"24\""), 4, "{dom}");
    assert_eq!(count("data-values=\"24\""), 4, "{dom}");
    assert_eq!(count("class=\"pt\""), 4 * 24, "{dom}");
    assert_eq!(count("class=\"batch-row\""), 24);
    assert!(dom.contains("class=\"receiver-row\""));
    let stages = if cfg!(feature = "force-unfused") {
        4
    } else {
        2
    };
    assert_eq!(count("class=\"stage-node\""), stages, "{dom}");
    assert!(dom.contains("data-stage=\"1\"") && dom.contains(">flat_map<"));
    assert!(dom.contains("reduce_by_key"));

    let shot = std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join("rill-ui.png");
    let _ = std::fs::remove_file(&shot);
    let out = std::process::Command::new(&chromium)
        .args(flags)
        .arg("--hide-scrollbars")
        .arg("--window-size=1280,2300")
        .arg(format!("--screenshot={}", shot.display()))
        .arg(&url)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let (w, h, colours) = png_is_drawn(&shot);
    assert_eq!((w, h), (1280, 2300));
    assert!(
        colours > 10,
        "the screenshot is nearly blank: {colours} colours"
    );
    eprintln!("screenshot: {}", shot.display());
    ctx.stop().unwrap();
}

#[test]
fn the_status_tells_the_last_checkpoint_and_what_a_recovery_resumed_from() {
    let dir = std::env::temp_dir().join(format!("rill-ui-checkpoint-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let build = || {
        let ctx = StreamingContext::builder()
            .batch_interval(Duration::from_millis(500))
            .parallelism(2)
            .manual_clock()
            .checkpoint_dir(&dir)
            .checkpoint_interval(Duration::from_secs(1))
            .ui("127.0.0.1:0")
            .build()?;
        let queue: Vec<Vec<String>> = (1..=10).map(lines_of).collect();
        stream! { ctx;
            queue_stream(queue).map(|l| (l, 1u64)).update_state_by_key(|n: Vec<u64>, s: Option<u64>| Some(s.unwrap_or(0) + n.len() as u64)).for_each_batch(|_, _| {});
        };
        Ok(ctx)
    };
    let ctx = StreamingContext::get_or_create(&dir, build).unwrap();
    ctx.start().unwrap();
    ctx.advance(5).unwrap();
    let s = get(ctx.ui_addr().unwrap(), "/api/v1/status").json();
    let cp = &s["checkpoint"];
    assert_eq!(cp["dir"], dir.display().to_string());
    // The initial snapshot, then one every second: at 1000 and 2000 ms.
    assert_eq!(cp["written"], 3);
    assert_eq!(cp["last_batch_time_ms"], 2000);
    assert!(cp["last_written_at_ms"].as_u64().unwrap() > 1_600_000_000_000);
    assert_eq!(s["recovery"]["recovered"], false);
    ctx.stop().unwrap();
    drop(ctx);

    let ctx = StreamingContext::get_or_create(&dir, build).unwrap();
    ctx.start().unwrap();
    let s = get(ctx.ui_addr().unwrap(), "/api/v1/status").json();
    let r = &s["recovery"];
    assert_eq!(r["recovered"], true);
    assert_eq!(r["from_batch_time_ms"], 2000);
    // The batch at 2500 ms was logged after the snapshot, and its outputs ran.
    assert_eq!(r["recomputed_batches"], 1);
    assert_eq!(r["outputs_already_done"], 1);
    ctx.advance(1).unwrap();
    let b = get(ctx.ui_addr().unwrap(), "/api/v1/batches").json();
    assert_eq!(b["completed"][0]["time_ms"], 2500);
    ctx.stop().unwrap();
    let _ = std::fs::remove_dir_all(&dir);
}
