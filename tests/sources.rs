//! Sources over real sockets and a real directory.

use rill::prelude::*;
use std::io::Write;
use std::net::{TcpListener, TcpStream};
use std::time::Instant;

fn system_ctx() -> StreamingContext {
    StreamingContext::builder()
        .batch_interval(Duration::from_millis(100))
        .parallelism(2)
        .build()
        .unwrap()
}

/// Takes collected batches until `want` records arrived in total or 10 s pass.
fn gather<T: Clone>(out: &Collected<T>, want: usize) -> Vec<T> {
    let deadline = Instant::now() + Duration::from_secs(10);
    let mut all = Vec::new();
    while all.len() < want && Instant::now() < deadline {
        out.wait_for(1, Duration::from_millis(100));
        for b in out.take() {
            all.extend(b);
        }
    }
    all
}

#[test]
fn text_file_stream_reads_new_files_once() {
    let dir = std::env::temp_dir().join(format!("rill-files-{}", std::process::id()));
    let staging = dir.with_extension("staging");
    for d in [&dir, &staging] {
        let _ = std::fs::remove_dir_all(d);
        std::fs::create_dir_all(d).unwrap();
    }
    std::fs::write(dir.join("before.txt"), "ignored\n").unwrap();
    let ctx = StreamingContext::manual(Duration::from_secs(1));
    let watched = dir.clone();
    let out = stream! { ctx;
        let lines = text_file_stream(watched);
        lines.flat_map(|l| l.split(' ')).map(|w| (w, 1u32)).reduce_by_key(|a, b| a + b).collect()
    };
    ctx.start().unwrap();
    std::fs::write(staging.join("a.txt"), "x y\nx\n").unwrap();
    std::fs::rename(staging.join("a.txt"), dir.join("a.txt")).unwrap();
    ctx.advance(1).unwrap();
    ctx.advance(1).unwrap();
    std::fs::write(dir.join("b.txt"), "y").unwrap();
    std::fs::write(dir.join("_COPYING_c.txt"), "z").unwrap();
    ctx.advance(1).unwrap();
    let mut got = out.take();
    got[0].sort();
    assert_eq!(
        got,
        vec![
            vec![("x".to_string(), 2), ("y".to_string(), 1)],
            vec![],
            vec![("y".to_string(), 1)]
        ]
    );
    std::fs::remove_dir_all(&dir).unwrap();
    std::fs::remove_dir_all(&staging).unwrap();
}

#[test]
fn text_file_stream_on_a_missing_directory_fails_at_start() {
    let ctx = StreamingContext::manual(Duration::from_secs(1));
    stream! { ctx;
        text_file_stream("/nonexistent/rill/dir").print();
    };
    let e = ctx.start().unwrap_err().to_string();
    assert!(e.contains("cannot read directory"), "{e}");
}

#[test]
fn socket_listen_stream_takes_lines_from_many_clients() {
    let ctx = system_ctx();
    let out = stream! { ctx;
        let lines = socket_listen_stream("127.0.0.1:0");
        lines.flat_map(|l| l.split(' ')).map(|w| (w, 1u64)).reduce_by_key(|a, b| a + b).collect()
    };
    ctx.start().unwrap();
    let addr = ctx.local_addrs()[0];
    let mut a = TcpStream::connect(addr).unwrap();
    let mut b = TcpStream::connect(addr).unwrap();
    a.write_all(b"hello world hello\n").unwrap();
    b.write_all(b"world\r\nbad \xff line\n").unwrap();
    drop(a);
    drop(b);
    let mut c = TcpStream::connect(addr).unwrap();
    c.write_all(b"last").unwrap();
    drop(c);
    let pairs = gather(&out, 3);
    let mut totals = std::collections::BTreeMap::new();
    for (w, n) in pairs {
        *totals.entry(w).or_insert(0) += n;
    }
    let deadline = Instant::now() + Duration::from_secs(5);
    while totals.values().sum::<u64>() < 5 && Instant::now() < deadline {
        for (w, n) in gather(&out, 1) {
            *totals.entry(w).or_insert(0) += n;
        }
    }
    ctx.stop().unwrap();
    assert_eq!(totals.get("hello"), Some(&2));
    assert_eq!(totals.get("world"), Some(&2));
    assert_eq!(totals.get("last"), Some(&1));
    assert_eq!(totals.len(), 3, "{totals:?}");
    assert_eq!(ctx.malformed_records(), 1);
}

#[test]
fn socket_listen_stream_reports_an_address_in_use() {
    let taken = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = taken.local_addr().unwrap().to_string();
    let ctx = system_ctx();
    stream! { ctx;
        socket_listen_stream(addr).print();
    };
    let e = ctx.start().unwrap_err().to_string();
    assert!(e.contains("cannot listen on"), "{e}");
}

/// Serves `lines` to the first client of `listener`, then closes the connection.
fn serve_once(listener: &TcpListener, lines: &str) {
    let (mut conn, _) = listener.accept().unwrap();
    conn.write_all(lines.as_bytes()).unwrap();
}

#[test]
fn socket_text_stream_survives_the_server_going_away_and_coming_back() {
    // A free port with no server on it yet: the receiver must retry.
    let port = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let ctx = system_ctx();
    let out = stream! { ctx;
        socket_text_stream("127.0.0.1", port).collect()
    };
    ctx.start().unwrap();
    std::thread::sleep(Duration::from_millis(300));
    {
        let server = TcpListener::bind(("127.0.0.1", port)).unwrap();
        serve_once(&server, "one\ntwo\n");
    } // the server goes away
    let first = gather(&out, 2);
    std::thread::sleep(Duration::from_millis(300));
    let server = TcpListener::bind(("127.0.0.1", port)).unwrap();
    serve_once(&server, "three\n");
    let second = gather(&out, 1);
    ctx.stop().unwrap();
    assert_eq!(first, vec!["one", "two"]);
    assert_eq!(second, vec!["three"]);
}

/// Spark's InputStreamsSuite "queue input stream - oneAtATime = true": entries pushed
/// while the job runs come out one per batch, in order; an empty queue gives an empty
/// batch.
#[test]
fn queue_stream_over_a_queue_pushed_to_while_running_one_at_a_time() {
    let ctx = StreamingContext::manual(Duration::from_secs(1));
    let queue = rill::source::Queue::new();
    let q = queue.clone();
    let out = stream! { ctx;
        queue_stream(q).collect()
    };
    ctx.start().unwrap();
    queue.push(vec![1, 2]);
    queue.push(vec![3]);
    ctx.advance(1).unwrap();
    queue.push(vec![4, 5]);
    ctx.advance(3).unwrap();
    assert_eq!(out.take(), vec![vec![1, 2], vec![3], vec![4, 5], vec![]]);
    assert!(queue.is_empty());
}

/// Spark's InputStreamsSuite "queue input stream - oneAtATime = false": every entry
/// queued at a batch time goes into that batch, in queue order.
#[test]
fn queue_stream_over_a_queue_taking_everything_queued_per_batch() {
    let ctx = StreamingContext::manual(Duration::from_secs(1));
    let queue = rill::source::Queue::new().one_at_a_time(false);
    let q = queue.clone();
    let out = stream! { ctx;
        queue_stream(q).map(|w: &str| w.to_uppercase()).collect()
    };
    ctx.start().unwrap();
    queue.push(vec!["a"]);
    queue.push(vec!["b", "c"]);
    ctx.advance(1).unwrap();
    ctx.advance(1).unwrap();
    queue.push(vec!["d"]);
    ctx.advance(1).unwrap();
    assert_eq!(
        out.take(),
        vec![
            vec!["A".to_string(), "B".into(), "C".into()],
            vec![],
            vec!["D".into()]
        ]
    );
}
