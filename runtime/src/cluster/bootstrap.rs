//! Connecting the processes of a cluster to each other, within a deadline.
//!
//! The mesh is timely's: process `i` connects to every process `j < i` and accepts a
//! connection from every `j > i`, and the connecting side first writes its index (a
//! big-endian `u64`, as timely's `networking::create_sockets`). rill does this step
//! itself and hands the connected sockets to timely's
//! `initialize_networking_from_sockets` (the entry point timely offers for sockets
//! connected beforehand) because timely's own `create_sockets` retries forever (no
//! deadline: a missing peer is a hang), prints its progress on stdout (process 0's
//! stdout is the job's output), and panics on a stranger's connection. The handshake
//! adds a magic number and the number of processes, so a stray connection or a process
//! of another cluster is refused with a message instead of being taken for a peer.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream, ToSocketAddrs};
use std::time::{Duration, Instant};

use super::spec::ClusterSpec;
use crate::{Error, Result};

/// "rillclus" in ASCII: the first word of every handshake.
const MAGIC: u64 = 0x7269_6c6c_636c_7573;
/// How long to wait between connection attempts.
const RETRY: Duration = Duration::from_millis(100);

/// Connects this process to every other one: one socket per process, in process order,
/// `None` at this process's own index. Fails (naming the processes still missing) if the
/// mesh is not complete within `timeout`.
pub(crate) fn connect_mesh(
    spec: &ClusterSpec,
    timeout: Duration,
) -> Result<Vec<Option<TcpStream>>> {
    let deadline = Instant::now() + timeout;
    let me = spec.process;
    let listener = if me + 1 < spec.processes {
        let address = &spec.addresses[me];
        let listener = TcpListener::bind(address.as_str()).map_err(|e| {
            Error::Cluster(format!(
                "{} cannot listen on {address}: {e}",
                spec.describe(me)
            ))
        })?;
        listener
            .set_nonblocking(true)
            .map_err(|e| Error::io("setting the cluster listener non-blocking", e))?;
        Some(listener)
    } else {
        None
    };
    // Accept the higher processes while connecting to the lower ones.
    let (lower, higher) = std::thread::scope(|scope| {
        let accepting = listener
            .as_ref()
            .map(|l| scope.spawn(move || accept_higher(spec, l, deadline)));
        let lower = connect_lower(spec, deadline);
        let higher = match accepting {
            Some(handle) => handle.join().unwrap_or_else(|p| {
                Err(Error::Cluster(format!(
                    "accepting cluster connections panicked: {}",
                    crate::error::panic_message(p.as_ref())
                )))
            }),
            None => Ok(Vec::new()),
        };
        (lower, higher)
    });
    let mut sockets = lower?;
    sockets.push(None);
    sockets.extend(higher?.into_iter().map(Some));
    for socket in sockets.iter().flatten() {
        configure(socket).map_err(|e| Error::io("configuring a cluster connection", e))?;
    }
    Ok(sockets)
}

/// How long data sent may stay unacknowledged before the connection counts as dead
/// (Linux): a peer host that vanished while data was on its way to it.
#[cfg(target_os = "linux")]
const USER_TIMEOUT: Duration = Duration::from_secs(20);

/// Blocking, no read timeout (timely's threads take a timeout for a failure), no
/// Nagle delay, and keepalive probes (an idle connection) and a user timeout (a
/// connection with data in flight, on Linux) so a vanished host ends the connection.
fn configure(socket: &TcpStream) -> std::io::Result<()> {
    socket.set_nonblocking(false)?;
    socket.set_read_timeout(None)?;
    socket.set_write_timeout(None)?;
    socket.set_nodelay(true)?;
    let keepalive = socket2::TcpKeepalive::new().with_time(Duration::from_secs(5));
    #[cfg(any(target_os = "linux", target_os = "macos", target_os = "freebsd"))]
    let keepalive = keepalive
        .with_interval(Duration::from_secs(1))
        .with_retries(10);
    let socket = socket2::SockRef::from(socket);
    socket.set_tcp_keepalive(&keepalive)?;
    #[cfg(target_os = "linux")]
    socket.set_tcp_user_timeout(Some(USER_TIMEOUT))?;
    Ok(())
}

/// Connects to processes `0..me`, retrying until `deadline`.
fn connect_lower(spec: &ClusterSpec, deadline: Instant) -> Result<Vec<Option<TcpStream>>> {
    let me = spec.process;
    let mut sockets = Vec::with_capacity(me);
    for peer in 0..me {
        let socket = loop {
            let last_error;
            match try_connect(&spec.addresses[peer], deadline) {
                Ok(mut socket) => {
                    let mut hello = Vec::with_capacity(24);
                    for word in [MAGIC, me as u64, spec.processes as u64] {
                        hello.extend_from_slice(&word.to_be_bytes());
                    }
                    match socket.write_all(&hello) {
                        Ok(()) => break socket,
                        Err(e) => last_error = format!("handshake failed: {e}"),
                    }
                }
                Err(e) => last_error = e,
            }
            if Instant::now() + RETRY >= deadline {
                return Err(Error::Cluster(format!(
                    "{} could not connect to {} before the bootstrap timeout: {last_error}",
                    spec.describe(me),
                    spec.describe(peer)
                )));
            }
            std::thread::sleep(RETRY);
        };
        sockets.push(Some(socket));
    }
    Ok(sockets)
}

/// One attempt to connect to `address` (any of its resolved addresses), each bounded by
/// the time left.
fn try_connect(address: &str, deadline: Instant) -> std::result::Result<TcpStream, String> {
    let targets: Vec<SocketAddr> = address
        .to_socket_addrs()
        .map_err(|e| format!("cannot resolve {address}: {e}"))?
        .collect();
    let mut last = format!("{address} resolves to no address");
    for target in targets {
        let left = deadline.saturating_duration_since(Instant::now());
        let attempt = left.clamp(Duration::from_millis(10), Duration::from_secs(2));
        match TcpStream::connect_timeout(&target, attempt) {
            Ok(socket) => return Ok(socket),
            Err(e) => last = format!("{target}: {e}"),
        }
    }
    Err(last)
}

/// Accepts processes `me+1..processes` on `listener` until `deadline`.
fn accept_higher(
    spec: &ClusterSpec,
    listener: &TcpListener,
    deadline: Instant,
) -> Result<Vec<TcpStream>> {
    let me = spec.process;
    let mut sockets: Vec<Option<TcpStream>> = (me + 1..spec.processes).map(|_| None).collect();
    while sockets.iter().any(Option::is_none) {
        match listener.accept() {
            Ok((mut socket, from)) => match handshake(spec, &mut socket, deadline) {
                Ok(peer) if peer > me && sockets[peer - me - 1].is_none() => {
                    sockets[peer - me - 1] = Some(socket);
                }
                Ok(peer) => tracing::warn!(
                    "{}: refused a second connection claiming to be process {peer} from {from}",
                    spec.describe(me)
                ),
                Err(why) => tracing::warn!(
                    "{}: refused a connection from {from}: {why}",
                    spec.describe(me)
                ),
            },
            Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {
                if Instant::now() >= deadline {
                    let missing: Vec<String> = sockets
                        .iter()
                        .enumerate()
                        .filter(|(_, s)| s.is_none())
                        .map(|(i, _)| spec.describe(me + 1 + i))
                        .collect();
                    return Err(Error::Cluster(format!(
                        "{} did not hear from {} before the bootstrap timeout",
                        spec.describe(me),
                        missing.join(", ")
                    )));
                }
                std::thread::sleep(Duration::from_millis(20));
            }
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => {
                return Err(Error::Cluster(format!(
                    "{} cannot accept connections: {e}",
                    spec.describe(me)
                )));
            }
        }
    }
    Ok(sockets.into_iter().flatten().collect())
}

/// Reads a connecting process's handshake; its index when it is one of this cluster's.
fn handshake(
    spec: &ClusterSpec,
    socket: &mut TcpStream,
    deadline: Instant,
) -> std::result::Result<usize, String> {
    let left = deadline.saturating_duration_since(Instant::now());
    socket
        .set_nonblocking(false)
        .and_then(|()| socket.set_read_timeout(Some(left.max(Duration::from_millis(500)))))
        .map_err(|e| e.to_string())?;
    let mut hello = [0u8; 24];
    socket
        .read_exact(&mut hello)
        .map_err(|e| format!("no handshake: {e}"))?;
    let word = |i: usize| {
        let mut bytes = [0u8; 8];
        bytes.copy_from_slice(&hello[i * 8..i * 8 + 8]);
        u64::from_be_bytes(bytes)
    };
    if word(0) != MAGIC {
        return Err("not a rill cluster process".into());
    }
    let (peer, processes) = (word(1), word(2));
    if processes != spec.processes as u64 {
        return Err(format!(
            "process {peer} belongs to a cluster of {processes} processes, this one has {}",
            spec.processes
        ));
    }
    usize::try_from(peer)
        .ok()
        .filter(|p| *p < spec.processes)
        .ok_or_else(|| format!("process index {peer} out of range"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn free_addresses(n: usize) -> Vec<String> {
        let listeners: Vec<TcpListener> = (0..n)
            .map(|_| TcpListener::bind("127.0.0.1:0").unwrap())
            .collect();
        listeners
            .iter()
            .map(|l| l.local_addr().unwrap().to_string())
            .collect()
    }

    #[test]
    fn three_processes_make_a_mesh() {
        let addresses = free_addresses(3);
        let handles: Vec<_> = (0..3)
            .map(|p| {
                let spec = ClusterSpec {
                    processes: 3,
                    process: p,
                    addresses: addresses.clone(),
                    workers: 1,
                };
                std::thread::spawn(move || connect_mesh(&spec, Duration::from_secs(10)))
            })
            .collect();
        for (p, handle) in handles.into_iter().enumerate() {
            let sockets = handle.join().unwrap().unwrap();
            assert_eq!(sockets.len(), 3);
            for (q, s) in sockets.iter().enumerate() {
                assert_eq!(s.is_none(), p == q);
            }
        }
    }

    #[test]
    fn a_missing_peer_is_an_error_naming_it() {
        let addresses = free_addresses(2);
        let spec = ClusterSpec {
            processes: 2,
            process: 0,
            addresses: addresses.clone(),
            workers: 1,
        };
        let e = connect_mesh(&spec, Duration::from_millis(300)).unwrap_err();
        assert!(e.to_string().contains("process 1"), "{e}");
        let e = connect_mesh(&spec.for_process(1), Duration::from_millis(300)).unwrap_err();
        assert!(
            e.to_string()
                .contains(&format!("process 0 ({})", addresses[0])),
            "{e}"
        );
    }

    #[test]
    fn a_stranger_is_refused() {
        let addresses = free_addresses(2);
        let spec = ClusterSpec {
            processes: 2,
            process: 0,
            addresses: addresses.clone(),
            workers: 1,
        };
        let target = addresses[0].clone();
        let stranger = std::thread::spawn(move || {
            for _ in 0..50 {
                if let Ok(mut s) = TcpStream::connect(&target) {
                    let _ = s.write_all(b"GET / HTTP/1.0\r\n\r\n......");
                    return;
                }
                std::thread::sleep(Duration::from_millis(20));
            }
        });
        let e = connect_mesh(&spec, Duration::from_millis(1500)).unwrap_err();
        assert!(e.to_string().contains("did not hear from process 1"), "{e}");
        stranger.join().unwrap();
    }
}
