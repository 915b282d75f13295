//! Declares every file of `tests/ops/` as a module of the `ops` integration test (see
//! `tests/ops/main.rs`), so an operator's tests are their file alone, with no `mod` line
//! to add as well. Integration tests get this package's `OUT_DIR`; nothing else uses it.

include!("tools/declare_modules.rs");

fn main() {
    declare_modules("tests/ops", "ops_tests.rs", "");
}
