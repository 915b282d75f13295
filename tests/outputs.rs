//! Output operators: print's exact frame, save_as_text_files' directories, explain.

use rill::prelude::*;
use std::process::Command;

const DASHES: &str = "-------------------------------------------";

/// Runs this test binary again as a child that executes `test` with `RILL_CHILD=1` and
/// returns the child's stdout, so a test can read what `print()` wrote.
fn child_stdout(test: &str, env: &[(&str, &str)]) -> String {
    let out = Command::new(std::env::current_exe().unwrap())
        .args([test, "--exact", "--nocapture", "--test-threads=1"])
        .env("RILL_CHILD", "1")
        .envs(env.iter().copied())
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "child failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

fn in_child() -> bool {
    std::env::var_os("RILL_CHILD").is_some()
}

#[test]
fn print_child() {
    if !in_child() {
        return;
    }
    let ctx = StreamingContext::manual(Duration::from_secs(1));
    stream! { ctx;
        let nums = queue_stream(vec![(1..=12).collect::<Vec<u32>>(), vec![], vec![7]]);
        nums.print();
        nums.map(|x| (x, "x")).print_n(2);
    };
    ctx.start().unwrap();
    ctx.advance(3).unwrap();
}

#[test]
fn print_writes_sparks_frame() {
    let out = child_stdout("print_child", &[]);
    let first: String = (1..=10).map(|i| format!("{i}\n")).collect();
    let expected = format!(
        "{DASHES}\nTime: 1000 ms\n{DASHES}\n{first}...\n\n\
         {DASHES}\nTime: 1000 ms\n{DASHES}\n(1, \"x\")\n(2, \"x\")\n...\n\n\
         {DASHES}\nTime: 2000 ms\n{DASHES}\n\n\
         {DASHES}\nTime: 2000 ms\n{DASHES}\n\n\
         {DASHES}\nTime: 3000 ms\n{DASHES}\n7\n\n\
         {DASHES}\nTime: 3000 ms\n{DASHES}\n(7, \"x\")\n\n"
    );
    assert!(out.contains(&expected), "stdout was:\n{out}");
}

#[test]
fn explain_child() {
    if !in_child() {
        return;
    }
    let ctx = StreamingContext::manual(Duration::from_secs(1));
    stream! { ctx;
        let lines = queue_stream(vec![vec!["a b"]]);
        lines.flat_map(|l| l.split(' ')).map(|w| (w, 1)).reduce_by_key(|a, b| a + b).count().print();
    };
    ctx.start().unwrap();
}

#[test]
fn rill_explain_prints_the_plan_at_start() {
    let out = child_stdout("explain_child", &[("RILL_EXPLAIN", "1")]);
    assert!(
        out.contains("pipeline 1 (fused): 2 stages, 1 shuffle"),
        "{out}"
    );
    assert!(
        out.contains("stage 2: reduce_by_key (read shuffle) => count (partial per partition)"),
        "{out}"
    );
    assert!(
        out.contains("flat_map -> map => reduce_by_key (map-side combine, write shuffle)"),
        "{out}"
    );
}

#[test]
fn explain_shows_stages_and_fusion() {
    let ctx = StreamingContext::manual(Duration::from_secs(1));
    stream! { ctx;
        let lines = queue_stream(vec![vec!["a b"]]);
        let counts = lines.flat_map(|l| l.split(' ')).map(|w| (w, 1)).reduce_by_key(|a, b| a + b);
        counts.print();
    };
    stream! { ctx, unfused;
        let lines = queue_stream(vec![vec!["a b"]]);
        lines.flat_map(|l| l.split(' ')).map(|w| (w, 1)).reduce_by_key(|a, b| a + b).print();
    };
    let text = ctx.explain();
    assert!(
        text.contains("pipeline 1 (fused): 2 stages, 1 shuffle"),
        "{text}"
    );
    assert!(
        text.contains("pipeline 2 (unfused): 4 stages, 1 shuffle"),
        "{text}"
    );
    assert!(
        text.contains(
            "stage 2: reduce_by_key `counts` (read shuffle) => materialize reduce_by_key `counts`"
        ),
        "{text}"
    );
}

#[test]
fn save_as_text_files_writes_one_directory_per_batch() {
    let base = std::env::temp_dir().join(format!("rill-save-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&base);
    std::fs::create_dir_all(&base).unwrap();
    let prefix = base.join("counts").to_string_lossy().into_owned();
    let plain = base.join("plain").to_string_lossy().into_owned();
    let ctx = StreamingContext::builder()
        .batch_interval(Duration::from_millis(500))
        .parallelism(2)
        .manual_clock()
        .build()
        .unwrap();
    stream! { ctx;
        let nums = queue_stream(vec![vec![1, 2, 3], vec![]]);
        nums.save_as_text_files(prefix, "txt");
        nums.save_as_text_files(plain, "");
    };
    ctx.start().unwrap();
    ctx.advance(2).unwrap();
    let mut names: Vec<String> = std::fs::read_dir(&base)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    assert_eq!(
        names,
        vec![
            "counts-1000.txt",
            "counts-500.txt",
            "plain-1000",
            "plain-500"
        ]
    );
    let dir = base.join("counts-500.txt");
    let p0 = std::fs::read_to_string(dir.join("part-00000")).unwrap();
    let p1 = std::fs::read_to_string(dir.join("part-00001")).unwrap();
    assert_eq!(format!("{p0}{p1}"), "1\n2\n3\n");
    assert!(dir.join("_SUCCESS").exists());
    assert!(base.join("counts-1000.txt").join("_SUCCESS").exists());
    std::fs::remove_dir_all(&base).unwrap();
}
