//! `save_as_text_files(prefix, suffix)`: one directory per batch, `prefix-<ms>.suffix`
//! (`prefix-<ms>` for an empty suffix, `<ms>` for an empty prefix, as Spark's
//! `rddToFileName`), a `part-NNNNN` file per partition with one record (`Debug`) per line,
//! and an empty `_SUCCESS` marker.
//!
//! A batch is written into a temporary directory beside its own (`.<name>.tmp`), synced,
//! and then put in place in one step, so a reader or a restarted job sees either the
//! batch's previous directory or the new one, complete with `_SUCCESS`, never a missing or
//! half-written one, whenever the process dies:
//!
//! - the first write of a batch renames the temporary directory into place;
//! - a batch written again (a recomputed batch after a recovery) is replaced, on Linux,
//!   by `renameat2(RENAME_EXCHANGE)`, which swaps the new directory and the old one in
//!   one step; the old contents, now under the temporary name, are then deleted;
//! - elsewhere, or on a file system that cannot exchange, the old directory is renamed
//!   aside (`.<name>.old`) and the new one renamed into place. Between those two renames
//!   the batch's directory is missing (its complete old contents are under the aside
//!   name); a process that dies there leaves it so until the batch is written again.
//!
//! Whatever a crash leaves behind (a temporary directory, an aside directory) is cleared by
//! the next write of that batch, which first puts an aside directory back if the batch's
//! own is missing.
//!
//! The prefix may be a `file://` URL (the same local path) or, with the `object-store`
//! feature, an `s3://bucket/prefix` URL, written by `sinks/object_files.rs`: there no
//! rename exists, and `_SUCCESS` is written last instead.

use crate::{Error, Partition, Time};
use std::fmt::Debug;
use std::io::Write;
use std::path::{Path, PathBuf};

/// The directory writer of one `save_as_text_files` output.
pub struct TextFiles {
    prefix: String,
    suffix: String,
    target: Target,
}

/// Where the prefix points.
enum Target {
    /// A local path: the directory writer of this file.
    Local,
    /// An object store prefix.
    #[cfg(feature = "object-store")]
    Objects(Box<super::object_files::ObjectTextFiles>),
    /// A URL that cannot be written (another scheme, a client that cannot be set up):
    /// every write fails with this.
    Refused(Error),
}

impl<T: Debug + Sync> crate::sinks::Sink<T> for TextFiles {
    fn write(&mut self, time: Time, records: Vec<T>) -> crate::Result<()> {
        self.write_batch(time, &[records])
    }

    fn write_partitions(&mut self, time: Time, partitions: Vec<Vec<T>>) -> crate::Result<()> {
        self.write_batch(time, &partitions)
    }
}

/// The points between the steps of a write, where a process can die.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Step {
    /// Leftovers of an earlier crash were cleared.
    Cleared,
    /// The temporary directory was created, still empty.
    Created,
    /// The first part file was written.
    PartWritten,
    /// The temporary directory is complete (parts and `_SUCCESS`, synced).
    Complete,
    /// The new directory and the old one were exchanged; the old one is under the
    /// temporary name.
    Exchanged,
    /// (Without exchange.) The old directory was renamed aside.
    MovedAside,
    /// The new directory was renamed into place; the old one is not yet deleted.
    Renamed,
    /// The old contents were deleted.
    Removed,
}

impl TextFiles {
    /// An output writing `prefix-<ms>.suffix` directories. `prefix` is a local path, a
    /// `file://` URL or, with the `object-store` feature, an `s3://bucket/prefix` URL;
    /// another scheme makes every write fail with a configuration error.
    pub fn new(prefix: impl Into<String>, suffix: impl Into<String>) -> TextFiles {
        let (prefix, suffix) = (prefix.into(), suffix.into());
        let (prefix, target) = match crate::store::Location::parse(Path::new(&prefix)) {
            Ok(crate::store::Location::Local(path)) => (
                path.into_os_string().into_string().unwrap_or(prefix),
                Target::Local,
            ),
            #[cfg(feature = "object-store")]
            Ok(crate::store::Location::Object { url, bucket, .. }) => {
                let target = match super::object_files::ObjectTextFiles::new(&url, &bucket, &suffix)
                {
                    Ok(o) => Target::Objects(Box::new(o)),
                    Err(e) => Target::Refused(e),
                };
                (prefix, target)
            }
            #[cfg(not(feature = "object-store"))]
            Ok(crate::store::Location::Object { url, .. }) => (
                prefix,
                Target::Refused(Error::Config(format!(
                    "{url}: object store URLs need rill's `object-store` feature"
                ))),
            ),
            Err(e) => (prefix, Target::Refused(e)),
        };
        TextFiles {
            prefix,
            suffix,
            target,
        }
    }

    /// The directory name of the batch at `time`, as Spark's `rddToFileName`.
    pub fn dir_name(&self, time: Time) -> PathBuf {
        let ms = time.millis();
        let mut name = if self.prefix.is_empty() {
            ms.to_string()
        } else {
            format!("{}-{ms}", self.prefix)
        };
        if !self.suffix.is_empty() {
            name = format!("{name}.{}", self.suffix);
        }
        PathBuf::from(name)
    }

    /// Writes the batch at `time`, replacing the batch's directory in one step if it
    /// exists (see the module's documentation). Every failure is an [`Error::Io`]; to an
    /// object store, the parts then `_SUCCESS`, and a failure is an
    /// [`Error::ObjectStore`].
    pub fn write_batch<T: Debug, P: Partition<T>>(
        &self,
        time: Time,
        parts: &[P],
    ) -> crate::Result<()> {
        match &self.target {
            Target::Local => {}
            #[cfg(feature = "object-store")]
            Target::Objects(o) => return o.write_batch(time, parts),
            Target::Refused(e) => return Err(e.duplicate()),
        }
        let dir = self.dir_name(time);
        let file_name = dir
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_else(|| time.millis().to_string());
        // One temporary and one aside name per directory: a run that died half-way leaves
        // them behind, and the batch written again clears them.
        let tmp = dir.with_file_name(format!(".{file_name}.tmp"));
        let aside = dir.with_file_name(format!(".{file_name}.old"));
        clear_leftovers(&dir, &tmp, &aside)?;
        boundary(Step::Cleared)?;

        let io = |what: &str, e| Error::io(format!("{what} {}", tmp.display()), e);
        std::fs::create_dir_all(&tmp).map_err(|e| io("cannot create", e))?;
        boundary(Step::Created)?;
        for (i, part) in parts.iter().enumerate() {
            let path = tmp.join(format!("part-{i:05}"));
            let mut w = std::io::BufWriter::new(
                std::fs::File::create(&path).map_err(|e| io("cannot write in", e))?,
            );
            for r in part.records() {
                writeln!(w, "{r:?}").map_err(|e| io("cannot write in", e))?;
            }
            w.into_inner()
                .map_err(|e| io("cannot write in", e.into_error()))?
                .sync_all()
                .map_err(|e| io("cannot sync in", e))?;
            boundary(Step::PartWritten)?;
        }
        std::fs::File::create(tmp.join("_SUCCESS"))
            .and_then(|f| f.sync_all())
            .map_err(|e| io("cannot write in", e))?;
        sync_dir(&tmp).map_err(|e| io("cannot sync", e))?;
        boundary(Step::Complete)?;

        if !exists(&dir)? {
            rename(&tmp, &dir)?;
            boundary(Step::Renamed)?;
        } else if exchange(&tmp, &dir)? {
            boundary(Step::Exchanged)?;
            remove(&tmp)?;
            boundary(Step::Removed)?;
        } else {
            rename(&dir, &aside)?;
            boundary(Step::MovedAside)?;
            rename(&tmp, &dir)?;
            boundary(Step::Renamed)?;
            remove(&aside)?;
            boundary(Step::Removed)?;
        }
        sync_dir(parent(&dir))
            .map_err(|e| Error::io(format!("cannot sync the directory of {}", dir.display()), e))
    }
}

/// Clears what a crashed write of the same batch left: a temporary directory (half a new
/// batch, or an old batch exchanged out and not yet deleted) is deleted; an aside
/// directory (the complete old batch) is put back if the batch's own directory is missing,
/// else deleted.
fn clear_leftovers(dir: &Path, tmp: &Path, aside: &Path) -> crate::Result<()> {
    if exists(tmp)? {
        remove(tmp)?;
    }
    if exists(aside)? {
        if exists(dir)? {
            remove(aside)?;
        } else {
            rename(aside, dir)?;
        }
    }
    Ok(())
}

/// Whether `path` exists; a failure to tell (permissions, ...) is an error, not a "no".
fn exists(path: &Path) -> crate::Result<bool> {
    match std::fs::symlink_metadata(path) {
        Ok(_) => Ok(true),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(false),
        Err(e) => Err(Error::io(format!("cannot inspect {}", path.display()), e)),
    }
}

fn remove(path: &Path) -> crate::Result<()> {
    std::fs::remove_dir_all(path)
        .map_err(|e| Error::io(format!("cannot remove {}", path.display()), e))
}

fn rename(from: &Path, to: &Path) -> crate::Result<()> {
    std::fs::rename(from, to).map_err(|e| {
        Error::io(
            format!("cannot rename {} to {}", from.display(), to.display()),
            e,
        )
    })
}

/// The directory holding `path` (`.` for a bare name).
fn parent(path: &Path) -> &Path {
    match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    }
}

/// Makes the entries of directory `dir` durable (Unix; elsewhere directories cannot be
/// opened to be synced, and this does nothing).
fn sync_dir(dir: &Path) -> std::io::Result<()> {
    #[cfg(unix)]
    std::fs::File::open(dir)?.sync_all()?;
    #[cfg(not(unix))]
    let _ = dir;
    Ok(())
}

/// Swaps directories `a` and `b` in one step: `Ok(true)` when done, `Ok(false)` when this
/// platform or file system cannot (the caller then renames aside).
fn exchange(a: &Path, b: &Path) -> crate::Result<bool> {
    #[cfg(test)]
    if FORCE_RENAME_ASIDE.with(|f| f.get()) {
        return Ok(false);
    }
    match rename_exchange(a, b) {
        Ok(()) => Ok(true),
        Err(e) if cannot_exchange(&e) => Ok(false),
        Err(e) => Err(Error::io(
            format!("cannot exchange {} and {}", a.display(), b.display()),
            e,
        )),
    }
}

/// Errors meaning "no exchange here": an old kernel, or a file system without it.
#[cfg(all(target_os = "linux", any(target_env = "gnu", target_env = "musl")))]
fn cannot_exchange(e: &std::io::Error) -> bool {
    matches!(
        e.raw_os_error(),
        Some(libc::EINVAL | libc::ENOSYS | libc::EOPNOTSUPP)
    )
}

/// Errors meaning "no exchange here": this platform has none.
#[cfg(not(all(target_os = "linux", any(target_env = "gnu", target_env = "musl"))))]
fn cannot_exchange(e: &std::io::Error) -> bool {
    e.kind() == std::io::ErrorKind::Unsupported
}

/// `renameat2(a, b, RENAME_EXCHANGE)`: atomically swaps two existing paths (Linux 3.15+).
#[cfg(all(target_os = "linux", any(target_env = "gnu", target_env = "musl")))]
#[allow(unsafe_code)]
fn rename_exchange(a: &Path, b: &Path) -> std::io::Result<()> {
    use std::os::unix::ffi::OsStrExt;
    let a = std::ffi::CString::new(a.as_os_str().as_bytes())?;
    let b = std::ffi::CString::new(b.as_os_str().as_bytes())?;
    // SAFETY: `a` and `b` are NUL-terminated strings that live until the call returns,
    // and renameat2 only reads them; AT_FDCWD resolves relative paths against the working
    // directory, as rename(2) does. No memory is shared with the kernel after the call.
    let r = unsafe {
        libc::renameat2(
            libc::AT_FDCWD,
            a.as_ptr(),
            libc::AT_FDCWD,
            b.as_ptr(),
            libc::RENAME_EXCHANGE,
        )
    };
    if r == 0 {
        Ok(())
    } else {
        Err(std::io::Error::last_os_error())
    }
}

#[cfg(not(all(target_os = "linux", any(target_env = "gnu", target_env = "musl"))))]
fn rename_exchange(_: &Path, _: &Path) -> std::io::Result<()> {
    Err(std::io::ErrorKind::Unsupported.into())
}

#[cfg(test)]
thread_local! {
    /// Tests: the step boundary at which the writer stops as if the process died.
    static CRASH_AT: std::cell::Cell<Option<Step>> = const { std::cell::Cell::new(None) };
    /// Tests: replace by renaming aside, as where no exchange exists.
    static FORCE_RENAME_ASIDE: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
}

/// A step boundary: in tests, the writer stops here (with an error, doing nothing more,
/// as a process that died) if told to.
fn boundary(step: Step) -> crate::Result<()> {
    #[cfg(test)]
    if CRASH_AT.with(|c| c.get()) == Some(step) {
        return Err(Error::io(
            format!("injected crash after {step:?}"),
            std::io::Error::other("injected crash"),
        ));
    }
    let _ = step;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_follow_rdd_to_file_name() {
        assert_eq!(
            TextFiles::new("out", "txt").dir_name(Time(1000)),
            PathBuf::from("out-1000.txt")
        );
        assert_eq!(
            TextFiles::new("out", "").dir_name(Time(1000)),
            PathBuf::from("out-1000")
        );
        assert_eq!(
            TextFiles::new("", "").dir_name(Time(2000)),
            PathBuf::from("2000")
        );
        assert_eq!(
            TextFiles::new("d/x", "").dir_name(Time(5)),
            PathBuf::from("d/x-5")
        );
    }

    /// A fresh directory for one test.
    fn base(name: &str) -> PathBuf {
        let base = std::env::temp_dir().join(format!("rill-text-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&base);
        std::fs::create_dir_all(&base).unwrap();
        base
    }

    /// The contents of a batch directory: its file names and texts, sorted.
    fn contents(dir: &Path) -> Option<Vec<(String, String)>> {
        let mut files: Vec<(String, String)> = std::fs::read_dir(dir)
            .ok()?
            .map(|e| {
                let p = e.unwrap().path();
                let name = p.file_name().unwrap().to_string_lossy().into_owned();
                (name, std::fs::read_to_string(&p).unwrap())
            })
            .collect();
        files.sort();
        Some(files)
    }

    fn batch(parts: &[&str]) -> Vec<(String, String)> {
        let mut files: Vec<(String, String)> = parts
            .iter()
            .enumerate()
            .map(|(i, t)| (format!("part-{i:05}"), t.to_string()))
            .collect();
        files.push(("_SUCCESS".into(), String::new()));
        files.sort();
        files
    }

    /// Entries of `base` other than the batch directories: what a write left behind.
    fn leftovers(base: &Path) -> Vec<String> {
        std::fs::read_dir(base)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .filter(|n| n.starts_with('.'))
            .collect()
    }

    fn crash_at(step: Option<Step>) {
        CRASH_AT.with(|c| c.set(step));
    }

    #[test]
    fn writes_parts_and_replaces_atomically() {
        let base = base("replace");
        let out = TextFiles::new(base.join("w").to_string_lossy(), "txt");
        out.write_batch(Time(1000), &[vec![1, 2], vec![3]]).unwrap();
        let dir = base.join("w-1000.txt");
        assert_eq!(contents(&dir), Some(batch(&["1\n2\n", "3\n"])));
        out.write_batch(Time(1000), &[vec![9]]).unwrap();
        assert_eq!(contents(&dir), Some(batch(&["9\n"])));
        assert!(leftovers(&base).is_empty(), "{:?}", leftovers(&base));
        std::fs::remove_dir_all(&base).unwrap();
    }

    /// A crash at every step boundary of a replacing write leaves the batch's directory
    /// complete, old or new; the batch written again is the new one, with nothing left
    /// behind.
    fn crash_at_every_boundary(name: &str, aside: bool, steps: &[Step], gap: Option<Step>) {
        FORCE_RENAME_ASIDE.with(|f| f.set(aside));
        for &step in steps {
            let base = base(&format!("{name}-{step:?}"));
            let out = TextFiles::new(base.join("w").to_string_lossy(), "");
            let dir = base.join("w-1000");
            let (old, new) = (batch(&["1\n2\n", "3\n"]), batch(&["7\n", "8\n9\n"]));
            crash_at(None);
            out.write_batch(Time(1000), &[vec![1, 2], vec![3]]).unwrap();
            crash_at(Some(step));
            let err = out
                .write_batch(Time(1000), &[vec![7], vec![8, 9]])
                .unwrap_err();
            crash_at(None);
            assert!(
                matches!(err, Error::Io { .. }),
                "{step:?}: the crash is an I/O error: {err}"
            );
            let after = contents(&dir);
            if Some(step) == gap {
                // The documented window without exchange: the old batch is aside.
                assert_eq!(after, None, "{step:?}");
                assert_eq!(contents(&base.join(".w-1000.old")), Some(old.clone()));
            } else {
                assert!(
                    after == Some(old.clone()) || after == Some(new.clone()),
                    "a crash after {step:?} left {after:?}"
                );
            }
            out.write_batch(Time(1000), &[vec![7], vec![8, 9]]).unwrap();
            assert_eq!(contents(&dir), Some(new), "{step:?}: rewritten");
            assert!(
                leftovers(&base).is_empty(),
                "{step:?}: {:?}",
                leftovers(&base)
            );
            std::fs::remove_dir_all(&base).unwrap();
        }
        FORCE_RENAME_ASIDE.with(|f| f.set(false));
    }

    #[cfg(all(target_os = "linux", any(target_env = "gnu", target_env = "musl")))]
    #[test]
    fn a_crash_at_any_step_of_an_exchange_leaves_a_complete_batch() {
        // Only where the temporary directory's file system can exchange (most can).
        let probe = base("probe");
        std::fs::create_dir_all(probe.join("a")).unwrap();
        std::fs::create_dir_all(probe.join("b")).unwrap();
        let can = rename_exchange(&probe.join("a"), &probe.join("b")).is_ok();
        std::fs::remove_dir_all(&probe).unwrap();
        if !can {
            eprintln!("the temporary directory cannot exchange; skipped");
            return;
        }
        use Step::*;
        crash_at_every_boundary(
            "exchange",
            false,
            &[Cleared, Created, PartWritten, Complete, Exchanged, Removed],
            None,
        );
    }

    #[test]
    fn a_crash_while_renaming_aside_is_repaired_by_the_next_write() {
        use Step::*;
        crash_at_every_boundary(
            "aside",
            true,
            &[
                Cleared,
                Created,
                PartWritten,
                Complete,
                MovedAside,
                Renamed,
                Removed,
            ],
            Some(MovedAside),
        );
    }

    #[test]
    fn a_crash_in_a_first_write_leaves_no_batch_or_a_complete_one() {
        use Step::*;
        for step in [Cleared, Created, PartWritten, Complete, Renamed] {
            let base = base(&format!("first-{step:?}"));
            let out = TextFiles::new(base.join("w").to_string_lossy(), "");
            let dir = base.join("w-1000");
            crash_at(Some(step));
            assert!(out.write_batch(Time(1000), &[vec![1], vec![2]]).is_err());
            crash_at(None);
            let after = contents(&dir);
            assert!(
                after.is_none() || after == Some(batch(&["1\n", "2\n"])),
                "a crash after {step:?} left {after:?}"
            );
            out.write_batch(Time(1000), &[vec![1], vec![2]]).unwrap();
            assert_eq!(contents(&dir), Some(batch(&["1\n", "2\n"])));
            assert!(
                leftovers(&base).is_empty(),
                "{step:?}: {:?}",
                leftovers(&base)
            );
            std::fs::remove_dir_all(&base).unwrap();
        }
    }

    #[test]
    fn a_write_that_cannot_happen_is_an_io_error() {
        let base = base("blocked");
        // A file where the output's parent directory should be.
        std::fs::write(base.join("file"), "").unwrap();
        let out = TextFiles::new(base.join("file").join("w").to_string_lossy(), "");
        let err = out.write_batch(Time(1000), &[vec![1]]).unwrap_err();
        assert!(matches!(err, Error::Io { .. }), "{err}");
        std::fs::remove_dir_all(&base).unwrap();
    }
}
