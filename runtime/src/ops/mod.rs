//! Runtime halves of the operators: what generated code calls outside its fused loops.
//!
//! One file per operator (or per family, for the joins), each a public module without
//! a `mod` line: the package's `build.rs` declares every file of this directory. The
//! fused per-record work (map, filter, flat_map, ...) is generated inline and has no
//! runtime function.

// Every other file of this directory is a public module, declared by `build.rs`.
include!(concat!(env!("OUT_DIR"), "/ops_modules.rs"));
