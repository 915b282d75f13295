//! Injected faults: each ends the context with a typed error within a bounded time; none
//! hangs, none panics the process.
//!
//! The file-system faults mount a small tmpfs (a disk that fills up, a directory made
//! read-only), which needs root, as CI has; elsewhere they are skipped with a printed
//! reason.

use rill::prelude::*;
use rill::{Error, StopHandle};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::{Arc, Mutex};
use std::time::Instant;

/// How long a failed context may take to stop: a few batch intervals, with room for a
/// loaded machine.
const STOPS_WITHIN: Duration = Duration::from_secs(10);

/// Fault points are armed for the whole process, so a fault armed by one test could fire
/// in another test's receiver or stage: the tests run one at a time.
fn serial() -> std::sync::MutexGuard<'static, ()> {
    static SERIAL: Mutex<()> = Mutex::new(());
    SERIAL
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

fn temp(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("rill-faults-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

/// A system-clock context of 100 ms batches.
fn context(checkpoint: Option<&Path>) -> StreamingContext {
    let mut b = StreamingContext::builder()
        .batch_interval(Duration::from_millis(100))
        .parallelism(2);
    if let Some(dir) = checkpoint {
        b = b
            .checkpoint_dir(dir)
            .checkpoint_interval(Duration::from_millis(100));
    }
    b.build().unwrap()
}

/// Waits until `n` batches ran.
fn wait_batches(ctx: &StreamingContext, n: usize) {
    let deadline = Instant::now() + Duration::from_secs(30);
    while ctx.batch_infos().len() < n {
        assert!(Instant::now() < deadline, "{n} batches never ran");
        std::thread::sleep(Duration::from_millis(10));
    }
}

/// The error the context stopped with, which it must do within [`STOPS_WITHIN`].
fn failure(ctx: &StreamingContext) -> Error {
    let started = Instant::now();
    match ctx.await_termination_or_timeout(STOPS_WITHIN) {
        Err(e) => {
            // `stop()` reports the same failure.
            let again = ctx.stop().unwrap_err();
            assert_eq!(again.to_string(), e.to_string());
            eprintln!("stopped after {:?} with: {e}", started.elapsed());
            e
        }
        Ok(true) => panic!("the context stopped without an error"),
        Ok(false) => panic!("the context did not stop within {STOPS_WITHIN:?}: it hangs"),
    }
}

/// Many queued batches of words, so the job runs for the whole test.
fn words() -> Vec<Vec<String>> {
    (0..10_000)
        .map(|i| vec![format!("w{} w{}", i % 7, i % 3)])
        .collect()
}

/// The running word count with state checkpointed in `ckpt` every batch.
fn stateful_job(ckpt: &Path) -> StreamingContext {
    let ctx = context(Some(ckpt));
    stream! { ctx;
        queue_stream(words())
            .flat_map(|l| l.split(' '))
            .map(|w| (w.to_string(), 1u64))
            .update_state_by_key(|new: Vec<u64>, n: Option<u64>| Some(n.unwrap_or(0) + new.iter().sum::<u64>()))
            .for_each_batch(|_, _| {});
    };
    ctx
}

/// A tmpfs of `size` mounted on a fresh directory, unmounted when dropped; `None` (with
/// the reason printed) where mounting is not possible.
struct Tmpfs(PathBuf);

impl Tmpfs {
    fn mount(name: &str, size: &str) -> Option<Tmpfs> {
        let dir = temp(name);
        let ok = Command::new("mount")
            .args(["-t", "tmpfs", "-o", &format!("size={size}"), "tmpfs"])
            .arg(&dir)
            .status()
            .is_ok_and(|s| s.success());
        if !ok {
            eprintln!("skipped: cannot mount a tmpfs (needs root, as CI has)");
            return None;
        }
        Some(Tmpfs(dir))
    }

    fn remount_read_only(&self) {
        let ok = Command::new("mount")
            .args(["-o", "remount,ro"])
            .arg(&self.0)
            .status()
            .unwrap()
            .success();
        assert!(ok, "cannot remount read-only");
    }
}

impl Drop for Tmpfs {
    fn drop(&mut self) {
        let _ = Command::new("umount").arg("-l").arg(&self.0).status();
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

#[test]
fn a_checkpoint_directory_removed_mid_run_ends_the_context_with_an_io_error() {
    let _serial = serial();
    let ckpt = temp("removed");
    let ctx = stateful_job(&ckpt);
    ctx.start().unwrap();
    wait_batches(&ctx, 3);
    std::fs::remove_dir_all(&ckpt).unwrap();
    let e = failure(&ctx);
    assert!(matches!(e, Error::Io { .. }), "{e:?}");
}

#[test]
fn a_checkpoint_disk_that_fills_up_ends_the_context_with_an_io_error() {
    let _serial = serial();
    let Some(fs) = Tmpfs::mount("full", "1m") else {
        return;
    };
    let ckpt = fs.0.join("ckpt");
    let ctx = stateful_job(&ckpt);
    ctx.start().unwrap();
    wait_batches(&ctx, 3);
    // Another writer fills the disk.
    let filler = fs.0.join("filler");
    let chunk = vec![0u8; 64 * 1024];
    let mut f = std::fs::File::create(&filler).unwrap();
    while std::io::Write::write_all(&mut f, &chunk).is_ok() {}
    let e = failure(&ctx);
    assert!(matches!(e, Error::Io { .. }), "{e:?}");
    assert!(e.to_string().contains("space"), "{e}");
}

#[test]
fn an_output_directory_made_read_only_ends_the_context_with_an_io_error() {
    let _serial = serial();
    let Some(fs) = Tmpfs::mount("readonly", "4m") else {
        return;
    };
    let ctx = context(None);
    let prefix = fs.0.join("out").to_string_lossy().into_owned();
    stream! { ctx;
        queue_stream(words()).save_as_text_files(&prefix, "txt");
    };
    ctx.start().unwrap();
    wait_batches(&ctx, 3);
    fs.remount_read_only();
    let e = failure(&ctx);
    assert!(matches!(e, Error::Io { .. }), "{e:?}");
    assert!(e.to_string().contains("Read-only"), "{e}");
}

#[test]
fn a_panicking_closure_in_a_stage_ends_the_context() {
    let _serial = serial();
    let ctx = context(None);
    stream! { ctx;
        queue_stream((0..1000).map(|i| vec![i]).collect::<Vec<_>>())
            .map(|x: i32| if x == 5 { panic!("bad record {x}") } else { x })
            .for_each_batch(|_, _| {});
    };
    ctx.start().unwrap();
    match failure(&ctx) {
        Error::JobPanicked { message, .. } => assert!(message.contains("bad record 5")),
        e => panic!("{e:?}"),
    }
}

#[test]
fn a_panicking_output_ends_the_context() {
    let _serial = serial();
    let ctx = context(None);
    stream! { ctx;
        queue_stream((0..1000).map(|i| vec![i]).collect::<Vec<_>>())
            .for_each_batch(|_, v: Vec<i32>| assert!(v != [3], "output refuses 3"));
    };
    ctx.start().unwrap();
    match failure(&ctx) {
        Error::JobPanicked { message, .. } => assert!(message.contains("output refuses 3")),
        e => panic!("{e:?}"),
    }
}

/// A record whose drop panics: the janitor thread that frees consumed batches meets it.
#[derive(Clone, Debug)]
struct Grenade(u32);

impl Drop for Grenade {
    fn drop(&mut self) {
        if self.0 == 4 && !std::thread::panicking() {
            panic!("grenade {} went off", self.0);
        }
    }
}

#[test]
fn a_panic_on_the_janitor_thread_ends_the_context() {
    let _serial = serial();
    let ctx = context(None);
    stream! { ctx;
        queue_stream((0..1000).map(|i| vec![Grenade(i)]).collect::<Vec<_>>())
            .flat_map(|g| std::iter::once(g.0))
            .for_each_batch(|_, _| {});
    };
    ctx.start().unwrap();
    match failure(&ctx) {
        Error::ThreadPanicked { thread, message } => {
            assert_eq!(thread, "rill-janitor");
            assert!(message.contains("grenade 4"), "{message}");
        }
        e => panic!("{e:?}"),
    }
}

#[test]
fn a_panicking_receiver_ends_the_context() {
    let _serial = serial();
    let server = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = server.local_addr().unwrap().port();
    let ctx = context(None);
    stream! { ctx;
        socket_text_stream("127.0.0.1", port).for_each_batch(|_, _| {});
    };
    rill_runtime::fault::arm("receiver");
    ctx.start().unwrap();
    let (mut conn, _) = server.accept().unwrap();
    std::io::Write::write_all(&mut conn, b"hello\n").unwrap();
    match failure(&ctx) {
        Error::ThreadPanicked { message, .. } => {
            assert!(message.contains("injected fault"), "{message}")
        }
        e => panic!("{e:?}"),
    }
}

#[test]
fn a_stop_from_inside_a_batch_lets_that_batch_finish_first() {
    let _serial = serial();
    let ckpt = temp("stop-inside");
    let ctx = context(Some(&ckpt));
    let handle: StopHandle = ctx.stop_handle();
    let later = Arc::new(Mutex::new(Vec::new()));
    let seen = later.clone();
    stream! { ctx;
        let n = queue_stream((1..=1000u64).map(|i| vec![i]).collect::<Vec<_>>());
        let totals = n.map(|i| ("sum", i)).update_state_by_key(|new: Vec<u64>, s: Option<u64>| Some(s.unwrap_or(0) + new.iter().sum::<u64>()));
        n.for_each_batch(move |_, v: Vec<u64>| {
            if v == [5] {
                // Stop after exactly batch 5.
                handle.stop();
                // The rest of this batch still runs.
                std::thread::sleep(Duration::from_millis(200));
            }
        });
        totals.for_each_batch(move |_, t: Vec<(String, u64)>| seen.lock().unwrap().push(t[0].1));
    };
    ctx.start().unwrap();
    assert!(
        ctx.await_termination_or_timeout(STOPS_WITHIN).unwrap(),
        "stopped"
    );
    // The later output saw batch 5 (sum 15), and nothing after it ran.
    assert_eq!(*later.lock().unwrap(), vec![1, 3, 6, 10, 15]);
    // Its checkpoint was written before the context stopped.
    let newest = std::fs::read_dir(&ckpt)
        .unwrap()
        .filter_map(|e| {
            let name = e.unwrap().file_name().to_string_lossy().into_owned();
            name.strip_prefix("checkpoint-")?.parse::<u64>().ok()
        })
        .max()
        .unwrap();
    assert_eq!(Some(Time(newest)), ctx.batch_infos().last().map(|b| b.time));
    assert_eq!(ctx.batch_infos().len(), 5);
}

/// A receiver whose buffer is full (the job fell behind) with the write-ahead log on must
/// not hold the log while it waits: the clock logging a cut and a checkpoint truncating
/// the log would wait on it, and the job would stall for good.
#[test]
fn a_job_behind_with_the_write_ahead_log_on_keeps_running() {
    let _serial = serial();
    let ckpt = temp("behind-wal");
    let ctx = StreamingContext::builder()
        .batch_interval(Duration::from_millis(50))
        .parallelism(2)
        .checkpoint_dir(&ckpt)
        .checkpoint_interval(Duration::from_millis(50))
        .write_ahead_log(true)
        .build()
        .unwrap();
    stream! { ctx;
        socket_listen_stream("127.0.0.1:0")
            .for_each_batch(|_, _| std::thread::sleep(Duration::from_millis(150)));
    };
    ctx.start().unwrap();
    let addr = ctx.local_addrs()[0];
    let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let sending = stop.clone();
    let sender = std::thread::spawn(move || {
        let mut conn = std::net::TcpStream::connect(addr).unwrap();
        let block = "a line of a flood that fills every buffer\n".repeat(1000);
        while !sending.load(std::sync::atomic::Ordering::Relaxed) {
            if std::io::Write::write_all(&mut conn, block.as_bytes()).is_err() {
                return;
            }
        }
    });
    // Well past the point where the receiver's buffer is full: batches still complete.
    wait_batches(&ctx, 10);
    let before = ctx.batch_infos().len();
    wait_batches(&ctx, before + 10);
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    ctx.stop().unwrap();
    sender.join().unwrap();
}
