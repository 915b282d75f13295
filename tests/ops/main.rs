//! Integration tests of every operator, one module per operator, with outputs worked out
//! by hand. Each pipeline runs at parallelism 1 and 4 and must give the same multisets.

// Every other file of this directory is a module (`common`, the shared helpers, and
// one per operator), declared by the package's `build.rs`.
include!(concat!(env!("OUT_DIR"), "/ops_tests.rs"));
