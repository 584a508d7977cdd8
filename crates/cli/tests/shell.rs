//! Integration tests of `cartable shell`, the build's last step, run on the real binary.
// See: issue 12 (the app shell is content like a course)

mod support;

use cartable_core::shell::Shell;
use cartable_core::Cid;
use support::{app, fails, ok, run, write};
use tempfile::TempDir;

fn shell(dir: &std::path::Path) -> Shell {
    Shell::from_json(&std::fs::read(dir.join("pkg/shell.json")).unwrap()).unwrap()
}

#[test]
fn lists_the_app_by_cid_and_writes_its_chunks_compressed_copies_and_the_workers_module() {
    let dir = TempDir::new().unwrap();
    app(dir.path());
    let shell = shell(dir.path());
    let paths: Vec<&str> = shell.files.iter().map(|file| file.path.as_str()).collect();
    assert_eq!(
        paths,
        ["style.css", "pkg/cartable.js", "pkg/cartable_bg.wasm", "pkg/snippets/cartable-0123/inline0.js"]
    );
    assert_eq!(shell.worker.path, "pkg/cartable_sw_bg.wasm");
    assert_eq!(shell.pages, ["index.html", "embed.html"]);
    let ipfs = dir.path().join("pkg/ipfs");
    for (cid, len) in shell.all_chunks() {
        let bytes = std::fs::read(ipfs.join(cid.to_string())).unwrap();
        assert_eq!((bytes.len() as u64, cid.matches(&bytes)), (len, true), "{cid}");
    }
    // Compressed copies are named by the CID of what they decode to, for every file served by path too.
    let page = std::fs::read(dir.path().join("www/index.html")).unwrap();
    let gz = std::fs::read(ipfs.join(format!("{}.gz", Cid::of(&page)))).unwrap();
    let mut decoded = Vec::new();
    std::io::Read::read_to_end(&mut flate2::read::GzDecoder::new(&gz[..]), &mut decoded).unwrap();
    assert_eq!(decoded, page);
    let css = shell.file("style.css").unwrap().chunks[0];
    assert!(ipfs.join(format!("{css}.br")).is_file());
    // The worker's module ends with the build id and the list: its script imports one module.
    let module = std::fs::read_to_string(dir.path().join("pkg/cartable_sw.js")).unwrap();
    assert!(module.starts_with("export default function init() {}\n"), "{module}");
    assert!(module.contains(&format!("\nexport const BUILD = '{}';", shell.build)), "{module}");
    let list = std::fs::read_to_string(dir.path().join("pkg/shell.json")).unwrap();
    assert!(module.ends_with(&format!("export const SHELL = {list};\n")), "{module}");
    assert_eq!(module.matches("export const BUILD").count(), 1);
}

#[test]
fn a_rebuild_compresses_only_what_changed_and_drops_what_is_gone() {
    let dir = TempDir::new().unwrap();
    app(dir.path());
    let first = shell(dir.path());
    let module = std::fs::read(dir.path().join("pkg/cartable_sw.js")).unwrap();
    let again = ok(&run(dir.path(), &["shell", "--www", "www", "--pkg", "pkg"]));
    assert!(again.contains(" 0 compressed copies written"), "{again}");
    assert_eq!(shell(dir.path()), first, "the same app, the same list");
    assert_eq!(std::fs::read(dir.path().join("pkg/cartable_sw.js")).unwrap(), module, "appended once, not twice");
    let old_css = first.file("style.css").unwrap().chunks[0];
    write(dir.path(), "www/style.css", "body { margin: 1rem }\n".repeat(40));
    let changed = ok(&run(dir.path(), &["shell", "--www", "www", "--pkg", "pkg"]));
    let second = shell(dir.path());
    assert_ne!(second.build, first.build, "a new build id");
    assert!(!changed.contains(" 0 compressed copies written"), "{changed}");
    assert!(!dir.path().join("pkg/ipfs").join(old_css.to_string()).exists(), "the old chunk is gone");
    // The worker's script changes the build too, though it is in no list.
    write(dir.path(), "www/sw.js", "// another worker\n");
    ok(&run(dir.path(), &["shell", "--www", "www", "--pkg", "pkg"]));
    assert_ne!(shell(dir.path()).build, second.build);
}

#[test]
fn an_app_not_built_is_named_with_what_to_do() {
    let dir = TempDir::new().unwrap();
    write(dir.path(), "www/index.html", "<!doctype html>\n");
    let error = fails(&run(dir.path(), &["shell", "--www", "www", "--pkg", "pkg"]));
    assert!(error.contains("not found: build the app first"), "{error}");
}
