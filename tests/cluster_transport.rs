//! The cluster transport between real processes: this test binary runs its own tests again
//! as the other processes of a cluster (`test_cluster`, `spawn_test_peers`), or under the
//! `local-cluster[N]` supervisor (`run_local_cluster`).
//!
//! Needs `--features cluster`.

#![cfg(feature = "cluster")]

use std::ffi::OsString;
use std::time::{Duration, Instant};

use rill_runtime::cluster::{ClusterSpec, Exchanger, local_spec, run_local_cluster, test_cluster};

/// Generous: this is about not hanging, not about speed.
const NO_HANG: Duration = Duration::from_secs(20);
const CONNECT: Duration = Duration::from_secs(60);

/// What process `from` sends process `to` in round `round`: empty every 5th round, a few
/// MB every 7th, small otherwise; distinct per (from, to, round).
fn payload(from: usize, to: usize, round: u64) -> Vec<u8> {
    let len = match round % 35 {
        r if r % 5 == 0 => 0,
        r if r % 7 == 3 => 3 << 20 | (from * 7 + to),
        r => 10 + (r as usize) * 13 + from * 3 + to,
    };
    let seed = (from as u64) << 40 ^ (to as u64) << 32 ^ round;
    let mut x = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
    (0..len)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x as u8
        })
        .collect()
}

/// `rounds` exchanges at spaced, increasing timestamps; each checks every sender's payload.
fn exchange_rounds(ex: &Exchanger, rounds: u64) {
    let (me, n) = (ex.process(), ex.processes());
    for round in 0..rounds {
        let out = (0..n).map(|to| payload(me, to, round)).collect();
        let got = ex
            .all_to_all(1_000 * round + 7, out)
            .unwrap_or_else(|e| panic!("round {round}: {e}"));
        assert_eq!(got.len(), n);
        for (from, bytes) in got.iter().enumerate() {
            assert!(
                *bytes == payload(from, me, round),
                "round {round}: from process {from}: {} bytes, wanted {}",
                bytes.len(),
                payload(from, me, round).len()
            );
        }
    }
}

#[test]
fn two_processes_exchange_many_rounds() {
    let (spec, peers) = test_cluster(2).unwrap();
    let ex = Exchanger::connect(&spec, CONNECT).unwrap();
    exchange_rounds(&ex, 70);
    ex.shutdown().unwrap();
    if let Some(peers) = peers {
        peers.wait().unwrap();
    }
}

#[test]
fn three_processes_exchange_with_senders_in_order() {
    let (spec, peers) = test_cluster(3).unwrap();
    let ex = Exchanger::connect(&spec, CONNECT).unwrap();
    let me = ex.process();
    for round in 0..30u64 {
        let out = (0..3)
            .map(|to| format!("{me}->{to}#{round}").into_bytes())
            .collect();
        let got = ex.all_to_all(round, out).unwrap();
        let want: Vec<Vec<u8>> = (0..3)
            .map(|from| format!("{from}->{me}#{round}").into_bytes())
            .collect();
        assert_eq!(got, want);
    }
    ex.shutdown().unwrap();
    if let Some(peers) = peers {
        peers.wait().unwrap();
    }
}

/// Process 2 is killed (SIGKILL) while processes 0 and 1 wait in an exchange: both get an
/// error naming process 2 and its address, well within [`NO_HANG`].
#[test]
fn a_killed_peer_is_an_error_naming_it() {
    let (spec, peers) = test_cluster(3).unwrap();
    let ex = Exchanger::connect(&spec, CONNECT).unwrap();
    exchange_rounds(&ex, 6);
    let victim = format!("process 2 ({})", spec.addresses[2]);
    match ex.process() {
        2 => {
            // Killed here, mid-exchange for the others.
            std::thread::sleep(Duration::from_secs(120));
            panic!("process 2 was not killed");
        }
        1 => {
            let started = Instant::now();
            let e = ex.all_to_all(1_000_000, vec![vec![1; 100]; 3]).unwrap_err();
            assert!(e.to_string().contains(&victim), "{e}");
            assert!(started.elapsed() < Duration::from_secs(60), "{e}");
            // Later calls repeat the failure instead of hanging.
            assert!(ex.all_to_all(2_000_000, vec![vec![]; 3]).is_err());
            drop(ex);
        }
        _ => {
            let mut peers = peers.unwrap();
            let killer = std::thread::spawn(move || {
                std::thread::sleep(Duration::from_millis(500));
                peers.kill(2).unwrap();
                (Instant::now(), peers)
            });
            let e = ex.all_to_all(1_000_000, vec![vec![1; 100]; 3]).unwrap_err();
            let noticed = Instant::now();
            let (killed, peers) = killer.join().unwrap();
            let msg = e.to_string();
            assert!(msg.contains(&victim), "{msg}");
            assert!(noticed.duration_since(killed) < NO_HANG, "{msg}");
            eprintln!(
                "lost peer noticed {:?} after the kill: {msg}",
                noticed.duration_since(killed)
            );
            drop(ex);
            // Process 1 checked its own error and exited 0; process 2 was killed.
            let status = peers.wait().unwrap_err().to_string();
            assert!(
                status.contains("process 2") && status.contains("SIGKILL"),
                "{status}"
            );
        }
    }
}

/// One process started without the other fails with a clear error, not a hang.
#[test]
fn a_missing_peer_fails_the_bootstrap() {
    let spec = local_spec(2, 1).unwrap();
    for process in [0, 1] {
        let started = Instant::now();
        let e = Exchanger::connect(&spec.for_process(process), Duration::from_secs(2)).unwrap_err();
        let other = 1 - process;
        let named = format!("process {other} ({})", spec.addresses[other]);
        assert!(e.to_string().contains(&named), "{e}");
        assert!(started.elapsed() < NO_HANG);
    }
}

/// The child job of the supervisor tests: process 1 fails, process 0 would run for a
/// minute. Does nothing outside a cluster.
#[test]
fn child_process_1_fails() {
    let Some(spec) = ClusterSpec::from_env().unwrap() else {
        return;
    };
    if spec.process == 1 {
        std::thread::sleep(Duration::from_millis(300));
        std::process::exit(3);
    }
    std::thread::sleep(Duration::from_secs(60));
}

/// The child job of the supervisor tests: a few exchanges, then success. Does nothing
/// outside a cluster.
#[test]
fn child_exchanges() {
    let Some(spec) = ClusterSpec::from_env().unwrap() else {
        return;
    };
    let ex = Exchanger::connect(&spec, CONNECT).unwrap();
    exchange_rounds(&ex, 12);
    ex.shutdown().unwrap();
}

fn child_args(test: &str) -> Vec<OsString> {
    [test, "--exact", "--nocapture", "--test-threads=1"]
        .into_iter()
        .map(OsString::from)
        .collect()
}

#[test]
fn the_supervisor_kills_the_others_when_a_process_fails() {
    let started = Instant::now();
    let e = run_local_cluster(2, 1, child_args("child_process_1_fails")).unwrap_err();
    let msg = e.to_string();
    assert!(msg.contains("process 1 (127.0.0.1:"), "{msg}");
    assert!(msg.contains("exited with status 3"), "{msg}");
    // Process 0 would have slept a minute: it was killed.
    assert!(started.elapsed() < Duration::from_secs(45), "{msg}");
}

#[test]
fn the_supervisor_succeeds_when_every_process_does() {
    run_local_cluster(2, 1, child_args("child_exchanges")).unwrap();
}
