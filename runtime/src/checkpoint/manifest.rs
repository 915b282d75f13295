//! The manifest of a cluster's checkpoints: each process writes its own snapshots and
//! batch log under `process-<i>/` of the checkpoint directory; process 0 writes
//! `cluster-manifest` once every process's snapshot of a batch is durable, so recovery
//! restores every process from the same batch.

use crate::{Error, Result};
use std::path::{Path, PathBuf};

/// The file name of the manifest in the checkpoint directory.
const FILE: &str = "cluster-manifest";

/// What the manifest says.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Manifest {
    /// The number of processes that wrote the checkpoints.
    pub processes: usize,
    /// The newest batch time whose snapshot every process wrote.
    pub complete_ms: u64,
}

/// The directory of process `process`'s checkpoints under the checkpoint directory.
pub fn process_dir(base: &Path, process: usize) -> PathBuf {
    base.join(format!("process-{process}"))
}

/// Reads the manifest in `base`, if there is one.
pub fn read(base: &Path) -> Result<Option<Manifest>> {
    let path = base.join(FILE);
    let text = match std::fs::read_to_string(&path) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(Error::io(format!("cannot read {}", path.display()), e)),
    };
    parse(&text)
        .map(Some)
        .ok_or_else(|| Error::Checkpoint(format!("{} is damaged: {text:?}", path.display())))
}

fn parse(text: &str) -> Option<Manifest> {
    let mut processes = None;
    let mut complete_ms = None;
    for line in text.lines() {
        match line.split_once(' ') {
            Some(("processes", n)) => processes = n.trim().parse().ok(),
            Some(("complete", t)) => complete_ms = t.trim().parse().ok(),
            _ => {}
        }
    }
    Some(Manifest {
        processes: processes?,
        complete_ms: complete_ms?,
    })
}

/// Writes `manifest` in `base` in one step (a new file renamed over the old one, after
/// it is on disk).
pub fn write(base: &Path, manifest: Manifest) -> Result<()> {
    use std::io::Write;
    let path = base.join(FILE);
    let tmp = base.join(format!("{FILE}.tmp"));
    let text = format!(
        "processes {}\ncomplete {}\n",
        manifest.processes, manifest.complete_ms
    );
    let written = std::fs::create_dir_all(base)
        .and_then(|()| std::fs::File::create(&tmp))
        .and_then(|mut f| f.write_all(text.as_bytes()).and_then(|()| f.sync_all()))
        .and_then(|()| std::fs::rename(&tmp, &path));
    written.map_err(|e| Error::io(format!("cannot write {}", path.display()), e))
}

/// Removes the manifest in `base` (a fresh run of the cluster).
pub fn remove(base: &Path) -> Result<()> {
    let path = base.join(FILE);
    match std::fs::remove_file(&path) {
        Err(e) if e.kind() != std::io::ErrorKind::NotFound => {
            Err(Error::io(format!("cannot remove {}", path.display()), e))
        }
        _ => Ok(()),
    }
}

/// Refuses to restore a checkpoint of `written_by` processes onto `processes`: partition
/// `p` belongs to process `p mod processes`, and each process keeps the state of its
/// own partitions, so another number of processes would need the state re-partitioned.
pub fn check_processes(manifest: &Manifest, processes: usize) -> Result<()> {
    if manifest.processes == processes {
        return Ok(());
    }
    Err(Error::Checkpoint(format!(
        "the checkpoint was written by a cluster of {} processes; restart it with {} \
         (rescaling a checkpointed job onto another number of processes is not supported: \
         each process keeps the state of the partitions it owns)",
        manifest.processes, manifest.processes
    )))
}

/// Refuses to resume a cluster's checkpoint in a context of one process.
pub fn refuse_local(manifest: &Manifest) -> Error {
    Error::Checkpoint(format!(
        "the checkpoint was written by a cluster of {} processes (each process's state is \
         in its process-<i> directory); resume it on a cluster of {} (feature `cluster`, \
         --master local-cluster[{}] or timely's flags)",
        manifest.processes, manifest.processes, manifest.processes
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_and_damage() {
        let dir = std::env::temp_dir().join(format!("rill-manifest-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        assert_eq!(read(&dir).unwrap(), None);
        let m = Manifest {
            processes: 2,
            complete_ms: 12_000,
        };
        write(&dir, m).unwrap();
        assert_eq!(read(&dir).unwrap(), Some(m));
        assert!(check_processes(&m, 2).is_ok());
        let e = check_processes(&m, 3).unwrap_err().to_string();
        assert!(e.contains("2 processes"), "{e}");
        std::fs::write(dir.join(FILE), "processes x\n").unwrap();
        assert!(read(&dir).is_err());
        let _ = std::fs::remove_dir_all(&dir);
    }
}
