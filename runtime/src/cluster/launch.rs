//! The `local-cluster[N]` supervisor, and peer processes for tests.
//!
//! Both start copies of the current executable with the environment of
//! [`ClusterSpec::to_env`], on free loopback ports.

use std::ffi::OsString;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpListener;
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::mpsc::Sender;
use std::time::Duration;

use super::spec::ClusterSpec;
use crate::{Error, Result};

/// `local-cluster[N]` (Spark's test master) or `local-cluster[N,W]` (W workers per
/// process) -> `(N, W)`; `None` for anything else (including `N` or `W` of 0).
pub fn parse_master(master: &str) -> Option<(usize, Option<usize>)> {
    let inner = master
        .trim()
        .strip_prefix("local-cluster[")?
        .strip_suffix(']')?;
    let mut parts = inner.split(',').map(str::trim);
    let processes = parts.next()?.parse::<usize>().ok().filter(|n| *n > 0)?;
    let workers = match parts.next() {
        Some(w) => Some(w.parse::<usize>().ok().filter(|w| *w > 0)?),
        None => None,
    };
    if parts.next().is_some() {
        return None;
    }
    Some((processes, workers))
}

/// `n` loopback addresses whose ports were free a moment ago (bound together, so they
/// differ, then released for the processes to bind).
pub fn free_loopback_addresses(n: usize) -> Result<Vec<String>> {
    let listeners = (0..n)
        .map(|_| TcpListener::bind("127.0.0.1:0"))
        .collect::<std::io::Result<Vec<_>>>()
        .map_err(|e| Error::io("picking free loopback ports", e))?;
    listeners
        .iter()
        .map(|l| l.local_addr().map(|a| a.to_string()))
        .collect::<std::io::Result<Vec<_>>>()
        .map_err(|e| Error::io("picking free loopback ports", e))
}

/// A cluster of `processes` processes on free loopback ports, seen from process 0.
pub fn local_spec(processes: usize, workers: usize) -> Result<ClusterSpec> {
    ClusterSpec {
        processes,
        process: 0,
        addresses: free_loopback_addresses(processes)?,
        workers,
    }
    .validated()
}

/// Signals the supervisor received and has not forwarded yet are counted here.
static SIGNALS: AtomicUsize = AtomicUsize::new(0);

/// Counts SIGINT/SIGTERM/SIGHUP from now on (once per process); false when another
/// handler owns them.
fn catch_signals() -> bool {
    static INSTALLED: std::sync::OnceLock<bool> = std::sync::OnceLock::new();
    *INSTALLED.get_or_init(|| {
        ctrlc::set_handler(|| {
            SIGNALS.fetch_add(1, Ordering::SeqCst);
        })
        .map_err(|e| tracing::warn!("local-cluster: cannot forward SIGINT/SIGTERM: {e}"))
        .is_ok()
    })
}

/// Sends SIGTERM to a child (the graceful stop of a rill job).
fn terminate(child: &Child) {
    #[cfg(unix)]
    {
        if let Ok(pid) = i32::try_from(child.id()) {
            let _ = nix::sys::signal::kill(
                nix::unistd::Pid::from_raw(pid),
                nix::sys::signal::Signal::SIGTERM,
            );
        }
    }
    #[cfg(not(unix))]
    let _ = child;
}

/// Copies a child's output to the supervisor's stderr, each line prefixed with
/// `[process i] ` (whole lines, under stderr's lock: lines of different processes do not
/// mix). `done` hears when the output has ended.
fn relay<R: Read + Send + 'static>(process: usize, from: R, done: Sender<()>) {
    let _ = std::thread::Builder::new()
        .name(format!("local-cluster-relay-{process}"))
        .spawn(move || {
            let mut reader = BufReader::new(from);
            let mut line = Vec::new();
            loop {
                line.clear();
                match reader.read_until(b'\n', &mut line) {
                    Ok(0) | Err(_) => {
                        let _ = done.send(());
                        return;
                    }
                    Ok(_) => {
                        if !line.ends_with(b"\n") {
                            line.push(b'\n');
                        }
                        let mut out = std::io::stderr().lock();
                        let _ = out.write_all(format!("[process {process}] ").as_bytes());
                        let _ = out.write_all(&line);
                    }
                }
            }
        });
}

/// Waits for the last lines of the processes' relayed output (what a failed process said
/// last explains its failure), unless something they started still holds their pipes.
fn wait_relays(done: &std::sync::mpsc::Receiver<()>, relays: usize) {
    for _ in 0..relays {
        if done.recv_timeout(Duration::from_secs(2)).is_err() {
            return;
        }
    }
}

/// How a child ended, for messages.
fn describe_status(status: &ExitStatus) -> String {
    #[cfg(unix)]
    {
        use std::os::unix::process::ExitStatusExt;
        if let Some(signal) = status.signal() {
            let name = nix::sys::signal::Signal::try_from(signal)
                .map(|s| s.as_str().to_string())
                .unwrap_or_else(|_| signal.to_string());
            return format!("was killed by signal {name}");
        }
    }
    match status.code() {
        Some(code) => format!("exited with status {code}"),
        None => format!("ended with {status}"),
    }
}

/// Kills (SIGKILL, by PID) and reaps every child still running.
fn kill_all(children: &mut [(usize, Child)]) {
    for (_, child) in children.iter_mut() {
        if matches!(child.try_wait(), Ok(None)) {
            let _ = child.kill();
        }
    }
    for (_, child) in children.iter_mut() {
        let _ = child.wait();
    }
}

/// The supervisor of `--master local-cluster[N]`: picks `processes` free loopback ports,
/// starts that many copies of the current executable with `args` (the caller removes
/// `--master ...`) and the environment of [`ClusterSpec::to_env`] for process `i`, and
/// waits for them.
///
/// Process 0 shares the supervisor's stdout and stderr: its stdout is exactly the job's
/// output. The others' stdout and stderr go to the supervisor's stderr, each line
/// prefixed with `[process i] `. SIGINT and SIGTERM to the supervisor are forwarded to
/// every process as SIGTERM (a rill job's graceful stop); the processes are in their own
/// process group, so a terminal's Ctrl-C reaches them once, through the supervisor.
///
/// When a process exits unsuccessfully (a non-zero status or a signal), the others are
/// killed (SIGKILL) and the error names that process and its status. `Ok` when all exit
/// with 0.
pub fn run_local_cluster(processes: usize, workers: usize, args: Vec<OsString>) -> Result<()> {
    let spec = local_spec(processes, workers)?;
    let exe =
        std::env::current_exe().map_err(|e| Error::io("finding the current executable", e))?;
    let forwarding = catch_signals();
    let mut seen = SIGNALS.load(Ordering::SeqCst);
    let mut children: Vec<(usize, Child)> = Vec::with_capacity(processes);
    let (relayed, relays_done) = std::sync::mpsc::channel();
    let mut relays = 0;
    for process in 0..processes {
        let mut command = Command::new(&exe);
        command.args(&args).envs(spec.for_process(process).to_env());
        #[cfg(unix)]
        if forwarding {
            use std::os::unix::process::CommandExt;
            command.process_group(0);
        }
        if process > 0 {
            command.stdout(Stdio::piped()).stderr(Stdio::piped());
        }
        match command.spawn() {
            Ok(mut child) => {
                if let Some(out) = child.stdout.take() {
                    relay(process, out, relayed.clone());
                    relays += 1;
                }
                if let Some(err) = child.stderr.take() {
                    relay(process, err, relayed.clone());
                    relays += 1;
                }
                children.push((process, child));
            }
            Err(e) => {
                kill_all(&mut children);
                return Err(Error::io(
                    format!("starting process {process} of local-cluster[{processes}]"),
                    e,
                ));
            }
        }
    }
    let mut running: Vec<bool> = vec![true; processes];
    loop {
        let signals = SIGNALS.load(Ordering::SeqCst);
        if signals != seen {
            seen = signals;
            for (_, child) in &children {
                terminate(child);
            }
        }
        for (process, child) in children.iter_mut() {
            if !running[*process] {
                continue;
            }
            match child.try_wait() {
                Ok(None) => {}
                Ok(Some(status)) if status.success() => running[*process] = false,
                Ok(Some(status)) => {
                    running[*process] = false;
                    let failed = *process;
                    let address = spec.addresses[failed].clone();
                    kill_all(&mut children);
                    wait_relays(&relays_done, relays);
                    return Err(Error::Cluster(format!(
                        "process {failed} ({address}) of local-cluster[{processes}] {}; \
                         stopped the others",
                        describe_status(&status)
                    )));
                }
                Err(e) => {
                    let failed = *process;
                    kill_all(&mut children);
                    return Err(Error::io(format!("waiting for process {failed}"), e));
                }
            }
        }
        if running.iter().all(|r| !r) {
            wait_relays(&relays_done, relays);
            return Ok(());
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// Peer processes of a test under `local-cluster[N]`: processes `1..N` running one test of
/// the current test binary. Dropping it kills those still running.
#[derive(Debug)]
pub struct TestPeers {
    spec: ClusterSpec,
    children: Vec<(usize, Child)>,
}

/// For tests under `local-cluster[N]`: starts processes `1..N` running the current test
/// binary's test `test_name` only (`<exe> <test_name> --exact --nocapture
/// --test-threads=1 --include-ignored`, so an ignored test, such as a benchmark, runs
/// there as it does here; libtest names each test's thread after the test, so
/// `std::thread::current().name()` is the name) with the cluster environment of
/// `spec0` for process `i`.
pub fn spawn_test_peers(spec0: &ClusterSpec, test_name: &str) -> Result<TestPeers> {
    let exe = std::env::current_exe().map_err(|e| Error::io("finding the test binary", e))?;
    let mut peers = TestPeers {
        spec: spec0.clone(),
        children: Vec::new(),
    };
    for process in 1..spec0.processes {
        let child = Command::new(&exe)
            .args([
                test_name,
                "--exact",
                "--nocapture",
                "--test-threads=1",
                "--include-ignored",
            ])
            .envs(spec0.for_process(process).to_env())
            .spawn()
            .map_err(|e| Error::io(format!("starting test peer process {process}"), e))?;
        peers.children.push((process, child));
    }
    Ok(peers)
}

/// This process's place in a test's cluster: a peer started by [`spawn_test_peers`] finds
/// its spec in the environment (and gets no peers to wait for); otherwise this is process
/// 0 of a new `processes`-process cluster on free loopback ports, and processes `1..`
/// are started running the current test (named after the current thread, as libtest
/// names it).
pub fn test_cluster(processes: usize) -> Result<(ClusterSpec, Option<TestPeers>)> {
    if let Some(spec) = ClusterSpec::from_env()? {
        return Ok((spec, None));
    }
    let name = std::thread::current()
        .name()
        .map(String::from)
        .ok_or_else(|| Error::State("test_cluster needs a thread named after its test".into()))?;
    let spec = local_spec(processes, 1)?;
    let peers = spawn_test_peers(&spec, &name)?;
    Ok((spec, Some(peers)))
}

impl TestPeers {
    /// Process `process`'s OS process id, if it is one of these peers.
    pub fn pid(&self, process: usize) -> Option<u32> {
        self.children
            .iter()
            .find(|(p, _)| *p == process)
            .map(|(_, c)| c.id())
    }

    /// Kills peer `process` (SIGKILL).
    pub fn kill(&mut self, process: usize) -> Result<()> {
        match self.children.iter_mut().find(|(p, _)| *p == process) {
            Some((_, child)) => child
                .kill()
                .map_err(|e| Error::io(format!("killing test peer process {process}"), e)),
            None => Err(Error::State(format!("no test peer process {process}"))),
        }
    }

    /// Waits for every peer to exit; an error names the first that failed and how.
    pub fn wait(mut self) -> Result<()> {
        let mut failure = None;
        for (process, child) in self.children.iter_mut() {
            let status = child
                .wait()
                .map_err(|e| Error::io(format!("waiting for test peer process {process}"), e))?;
            if !status.success() && failure.is_none() {
                failure = Some(Error::Cluster(format!(
                    "test peer {} {}",
                    self.spec.describe(*process),
                    describe_status(&status)
                )));
            }
        }
        self.children.clear();
        failure.map_or(Ok(()), Err)
    }
}

impl Drop for TestPeers {
    fn drop(&mut self) {
        kill_all(&mut self.children);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn master_forms() {
        assert_eq!(parse_master("local-cluster[3]"), Some((3, None)));
        assert_eq!(parse_master("local-cluster[2,4]"), Some((2, Some(4))));
        assert_eq!(parse_master(" local-cluster[ 2 , 4 ] "), Some((2, Some(4))));
        assert_eq!(parse_master("local-cluster[0]"), None);
        assert_eq!(parse_master("local-cluster[2,0]"), None);
        assert_eq!(parse_master("local-cluster[2,1,1]"), None);
        assert_eq!(parse_master("local-cluster[x]"), None);
        assert_eq!(parse_master("local-cluster[2"), None);
        assert_eq!(parse_master("local[2]"), None);
    }

    #[test]
    fn free_addresses_differ() {
        let a = free_loopback_addresses(4).unwrap();
        let mut b = a.clone();
        b.sort();
        b.dedup();
        assert_eq!(b.len(), 4);
        assert!(a.iter().all(|x| x.starts_with("127.0.0.1:")));
    }
}
