//! The builder's receiver limits: `max_line_length` and `max_clients`, over real
//! loopback sockets.

use rill::prelude::*;
use std::io::{ErrorKind, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::time::Instant;

fn ctx_with(limits: impl FnOnce(rill::Builder) -> rill::Builder) -> StreamingContext {
    limits(
        StreamingContext::builder()
            .batch_interval(Duration::from_millis(100))
            .parallelism(2),
    )
    .build()
    .unwrap()
}

/// Lines collected until `want` arrived or 10 s pass.
fn gather(out: &Collected<String>, want: usize) -> Vec<String> {
    let deadline = Instant::now() + Duration::from_secs(10);
    let mut all = Vec::new();
    while all.len() < want && Instant::now() < deadline {
        out.wait_for(1, Duration::from_millis(100));
        all.extend(out.take().into_iter().flatten());
    }
    all
}

#[test]
fn zero_limits_are_configuration_errors() {
    for b in [
        StreamingContext::builder().max_line_length(0),
        StreamingContext::builder().max_clients(0),
    ] {
        let e = b
            .batch_interval(Duration::from_secs(1))
            .build()
            .err()
            .expect("zero is refused")
            .to_string();
        assert!(e.contains("invalid configuration"), "{e}");
    }
}

#[test]
fn a_listen_stream_skips_lines_over_the_maximum_length() {
    let ctx = ctx_with(|b| b.max_line_length(8));
    let out = stream! { ctx;
        socket_listen_stream("127.0.0.1:0").collect()
    };
    ctx.start().unwrap();
    let mut c = TcpStream::connect(ctx.local_addrs()[0]).unwrap();
    c.write_all(b"short\n12345678\r\nnine byte\n").unwrap();
    c.write_all(&[b'x'; 100_000]).unwrap();
    c.write_all(b"\nafter\nlast").unwrap();
    drop(c);
    let lines = gather(&out, 3);
    ctx.stop().unwrap();
    assert_eq!(lines, vec!["short", "12345678", "after", "last"]);
    assert_eq!(ctx.malformed_records(), 2);
}

#[test]
fn a_text_stream_skips_lines_over_the_maximum_length() {
    let server = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = server.local_addr().unwrap().port();
    let ctx = ctx_with(|b| b.max_line_length(4));
    let out = stream! { ctx;
        socket_text_stream("127.0.0.1", port).collect()
    };
    ctx.start().unwrap();
    let (mut conn, _) = server.accept().unwrap();
    conn.write_all(b"one\ntoo long\ntwo\n").unwrap();
    let lines = gather(&out, 2);
    ctx.stop().unwrap();
    assert_eq!(lines, vec!["one", "two"]);
    assert_eq!(ctx.malformed_records(), 1);
}

/// Whether the example closes `c` (reads EOF or a reset) within 5 s.
fn is_closed(c: &mut TcpStream) -> bool {
    c.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    match c.read(&mut [0u8; 1]) {
        Ok(0) => true,
        Ok(_) => false,
        Err(e) => e.kind() == ErrorKind::ConnectionReset,
    }
}

#[test]
fn a_listen_stream_refuses_clients_over_the_maximum() {
    let ctx = ctx_with(|b| b.max_clients(2));
    let out = stream! { ctx;
        socket_listen_stream("127.0.0.1:0").collect()
    };
    ctx.start().unwrap();
    let addr = ctx.local_addrs()[0];
    let mut a = TcpStream::connect(addr).unwrap();
    let mut b = TcpStream::connect(addr).unwrap();
    a.write_all(b"a\n").unwrap();
    b.write_all(b"b\n").unwrap();
    let mut first = gather(&out, 2);
    first.sort();
    assert_eq!(first, vec!["a", "b"]);
    // Both are being served: a third is accepted and closed at once.
    let mut third = TcpStream::connect(addr).unwrap();
    assert!(is_closed(&mut third), "the third client is refused");
    // A place frees up when a client leaves.
    drop(a);
    let deadline = Instant::now() + Duration::from_secs(10);
    let got = loop {
        let mut c = TcpStream::connect(addr).unwrap();
        let _ = c.write_all(b"c\n");
        let got = gather_for(&out, Duration::from_millis(300));
        if !got.is_empty() || Instant::now() > deadline {
            break got;
        }
    };
    ctx.stop().unwrap();
    assert!(!got.is_empty() && got.iter().all(|l| l == "c"), "{got:?}");
    drop(b);
}

/// Lines collected during `d`.
fn gather_for(out: &Collected<String>, d: Duration) -> Vec<String> {
    let end = Instant::now() + d;
    let mut all = Vec::new();
    while Instant::now() < end {
        out.wait_for(1, Duration::from_millis(50));
        all.extend(out.take().into_iter().flatten());
    }
    all
}

#[test]
fn a_listen_stream_with_many_idle_clients_stops_promptly() {
    let ctx = ctx_with(|b| b);
    let out = stream! { ctx;
        socket_listen_stream("127.0.0.1:0").collect()
    };
    ctx.start().unwrap();
    let addr = ctx.local_addrs()[0];
    let mut idle: Vec<TcpStream> = (0..200)
        .map(|_| TcpStream::connect(addr).unwrap())
        .collect();
    idle[199].write_all(b"still served\n").unwrap();
    assert_eq!(gather(&out, 1), vec!["still served"]);
    let t = Instant::now();
    ctx.stop().unwrap();
    assert!(
        t.elapsed() < Duration::from_secs(2),
        "stop took {:?}",
        t.elapsed()
    );
    assert!(is_closed(&mut idle[0]), "stopping closes the clients");
}
