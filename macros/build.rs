//! Declares every file of `src/ops/` as a module of `ops` (see `src/ops/mod.rs`), so
//! adding an operator is its files and its line in the `operators!` registry, with no
//! `mod` line to add as well.

include!("build_support/declare_modules.rs");

fn main() {
    declare_modules("src/ops", "ops_modules.rs", "");
}
