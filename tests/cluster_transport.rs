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

/// A peer that ended its session while this process still exchanges is an error naming
/// it (its connections end cleanly, but the exchange cannot complete).
#[test]
fn a_peer_that_ended_its_session_early_is_an_error() {
    let (spec, peers) = test_cluster(2).unwrap();
    let ex = Exchanger::connect(&spec, CONNECT).unwrap();
    exchange_rounds(&ex, 3);
    if ex.process() == 1 {
        ex.shutdown().unwrap();
        return;
    }
    let started = Instant::now();
    let e = ex.all_to_all(1_000_000, vec![vec![]; 2]).unwrap_err();
    let msg = e.to_string();
    assert!(
        msg.contains(&format!("process 1 ({})", spec.addresses[1])),
        "{msg}"
    );
    assert!(started.elapsed() < NO_HANG, "{msg}");
    drop(ex);
    peers.unwrap().wait().unwrap();
}

/// A peer that exits without ending its session after the last exchange (its
/// connections break) leaves nothing missing: `shutdown` returns, without a panic or an
/// abort of this process.
#[test]
fn a_peer_gone_after_the_last_exchange_does_not_fail_shutdown() {
    let (spec, peers) = test_cluster(2).unwrap();
    let ex = Exchanger::connect(&spec, CONNECT).unwrap();
    exchange_rounds(&ex, 8);
    if ex.process() == 1 {
        std::process::exit(0);
    }
    std::thread::sleep(Duration::from_secs(1));
    let started = Instant::now();
    ex.shutdown().unwrap();
    assert!(started.elapsed() < NO_HANG);
    peers.unwrap().wait().unwrap();
}

/// Several sessions one after another (as a test making several contexts), each on the
/// ports of [`ClusterSpec::session`].
#[test]
fn sessions_follow_one_another() {
    let (spec, peers) = test_cluster(2).unwrap();
    for k in 0..3 {
        let ex = Exchanger::connect(&spec.session(k), CONNECT).unwrap();
        exchange_rounds(&ex, 6);
        ex.shutdown().unwrap();
    }
    if let Some(peers) = peers {
        peers.wait().unwrap();
    }
}

/// The lead engineer's runtime shares one exchanger between threads.
#[test]
fn an_exchanger_is_send_and_sync() {
    fn send_sync<T: Send + Sync>() {}
    send_sync::<Exchanger>();
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

/// The child job of the supervisor tests: process 1 aborts (SIGABRT), process 0 would
/// run for a minute. Does nothing outside a cluster.
#[test]
fn child_process_1_aborts() {
    let Some(spec) = ClusterSpec::from_env().unwrap() else {
        return;
    };
    if spec.process == 1 {
        std::thread::sleep(Duration::from_millis(300));
        std::process::abort();
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
    // `the_supervisor_succeeds_when_every_process_does` asks for 3 workers per process.
    assert_eq!(spec.workers, 3);
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
fn the_supervisor_reports_a_process_killed_by_a_signal() {
    let e = run_local_cluster(2, 1, child_args("child_process_1_aborts")).unwrap_err();
    let msg = e.to_string();
    assert!(msg.contains("process 1 (127.0.0.1:"), "{msg}");
    assert!(msg.contains("was killed by signal SIGABRT"), "{msg}");
}

#[test]
fn the_supervisor_succeeds_when_every_process_does() {
    run_local_cluster(2, 3, child_args("child_exchanges")).unwrap();
}

/// The child supervisor of the signal test: runs `child_until_sigterm` under
/// `local-cluster[2]` and exits with its outcome. Does nothing unless started by
/// [`sigterm_to_the_supervisor_stops_every_process_gracefully`].
#[test]
fn child_supervisor() {
    if std::env::var_os("RILL_TEST_SUPERVISOR").is_none() {
        return;
    }
    run_local_cluster(2, 1, child_args("child_until_sigterm")).unwrap();
}

/// A job that runs until SIGINT/SIGTERM, then stops with success, as a rill job's
/// graceful stop. Does nothing outside a cluster.
#[test]
fn child_until_sigterm() {
    let Some(spec) = ClusterSpec::from_env().unwrap() else {
        return;
    };
    let (stop, stopped) = std::sync::mpsc::channel();
    ctrlc::set_handler(move || {
        let _ = stop.send(());
    })
    .unwrap();
    println!("process {} running", spec.process);
    stopped.recv_timeout(Duration::from_secs(60)).unwrap();
    println!("process {} stopped gracefully", spec.process);
}

/// SIGTERM to the supervisor reaches every process, which stop with success; process 0's
/// stdout is the supervisor's, the others' lines come on its stderr, prefixed.
#[test]
fn sigterm_to_the_supervisor_stops_every_process_gracefully() {
    let exe = std::env::current_exe().unwrap();
    let supervisor = std::process::Command::new(exe)
        .args(child_args("child_supervisor"))
        .env("RILL_TEST_SUPERVISOR", "1")
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    std::thread::sleep(Duration::from_secs(3));
    let started = Instant::now();
    let kill = std::process::Command::new("kill")
        .args(["-TERM", &supervisor.id().to_string()])
        .status()
        .unwrap();
    assert!(kill.success());
    let out = supervisor.wait_with_output().unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{}\n{stdout}\n{stderr}", out.status);
    assert!(started.elapsed() < NO_HANG);
    assert!(
        stdout.contains("process 0 stopped gracefully"),
        "{stdout}\n{stderr}"
    );
    assert!(!stdout.contains("process 1"), "{stdout}");
    assert!(
        stderr.contains("[process 1] process 1 stopped gracefully"),
        "{stderr}"
    );
}

/// With a stall timeout, an exchange that a live peer does not join in time is an error
/// naming that peer.
#[test]
fn a_stalled_exchange_names_the_peer_it_waits_for() {
    let (spec, peers) = test_cluster(2).unwrap();
    let options = rill_runtime::cluster::ExchangerOptions {
        connect_timeout: CONNECT,
        stall_timeout: Some(Duration::from_secs(1)),
        ..Default::default()
    };
    let ex = Exchanger::connect_with(&spec, options).unwrap();
    exchange_rounds(&ex, 2);
    if ex.process() == 1 {
        std::thread::sleep(Duration::from_secs(4));
        // Process 0 gave up on this exchange and ended the session.
        assert!(ex.all_to_all(1_000_000, vec![vec![]; 2]).is_err());
        return;
    }
    let e = ex.all_to_all(1_000_000, vec![vec![]; 2]).unwrap_err();
    let msg = e.to_string();
    assert!(
        msg.contains(&format!("waited 1s for process 1 ({})", spec.addresses[1])),
        "{msg}"
    );
    drop(ex);
    peers.unwrap().wait().unwrap();
}

/// A copy of `payload` for the other process of two, nothing for this one.
fn two(me: usize, payload: &[u8]) -> Vec<Vec<u8>> {
    let mut out = vec![Vec::new(), Vec::new()];
    out[1 - me] = payload.to_vec();
    out
}

/// Rounds per second and MB per second of `all_to_all` between two processes, by payload
/// size. A measurement, not a test:
/// `cargo test --release --features cluster --test cluster_transport -- --ignored --nocapture throughput`.
#[test]
#[ignore = "a benchmark: run it with --release --ignored --nocapture"]
fn throughput() {
    let (spec, peers) = test_cluster(2).unwrap();
    let ex = Exchanger::connect(&spec, CONNECT).unwrap();
    let me = ex.process();
    let mut time = 0u64;
    for size in [0usize, 1 << 10, 64 << 10, 1 << 20, 8 << 20] {
        let rounds: u64 = match size {
            0 | 1024 => 20_000,
            65_536 => 5_000,
            1_048_576 => 500,
            _ => 60,
        };
        let payload = vec![0x5a_u8; size];
        for warm_up in [true, false] {
            let n = if warm_up { rounds / 10 } else { rounds };
            let started = Instant::now();
            for _ in 0..n {
                time += 1;
                let got = ex.all_to_all(time, two(me, &payload)).unwrap();
                assert_eq!(got[1 - me].len(), size);
            }
            let secs = started.elapsed().as_secs_f64();
            if !warm_up && me == 0 {
                let mb = (n as f64) * (size as f64) / secs / 1e6;
                println!(
                    "payload {size:>8} B to the other process: {:>8.0} rounds/s, {mb:>7.1} MB/s sent per process ({n} rounds in {secs:.2} s)",
                    n as f64 / secs
                );
            }
        }
    }
    ex.shutdown().unwrap();
    if let Some(peers) = peers {
        peers.wait().unwrap();
    }
}
