//! A receiver's write-ahead log: every block of received lines is appended (and flushed
//! to disk) with a sequence number before it reaches the scheduler, so after a crash the
//! lines of logged batches are replayed exactly and the lines received but not yet in a
//! batch are processed once.

use super::frame::{decode, encode};
use super::store::{from_bytes, to_bytes};
use crate::{Error, Result};
use std::fs::{File, OpenOptions};
use std::io::Write;
use std::path::{Path, PathBuf};

const MAGIC: &[u8; 8] = b"RILLWAL1";

/// An open write-ahead log.
pub struct Wal {
    path: PathBuf,
    file: File,
    next_seq: u64,
}

/// One logged block: its sequence number and lines.
pub type WalBlock = (u64, Vec<String>);

impl Wal {
    /// Opens (creating if needed) the log at `path`; new blocks are numbered after the
    /// ones it holds.
    pub fn open(path: &Path) -> Result<(Wal, Vec<WalBlock>)> {
        let (blocks, damaged) = read_all(path)?;
        if damaged {
            // Blocks appended behind damaged bytes could not be read back: cut them off.
            tracing::warn!(path = %path.display(), "the write-ahead log ended in a damaged block; it is cut off");
            rewrite(path, &blocks)?;
        }
        let next_seq = blocks.last().map_or(0, |(s, _)| s + 1);
        let file = OpenOptions::new()
            .create(true)
            .append(true)
            .open(path)
            .map_err(|e| {
                Error::io(
                    format!("cannot open the write-ahead log {}", path.display()),
                    e,
                )
            })?;
        Ok((
            Wal {
                path: path.to_path_buf(),
                file,
                next_seq,
            },
            blocks,
        ))
    }

    /// Appends a block, flushed to disk; returns its sequence number.
    pub fn append(&mut self, lines: &[String]) -> Result<u64> {
        self.append_lines(lines)
    }

    /// [`append`](Self::append) for lines of any type that serializes as a string (a
    /// socket source's shared lines): the same bytes, read back as `String`s.
    pub fn append_lines<S: serde::Serialize>(&mut self, lines: &[S]) -> Result<u64> {
        let seq = self.next_seq;
        let frame = encode(MAGIC, &to_bytes(&(seq, lines))?);
        self.file
            .write_all(&frame)
            .and_then(|()| self.file.sync_data())
            .map_err(|e| Error::io(format!("cannot append to {}", self.path.display()), e))?;
        self.next_seq += 1;
        Ok(seq)
    }

    /// Drops the blocks numbered below `seq` (no kept checkpoint needs them), except the
    /// newest: a log reopened empty would number its blocks from 0 again, below the
    /// checkpointed position, and the next truncation would drop blocks no batch took.
    pub fn truncate_before(&mut self, seq: u64) -> Result<()> {
        let mut blocks = read(&self.path)?;
        let newest = blocks.pop();
        let mut kept: Vec<WalBlock> = blocks.into_iter().filter(|(s, _)| *s >= seq).collect();
        kept.extend(newest);
        rewrite(&self.path, &kept)?;
        self.file = OpenOptions::new()
            .append(true)
            .open(&self.path)
            .map_err(|e| Error::io(format!("cannot reopen {}", self.path.display()), e))?;
        Ok(())
    }
}

/// Replaces the log at `path` with `blocks`: a temporary file, flushed, renamed, and the
/// directory flushed, so a crash leaves the old log or the new one.
fn rewrite(path: &Path, blocks: &[WalBlock]) -> Result<()> {
    let mut data = Vec::new();
    for b in blocks {
        data.extend(encode(MAGIC, &to_bytes(b)?));
    }
    let tmp = path.with_extension("tmp");
    std::fs::write(&tmp, &data)
        .and_then(|()| File::open(&tmp)?.sync_all())
        .and_then(|()| std::fs::rename(&tmp, path))
        .map_err(|e| Error::io(format!("cannot rewrite {}", path.display()), e))?;
    match path.parent() {
        Some(dir) if !dir.as_os_str().is_empty() => super::store::sync_dir(dir),
        _ => super::store::sync_dir(Path::new(".")),
    }
}

/// The blocks of a log, up to a damaged tail (a block cut short by a crash never reached
/// a batch, since blocks are handed over only once logged).
pub fn read(path: &Path) -> Result<Vec<WalBlock>> {
    read_all(path).map(|(blocks, _)| blocks)
}

fn read_all(path: &Path) -> Result<(Vec<WalBlock>, bool)> {
    let data = match std::fs::read(path) {
        Ok(d) => d,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok((Vec::new(), false)),
        Err(e) => return Err(Error::io(format!("cannot read {}", path.display()), e)),
    };
    Ok(decode_blocks(&data))
}

/// Decodes the blocks of a log's bytes up to the first damaged one.
pub fn decode_all(data: &[u8]) -> Vec<WalBlock> {
    decode_blocks(data).0
}

/// The whole blocks of a log's bytes, and whether damaged bytes followed them.
fn decode_blocks(mut data: &[u8]) -> (Vec<WalBlock>, bool) {
    let mut out = Vec::new();
    while !data.is_empty() {
        let Ok((payload, used)) = decode(MAGIC, data) else {
            tracing::warn!(
                bytes = data.len(),
                "the write-ahead log ends in a damaged block; ignoring it"
            );
            return (out, true);
        };
        match from_bytes::<WalBlock>(payload) {
            Ok(b) => out.push(b),
            Err(e) => {
                tracing::warn!(error = %e, "undecodable block in the write-ahead log; ignoring the rest");
                return (out, true);
            }
        }
        data = &data[used..];
    }
    (out, false)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn appends_reopens_truncates_and_survives_damage() {
        let path = std::env::temp_dir().join(format!("rill-wal-{}.log", std::process::id()));
        let _ = std::fs::remove_file(&path);
        let (mut wal, old) = Wal::open(&path).unwrap();
        assert!(old.is_empty());
        assert_eq!(wal.append(&["a".into()]).unwrap(), 0);
        assert_eq!(wal.append(&["b".into(), "c".into()]).unwrap(), 1);
        drop(wal);
        let mut data = std::fs::read(&path).unwrap();
        data.extend_from_slice(b"RILLWAL1\x05");
        std::fs::write(&path, &data).unwrap();
        let (mut wal, blocks) = Wal::open(&path).unwrap();
        assert_eq!(
            blocks,
            vec![
                (0, vec!["a".to_string()]),
                (1, vec!["b".into(), "c".into()])
            ]
        );
        wal.truncate_before(1).unwrap();
        assert_eq!(wal.append(&["d".into()]).unwrap(), 2);
        assert_eq!(
            read(&path).unwrap().iter().map(|b| b.0).collect::<Vec<_>>(),
            vec![1, 2]
        );
        // Truncated past every block, the log keeps its newest, so a reopened log goes on
        // numbering after it.
        wal.truncate_before(10).unwrap();
        drop(wal);
        let (mut wal, blocks) = Wal::open(&path).unwrap();
        assert_eq!(blocks.iter().map(|b| b.0).collect::<Vec<_>>(), vec![2]);
        assert_eq!(wal.append(&["e".into()]).unwrap(), 3);
        // Random damage never panics.
        let good = std::fs::read(&path).unwrap();
        let mut x = 88172645463325252u64;
        for _ in 0..5_000 {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            let mut d = good.clone();
            let i = (x as usize) % d.len();
            d[i] ^= (x >> 32) as u8 | 1;
            d.truncate((x as usize >> 8) % (d.len() + 1));
            assert!(decode_all(&d).len() <= 2);
        }
        std::fs::remove_file(&path).unwrap();
    }
}
