//! Helpers shared by integration tests that run the examples as processes.

use std::path::PathBuf;
use std::process::Command;

/// The binary of example `name`, built first if this test runs on its own.
pub fn example(name: &str) -> PathBuf {
    let exe = std::env::current_exe().unwrap();
    let dir = exe.parent().unwrap().parent().unwrap().join("examples");
    let bin = dir.join(format!("{name}{}", std::env::consts::EXE_SUFFIX));
    if !bin.exists() {
        let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
        let ok = Command::new(cargo)
            .args(["build", "--example", name])
            .status()
            .unwrap()
            .success();
        assert!(ok, "cannot build the example {name}");
    }
    bin
}
