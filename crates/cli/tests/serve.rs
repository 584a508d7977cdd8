//! Integration tests of `cartable serve`, over raw HTTP on a free port.
// See: issue 2

mod support;

use std::path::Path;

use cartable_core::Cid;
use support::{chunk_names, fails, packed, run, write, Server};
use tempfile::TempDir;

const PAGE: &str = "<!doctype html><head>\n<script type=\"application/json\" id=\"cartable-config\">\n  {\"manifest\": \"x\", \"key\": \"y\"}\n</script>\n</head><body></body>\n";

/// A packed course plus fake `www` and `pkg` folders in `dir`; a secret lies next to `www`.
fn site(dir: &Path) {
    packed(dir);
    write(dir, "www/index.html", PAGE);
    write(dir, "www/style.css", "body { margin: 0 }\n");
    write(dir, "pkg/cartable.js", "export default function init() {}\n");
    write(dir, "pkg/cartable_bg.wasm", b"\0asm\x01\0\0\0");
    write(dir, "secret.txt", "must never be served\n");
}

fn start(dir: &Path) -> Server {
    Server::start(dir, &["--www", "www", "--pkg", "pkg", "--course", "out", "--pubkey", "school.pub"])
}

#[test]
fn index_carries_the_course_and_the_key() {
    let dir = TempDir::new().unwrap();
    site(dir.path());
    let server = start(dir.path());
    let key = std::fs::read_to_string(dir.path().join("school.pub")).unwrap();
    let page = server.get("/").text();
    let config = format!("{{\"manifest\": \"courses/essai/manifest.json\", \"key\": \"{}\"}}", key.trim());
    assert!(page.contains(&config), "{page}");
    assert!(!page.contains("\"manifest\": \"x\""));
    assert_eq!(server.get("/index.html").text(), page);
}

#[test]
fn prints_the_address_then_each_course() {
    let dir = TempDir::new().unwrap();
    site(dir.path());
    let mut server = start(dir.path());
    assert!(server.before.is_empty(), "the address line comes first: {:?}", server.before);
    assert_eq!(server.banner, format!("cartable serve: http://{}/\n", server.address));
    let line = server.next_line();
    let (title, rest) = line.split_once(" v").unwrap();
    assert_eq!(title, "  course \"Cours d'essai\"");
    let (version, url) = rest.split_once(": ").unwrap();
    assert!(version.parse::<u64>().is_ok(), "{line}");
    assert_eq!(url, format!("http://{}/courses/essai/manifest.json\n", server.address));
}

#[test]
fn wasm_has_its_media_type() {
    let dir = TempDir::new().unwrap();
    site(dir.path());
    let server = start(dir.path());
    let reply = server.get("/pkg/cartable_bg.wasm");
    assert_eq!(reply.status, 200);
    assert_eq!(reply.header("content-type"), Some("application/wasm"));
    assert_eq!(reply.header("cache-control"), Some("no-cache"));
    assert_eq!(reply.header("x-content-type-options"), Some("nosniff"));
    assert_eq!(server.get("/style.css").header("content-type"), Some("text/css; charset=utf-8"));
}

#[test]
fn chunks_are_immutable_cors_and_match_their_cid() {
    let dir = TempDir::new().unwrap();
    site(dir.path());
    let server = start(dir.path());
    let name = chunk_names(&dir.path().join("out")).remove(0);
    let reply = server.get(&format!("/courses/essai/ipfs/{name}"));
    assert_eq!(reply.status, 200);
    assert_eq!(reply.header("access-control-allow-origin"), Some("*"));
    assert_eq!(reply.header("cache-control"), Some("public, max-age=31536000, immutable"));
    assert!(name.parse::<Cid>().unwrap().matches(&reply.body));
    let head = server.request("HEAD", &format!("/courses/essai/ipfs/{name}"));
    assert_eq!(head.status, 200);
    assert!(head.body.is_empty());
}

#[test]
fn manifest_is_served_with_cors_and_preflight_works() {
    let dir = TempDir::new().unwrap();
    site(dir.path());
    let server = start(dir.path());
    let reply = server.get("/courses/essai/manifest.json");
    assert_eq!(reply.header("content-type"), Some("application/json"));
    assert_eq!(reply.header("access-control-allow-origin"), Some("*"));
    assert_eq!(reply.body, std::fs::read(dir.path().join("out/manifest.json")).unwrap());
    let preflight = server.request("OPTIONS", "/courses/essai/manifest.json");
    assert_eq!(preflight.status, 204);
    assert_eq!(preflight.header("access-control-allow-methods"), Some("GET, HEAD, OPTIONS"));
}

#[test]
fn traversal_and_unknown_names_are_not_found() {
    let dir = TempDir::new().unwrap();
    site(dir.path());
    let server = start(dir.path());
    let paths = [
        "/courses/essai/../../secret.txt",
        "/courses/essai/ipfs/../manifest.json",
        "/courses/essai/ipfs/not-a-cid",
        "/courses/essai/course.toml",
        "/courses/other/manifest.json",
        "/../secret.txt",
        "/pkg/../../secret.txt",
        "/%2e%2e/secret.txt",
        "/..%2fsecret.txt",
        "/pkg/..\\..\\secret.txt",
        "//etc/passwd",
    ];
    for path in paths {
        let reply = server.get(path);
        assert_eq!(reply.status, 404, "{path}");
        assert!(!reply.text().contains("never"), "{path}");
    }
}

#[test]
fn refuses_a_course_signed_by_another_key() {
    let dir = TempDir::new().unwrap();
    site(dir.path());
    support::ok(&run(dir.path(), &["keygen", "other"]));
    let args = ["serve", "--port", "0", "--www", "www", "--pkg", "pkg", "--course", "out", "--pubkey", "other.pub"];
    let error = fails(&run(dir.path(), &args));
    assert!(error.contains("cannot serve course out") && error.contains("not a key this school trusts"), "{error}");
}

#[test]
fn refuses_to_start_without_the_built_app() {
    let dir = TempDir::new().unwrap();
    site(dir.path());
    std::fs::remove_file(dir.path().join("pkg/cartable_bg.wasm")).unwrap();
    let args = ["serve", "--port", "0", "--www", "www", "--pkg", "pkg", "--course", "out", "--pubkey", "school.pub"];
    let error = fails(&run(dir.path(), &args));
    assert!(error.contains("cartable_bg.wasm not found: build the app first"), "{error}");
}

#[test]
fn course_needs_a_pubkey() {
    let dir = TempDir::new().unwrap();
    site(dir.path());
    let error = fails(&run(dir.path(), &["serve", "--port", "0", "--www", "www", "--pkg", "pkg", "--course", "out"]));
    assert!(error.contains("--pubkey is required"), "{error}");
}

#[test]
fn demo_packs_the_sample_and_serves_it_with_a_stable_key() {
    let dir = TempDir::new().unwrap();
    site(dir.path());
    // Run from a folder holding www/index.html, the demo takes it as the project root.
    std::fs::rename(dir.path().join("course"), dir.path().join("sample-course")).unwrap();
    std::fs::create_dir(dir.path().join("sample")).unwrap();
    std::fs::rename(dir.path().join("sample-course"), dir.path().join("sample/physique-3e")).unwrap();
    let demo = |dir: &Path| {
        let mut server = Server::spawn(dir, &["demo", "--port", "0", "--work", "work"]);
        let hint = [server.next_line(), server.next_line()];
        assert!(hint[1].contains(&format!("open http://{}/ in a browser", server.address)), "{hint:?}");
        let reply = server.get("/courses/essai/manifest.json");
        assert_eq!(reply.status, 200);
        (server.before.join(""), std::fs::read_to_string(dir.join("work/demo-key.pub")).unwrap())
    };
    let (first, key) = demo(dir.path());
    assert!(first.contains("packed course \"Cours d'essai\" (essai)"), "{first}");
    let (_, again) = demo(dir.path());
    assert_eq!(again, key, "the demo key is kept across runs");
    assert!(dir.path().join("work/courses/essai/manifest.json").is_file());
}

// See: issue 3 (a slow origin, and request counts, for the offline end-to-end tests)
#[test]
#[allow(clippy::disallowed_methods)] // a native test timing a real server: the clock is the point
fn latency_delays_course_answers_and_the_access_log_lists_requests() {
    let dir = TempDir::new().unwrap();
    site(dir.path());
    let log = dir.path().join("access.log");
    let args = ["serve", "--port", "0", "--www", "www", "--pkg", "pkg", "--course", "out", "--pubkey", "school.pub"];
    let args = [&args[..], &["--latency", "300", "--access-log"]].concat();
    let stderr = std::fs::File::create(&log).unwrap();
    let server = Server::spawn_with_stderr(dir.path(), &args, stderr.into());
    let cid = chunk_names(&dir.path().join("out")).remove(0);
    let chunk = format!("/courses/essai/ipfs/{cid}");

    let started = std::time::Instant::now();
    assert_eq!(server.get(&chunk).status, 200);
    assert!(started.elapsed() >= std::time::Duration::from_millis(300), "{:?}", started.elapsed());
    assert_eq!(server.get("/courses/essai/ipfs/not-a-cid").status, 404);
    assert_eq!(server.get("/style.css").status, 200);

    let logged = std::fs::read_to_string(&log).unwrap();
    let expected = format!("GET {chunk} 200\nGET /courses/essai/ipfs/not-a-cid 404\nGET /style.css 200\n");
    assert_eq!(logged, expected);
}

// See: issue 4 (the browser asks every mirror for `ipfs/<cid>?format=raw`, as of an IPFS trustless gateway)
#[test]
fn chunk_urls_with_format_raw_are_answered() {
    let dir = TempDir::new().unwrap();
    site(dir.path());
    let server = start(dir.path());
    let name = chunk_names(&dir.path().join("out")).remove(0);
    let reply = server.get(&format!("/courses/essai/ipfs/{name}?format=raw"));
    assert_eq!(reply.status, 200);
    assert!(name.parse::<Cid>().unwrap().matches(&reply.body));
}
