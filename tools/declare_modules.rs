// Included by the build scripts of the packages (`build.rs`, `macros/build.rs`,
// `runtime/build.rs`): std only, no crate of its own. The macros and runtime packages
// reach it through a link in their `build_support/`, which `cargo package` follows, so
// each published package carries its own copy.

/// Declares every file of a directory as a module, so a new file needs no `mod` line.
///
/// Writes `$OUT_DIR/<out>` with one `#[path = "<absolute path>"] <vis>mod <name>;` per
/// `*.rs` file of `dir` (relative to the package) except `mod.rs` and `main.rs`, sorted
/// by name, for that directory's `mod.rs` or `main.rs` to `include!`. The build script
/// reruns when a file of `dir` is added, removed or changed.
fn declare_modules(dir: &str, out: &str, vis: &str) {
    let manifest = std::env::var("CARGO_MANIFEST_DIR").expect("CARGO_MANIFEST_DIR is set");
    let dir = std::path::Path::new(&manifest).join(dir);
    println!("cargo:rerun-if-changed={}", dir.display());
    let mut files: Vec<(String, String)> = Vec::new();
    for entry in std::fs::read_dir(&dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display())) {
        let path = entry.expect("a directory entry").path();
        let Some(name) = path.file_name().and_then(|n| n.to_str()) else {
            continue;
        };
        let Some(module) = name.strip_suffix(".rs") else {
            continue;
        };
        if matches!(name, "mod.rs" | "main.rs") || !path.is_file() {
            continue;
        }
        let ident = |c: char| c == '_' || c.is_ascii_alphanumeric();
        assert!(
            module.chars().all(ident) && !module.starts_with(|c: char| c.is_ascii_digit()),
            "{}: the name of a module file must be an identifier",
            path.display()
        );
        let path = path.to_str().expect("a UTF-8 path").to_string();
        files.push((module.to_string(), path));
    }
    files.sort();
    let mut code = String::new();
    for (module, path) in files {
        code += &format!("#[path = {path:?}]\n{vis}mod {module};\n");
    }
    let out = std::path::Path::new(&std::env::var("OUT_DIR").expect("OUT_DIR is set")).join(out);
    std::fs::write(&out, code).unwrap_or_else(|e| panic!("{}: {e}", out.display()));
}
