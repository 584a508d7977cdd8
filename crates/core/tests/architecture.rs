//! Tidy test: the architecture invariants of ARCHITECTURE.md that a grep can check.
// See: issue 2

use std::path::Path;

/// Names the pure core must never use: the browser, files, sockets, clocks and threads belong to the edges.
const FORBIDDEN_IN_CORE: &[&str] =
    &["web_sys", "wasm_bindgen", "yew", "std::fs", "std::net", "Instant::now", "SystemTime", "thread::spawn", "rand::"];

fn rust_files(dir: &Path, out: &mut Vec<std::path::PathBuf>) {
    for entry in std::fs::read_dir(dir).expect("readable source folder") {
        let path = entry.expect("readable entry").path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|ext| ext == "rs") {
            out.push(path);
        }
    }
}

#[test]
fn the_core_does_no_io_and_reads_no_clock() {
    let mut files = Vec::new();
    rust_files(&Path::new(env!("CARGO_MANIFEST_DIR")).join("src"), &mut files);
    assert!(files.len() > 5, "found the core's sources");
    let mut offences = Vec::new();
    for file in files {
        let text = std::fs::read_to_string(&file).expect("UTF-8 source");
        for (number, line) in text.lines().enumerate() {
            let code = line.split("//").next().unwrap_or_default();
            for name in FORBIDDEN_IN_CORE.iter().filter(|name| code.contains(*name)) {
                offences.push(format!("{}:{}: names `{name}`", file.display(), number + 1));
            }
        }
    }
    assert!(offences.is_empty(), "the core must stay pure:\n{}", offences.join("\n"));
}

#[test]
fn the_core_depends_on_nothing_of_the_browser() {
    let manifest =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("Cargo.toml")).expect("Cargo.toml");
    for name in ["web-sys", "wasm-bindgen", "js-sys", "yew", "gloo", "tokio", "getrandom"] {
        assert!(!manifest.contains(name), "crates/core/Cargo.toml depends on {name}");
    }
}
