//! Write throughput of a receiver's write-ahead log, for blocks of 1,024 corpus lines
//! (about 40 bytes each): the CRC-32 of one block's payload alone; encoding a block
//! (bincode, then the frame with its CRC-32), the CPU part of every append; and
//! `Wal::append` end to end, which also writes the frame and syncs it to disk, one
//! `fsync` per block.
//!
//! `cargo bench --bench wal`

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use rill::corpus::Corpus;
use rill_runtime::checkpoint::store::to_bytes;
use rill_runtime::checkpoint::wal::Wal;
use rill_runtime::checkpoint::{crc32, encode_frame};
use std::hint::black_box;
use std::time::Duration;

/// Lines per block: the most a receiver hands over at once.
const LINES: usize = 1_024;

/// The bytes of one block's lines, as a criterion throughput.
fn bytes(lines: &[String]) -> Throughput {
    Throughput::Bytes(lines.iter().map(|l| l.len() as u64).sum())
}

fn wal(c: &mut Criterion) {
    let lines = Corpus::new(100_000, 1.1, 42).lines(LINES);
    let payload = to_bytes(&(0u64, &lines)).unwrap();

    let mut g = c.benchmark_group("wal, 1,024-line block");
    g.sample_size(20)
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(3));

    g.throughput(Throughput::Bytes(payload.len() as u64));
    g.bench_function("crc32 of the payload", |b| {
        b.iter(|| crc32(black_box(&payload)))
    });

    g.throughput(bytes(&lines));
    g.bench_function("encode (bincode + frame)", |b| {
        let mut seq = 0u64;
        b.iter(|| {
            seq += 1;
            encode_frame(b"RILLWAL1", &to_bytes(&(seq, black_box(&lines))).unwrap())
        })
    });

    let dir = std::env::temp_dir().join(format!("rill-bench-wal-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("receiver.wal");
    let (mut log, _) = Wal::open(&path).unwrap();
    g.bench_function("append (write + fsync)", |b| {
        b.iter(|| log.append(black_box(&lines)).unwrap())
    });
    g.finish();
    drop(log);
    std::fs::remove_dir_all(&dir).unwrap();
}

criterion_group!(benches, wal);
criterion_main!(benches);
