//! Where this process stands in a cluster: from timely's flags, a hostfile or the environment.

use std::path::Path;

use crate::{Error, Result};

/// The environment variable with the number of processes; its absence means "not in a
/// cluster".
pub const ENV_PROCESSES: &str = "RILL_CLUSTER_PROCESSES";
/// The environment variable with this process's index, `0..processes`.
pub const ENV_PROCESS: &str = "RILL_CLUSTER_PROCESS";
/// The environment variable with every process's `host:port`, comma-separated, in order.
pub const ENV_ADDRESSES: &str = "RILL_CLUSTER_ADDRESSES";
/// The environment variable with the number of workers per process (1 when absent).
pub const ENV_WORKERS: &str = "RILL_CLUSTER_WORKERS";

/// Where this process stands in a cluster.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ClusterSpec {
    /// How many processes run the job.
    pub processes: usize,
    /// This process's index, `0..processes`.
    pub process: usize,
    /// Every process's `host:port`, in process order: process `i` listens on
    /// `addresses[i]`.
    pub addresses: Vec<String>,
    /// rill's workers per process (the parallelism of its own executor; the cluster's
    /// transport has one timely worker per process).
    pub workers: usize,
}

impl ClusterSpec {
    /// timely's flags: `--processes N --process I --hostfile FILE --workers W`. The
    /// hostfile has one `host:port` per line, as timely's (the first `processes` lines
    /// that are not blank count); without one, process `i` is at `localhost:2101+i`, as in
    /// timely.
    pub fn from_flags(
        processes: usize,
        process: usize,
        hostfile: Option<&Path>,
        workers: usize,
    ) -> Result<ClusterSpec> {
        let addresses = match hostfile {
            Some(path) => {
                let text = std::fs::read_to_string(path)
                    .map_err(|e| Error::io(format!("reading hostfile {}", path.display()), e))?;
                let addresses: Vec<String> = text
                    .lines()
                    .map(str::trim)
                    .filter(|l| !l.is_empty())
                    .take(processes)
                    .map(String::from)
                    .collect();
                if addresses.len() < processes {
                    return Err(Error::Config(format!(
                        "hostfile {} has {} addresses, but --processes is {processes}",
                        path.display(),
                        addresses.len()
                    )));
                }
                addresses
            }
            None => (0..processes)
                .map(|i| format!("localhost:{}", 2101 + i))
                .collect(),
        };
        ClusterSpec {
            processes,
            process,
            addresses,
            workers,
        }
        .validated()
    }

    /// What a launcher set in the environment (`RILL_CLUSTER_PROCESSES`, `_PROCESS`,
    /// `_ADDRESSES` (comma-separated), `_WORKERS`), or `None` when not in a cluster
    /// (`RILL_CLUSTER_PROCESSES` unset).
    pub fn from_env() -> Result<Option<ClusterSpec>> {
        ClusterSpec::from_vars(|name| std::env::var(name).ok())
    }

    /// [`from_env`](Self::from_env) over any source of variables.
    pub fn from_vars(var: impl Fn(&str) -> Option<String>) -> Result<Option<ClusterSpec>> {
        let Some(processes) = var(ENV_PROCESSES) else {
            return Ok(None);
        };
        let number = |name: &str, text: &str| {
            text.trim()
                .parse::<usize>()
                .map_err(|e| Error::Config(format!("{name}={text:?}: {e}")))
        };
        let processes = number(ENV_PROCESSES, &processes)?;
        let process = match var(ENV_PROCESS) {
            Some(text) => number(ENV_PROCESS, &text)?,
            None => {
                return Err(Error::Config(format!(
                    "{ENV_PROCESSES} is set but {ENV_PROCESS} is not"
                )));
            }
        };
        let addresses = match var(ENV_ADDRESSES) {
            Some(text) => text
                .split(',')
                .map(str::trim)
                .filter(|a| !a.is_empty())
                .map(String::from)
                .collect(),
            None => {
                return Err(Error::Config(format!(
                    "{ENV_PROCESSES} is set but {ENV_ADDRESSES} is not"
                )));
            }
        };
        let workers = match var(ENV_WORKERS) {
            Some(text) => number(ENV_WORKERS, &text)?,
            None => 1,
        };
        ClusterSpec {
            processes,
            process,
            addresses,
            workers,
        }
        .validated()
        .map(Some)
    }

    /// The environment that makes [`from_env`](Self::from_env) return this spec.
    pub fn to_env(&self) -> Vec<(String, String)> {
        vec![
            (ENV_PROCESSES.to_string(), self.processes.to_string()),
            (ENV_PROCESS.to_string(), self.process.to_string()),
            (ENV_ADDRESSES.to_string(), self.addresses.join(",")),
            (ENV_WORKERS.to_string(), self.workers.to_string()),
        ]
    }

    /// The same cluster seen from process `process`.
    pub fn for_process(&self, process: usize) -> ClusterSpec {
        ClusterSpec {
            process,
            ..self.clone()
        }
    }

    /// The spec of the `k`-th cluster session of this process (a test makes several
    /// contexts one after the other; each needs its own ports): the same processes, every
    /// address's port shifted by `k * processes` (wrapping within the port range past
    /// 65535). Session 0 is `self`.
    pub fn session(&self, k: usize) -> ClusterSpec {
        let shift = k.wrapping_mul(self.processes);
        let addresses = self
            .addresses
            .iter()
            .map(|address| match split_port(address) {
                Some((host, port)) => {
                    let port = (usize::from(port) + shift) % 65536;
                    format!("{host}:{port}")
                }
                None => address.clone(),
            })
            .collect();
        ClusterSpec {
            addresses,
            ..self.clone()
        }
    }

    /// `addresses[process]` with the process's index, for messages.
    pub fn describe(&self, process: usize) -> String {
        match self.addresses.get(process) {
            Some(address) => format!("process {process} ({address})"),
            None => format!("process {process}"),
        }
    }

    /// Checks the invariants: at least one process, `process < processes`, one address
    /// per process, each `host:port`, at least one worker.
    pub fn validated(self) -> Result<ClusterSpec> {
        if self.processes == 0 {
            return Err(Error::Config("a cluster needs at least 1 process".into()));
        }
        if self.process >= self.processes {
            return Err(Error::Config(format!(
                "process index {} is not below the number of processes {}",
                self.process, self.processes
            )));
        }
        if self.addresses.len() != self.processes {
            return Err(Error::Config(format!(
                "{} addresses for {} processes",
                self.addresses.len(),
                self.processes
            )));
        }
        if let Some(bad) = self.addresses.iter().find(|a| split_port(a).is_none()) {
            return Err(Error::Config(format!(
                "cluster address {bad:?} is not host:port"
            )));
        }
        if self.workers == 0 {
            return Err(Error::Config(
                "a cluster process needs at least 1 worker".into(),
            ));
        }
        Ok(self)
    }
}

/// `host:port` -> (host, port); `None` without a numeric port or a host.
fn split_port(address: &str) -> Option<(&str, u16)> {
    let (host, port) = address.rsplit_once(':')?;
    let port = port.parse::<u16>().ok()?;
    (!host.is_empty()).then_some((host, port))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn spec(addresses: &[&str], process: usize) -> ClusterSpec {
        ClusterSpec {
            processes: addresses.len(),
            process,
            addresses: addresses.iter().map(|a| a.to_string()).collect(),
            workers: 2,
        }
    }

    #[test]
    fn flags_without_hostfile_use_timelys_default_ports() {
        let s = ClusterSpec::from_flags(3, 1, None, 4).unwrap();
        assert_eq!(
            s.addresses,
            ["localhost:2101", "localhost:2102", "localhost:2103"]
        );
        assert_eq!((s.processes, s.process, s.workers), (3, 1, 4));
    }

    #[test]
    fn flags_read_the_hostfile() {
        let dir = std::env::temp_dir().join(format!("rill-hostfile-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("hosts.txt");
        std::fs::write(&path, "a:1\n\n  b:2 \nc:3\nd:4\n").unwrap();
        let s = ClusterSpec::from_flags(3, 2, Some(&path), 1).unwrap();
        assert_eq!(s.addresses, ["a:1", "b:2", "c:3"]);
        let short = ClusterSpec::from_flags(5, 0, Some(&path), 1).unwrap_err();
        assert!(short.to_string().contains("4 addresses"), "{short}");
        std::fs::write(&path, "a:1\nb\n").unwrap();
        let bad = ClusterSpec::from_flags(2, 0, Some(&path), 1).unwrap_err();
        assert!(bad.to_string().contains("\"b\""), "{bad}");
        let missing = ClusterSpec::from_flags(2, 0, Some(&dir.join("none")), 1).unwrap_err();
        assert!(matches!(missing, Error::Io { .. }), "{missing}");
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn flags_are_checked() {
        assert!(ClusterSpec::from_flags(0, 0, None, 1).is_err());
        assert!(ClusterSpec::from_flags(2, 2, None, 1).is_err());
        assert!(ClusterSpec::from_flags(2, 0, None, 0).is_err());
    }

    #[test]
    fn env_round_trip() {
        let s = spec(&["127.0.0.1:4000", "127.0.0.1:4001", "h:9"], 2);
        let vars: HashMap<String, String> = s.to_env().into_iter().collect();
        let back = ClusterSpec::from_vars(|n| vars.get(n).cloned()).unwrap();
        assert_eq!(back, Some(s));
    }

    #[test]
    fn env_absent_is_not_a_cluster_and_partial_env_is_an_error() {
        assert_eq!(ClusterSpec::from_vars(|_| None).unwrap(), None);
        let partial = ClusterSpec::from_vars(|n| (n == ENV_PROCESSES).then(|| "2".to_string()));
        assert!(partial.is_err());
        let bad = ClusterSpec::from_vars(|n| match n {
            ENV_PROCESSES => Some("two".into()),
            _ => Some("0".into()),
        });
        assert!(bad.unwrap_err().to_string().contains(ENV_PROCESSES));
        let no_workers = ClusterSpec::from_vars(|n| match n {
            ENV_PROCESSES => Some("1".into()),
            ENV_PROCESS => Some("0".into()),
            ENV_ADDRESSES => Some("x:1".into()),
            _ => None,
        })
        .unwrap()
        .unwrap();
        assert_eq!(no_workers.workers, 1);
    }

    #[test]
    fn sessions_shift_ports_by_the_number_of_processes() {
        let s = spec(&["127.0.0.1:5000", "127.0.0.1:5001"], 1);
        assert_eq!(s.session(0), s);
        let s3 = s.session(3);
        assert_eq!(s3.addresses, ["127.0.0.1:5006", "127.0.0.1:5007"]);
        assert_eq!((s3.process, s3.processes, s3.workers), (1, 2, 2));
        assert_eq!(spec(&["[::1]:65535"], 0).session(1).addresses, ["[::1]:0"]);
    }

    #[test]
    fn describe_names_process_and_address() {
        let s = spec(&["a:1", "b:2"], 0);
        assert_eq!(s.describe(1), "process 1 (b:2)");
        assert_eq!(s.describe(7), "process 7");
    }
}
