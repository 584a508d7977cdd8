//! Integration tests of `cartable serve`, over raw HTTP on a free port.
// See: issue 2

mod support;

// The crate's own compression, as the build step writes the app shell's copies.
#[allow(dead_code)]
#[path = "../src/compress.rs"]
mod compress;

use std::path::Path;

use cartable_core::Cid;
use support::{chunk_names, fails, run, site, write, Server, SITE_ARGS};
use tempfile::TempDir;

fn start(dir: &Path) -> Server {
    Server::start(dir, SITE_ARGS)
}

#[test]
fn index_carries_the_course_and_the_key() {
    let dir = TempDir::new().unwrap();
    site(dir.path());
    let server = start(dir.path());
    let key = std::fs::read_to_string(dir.path().join("school.pub")).unwrap();
    let page = server.get("/").text();
    let config = format!(
        "{{\"manifest\": \"courses/essai/manifest.json\", \"key\": \"{}\", \"tracker\": \"ws://{}/tracker\"}}",
        key.trim(),
        server.address
    );
    assert!(page.contains(&config), "{page}");
    assert!(!page.contains("\"manifest\": \"x\""));
    assert_eq!(server.get("/index.html").text(), page);
}

#[test]
fn index_lists_the_mirrors_given() {
    let dir = TempDir::new().unwrap();
    site(dir.path());
    let args = ["--www", "www", "--pkg", "pkg", "--course", "out", "--pubkey", "school.pub"];
    let mirrors = ["--mirror", "http://127.0.0.1:9/a", "--mirror", "https://miroir.example/physique/"];
    let server = Server::start(dir.path(), &[&args[..], &mirrors[..]].concat());
    let page = server.get("/").text();
    assert!(page.contains(r#""mirrors": ["http://127.0.0.1:9/a/","https://miroir.example/physique/"]"#), "{page}");
}

// See: issue 6
#[test]
fn app_pages_carry_the_policy_and_only_the_embed_page_may_be_framed_by_other_sites() {
    let dir = TempDir::new().unwrap();
    site(dir.path());
    write(dir.path(), "www/embed.html", "<main id=\"cartable\"></main>\n");
    let school = "<iframe src=\"embed.html?manifest=courses/exemple/manifest.json&amp;key=ed25519:REPLACE-WITH-THE-SCHOOL-PUBLIC-KEY\">";
    write(dir.path(), "www/ecole.html", school);
    let args = [SITE_ARGS, &["--mirror", "https://miroir.example/physique/"]].concat();
    let server = Server::start(dir.path(), &args);
    let index = server.get("/");
    let policy = index.header("content-security-policy").expect("the app page has a policy");
    assert!(policy.contains("script-src 'self' 'wasm-unsafe-eval' 'sha256-"), "{policy}");
    assert!(!policy.contains("'unsafe-eval'") && !policy.contains("'unsafe-inline'"), "{policy}");
    assert!(policy.contains("https://miroir.example"), "the mirror's origin may be fetched from: {policy}");
    assert!(policy.ends_with("frame-ancestors 'self'"), "{policy}");
    let embed = server.get("/embed.html");
    assert!(embed.header("content-security-policy").unwrap().ends_with("frame-ancestors *"));
    assert_eq!(server.get("/style.css").header("content-security-policy"), None);

    // The school's page names the served course and key, the key's base64 escaped for a query.
    let key = std::fs::read_to_string(dir.path().join("school.pub")).unwrap();
    let escaped = key.trim().replace('+', "%2B").replace('=', "%3D");
    let page = server.get("/ecole.html").text();
    assert!(page.contains(&format!("manifest=courses/essai/manifest.json&amp;key={escaped}\"")), "{page}");
}

#[test]
fn a_mirror_must_be_an_http_url() {
    let dir = TempDir::new().unwrap();
    site(dir.path());
    let output = run(dir.path(), &["serve", "--course", "out", "--pubkey", "school.pub", "--mirror", "ftp://x/"]);
    assert!(!output.status.success());
    assert!(String::from_utf8_lossy(&output.stderr).contains("expected an http:// or https:// URL"));
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
    assert_eq!(server.request("HEAD", "/style.css").status, 200);

    // Each line ends with the body bytes sent: none for a HEAD.
    let logged = std::fs::read_to_string(&log).unwrap();
    let length = std::fs::metadata(dir.path().join("out/ipfs").join(&cid)).unwrap().len();
    let expected = format!(
        "GET {chunk} 200 {length}\nGET /courses/essai/ipfs/not-a-cid 404 10\nGET /style.css 200 19\nHEAD /style.css 200 0\n"
    );
    assert_eq!(logged, expected);
}

// The browser asks every mirror for `ipfs/<cid>?format=raw`, as it would an IPFS trustless gateway.
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

// Fault injection, to rehearse an overloaded origin.

/// `cartable serve` of the fixture site with `faults`, its standard error (access log) in `<dir>/stderr.log`.
fn start_with(dir: &Path, faults: &[&str]) -> Server {
    let args = ["serve", "--port", "0", "--www", "www", "--pkg", "pkg", "--course", "out", "--pubkey", "school.pub"];
    let args = [&args[..], &["--access-log"], faults].concat();
    let stderr = std::fs::File::create(dir.join("stderr.log")).unwrap();
    Server::spawn_with_stderr(dir, &args, stderr.into())
}

/// The access log lines written so far.
fn logged(dir: &Path) -> Vec<String> {
    std::fs::read_to_string(dir.join("stderr.log")).unwrap().lines().map(str::to_owned).collect()
}

/// The path of the fixture's first chunk (a whole 1 KiB one: the PDF's) and its CID.
fn first_chunk(dir: &Path) -> (String, Cid) {
    let out = dir.join("out");
    let name =
        chunk_names(&out).into_iter().find(|n| std::fs::metadata(out.join("ipfs").join(n)).unwrap().len() == 1024);
    let name = name.expect("a full 1 KiB chunk");
    (format!("/courses/essai/ipfs/{name}"), name.parse().unwrap())
}

/// Waits until the server has received `count` requests (every path the faults cover).
fn wait_for_received(server: &Server, count: u64) {
    for _ in 0..200 {
        if server.stats()["received"] == count {
            return;
        }
        std::thread::sleep(std::time::Duration::from_millis(10));
    }
    panic!("the server never received {count} requests: {}", server.stats());
}

/// With one request in flight (held by --latency), the next is refused at once.
fn refused_beyond_capacity(faults: &[&str]) -> (support::Reply, support::Reply) {
    let dir = TempDir::new().unwrap();
    site(dir.path());
    let server = start_with(dir.path(), &[&["--max-concurrent", "1", "--latency", "1500"], faults].concat());
    let (chunk, _) = first_chunk(dir.path());
    let mut first = server.send(&chunk);
    wait_for_received(&server, 1);
    let refused = server.get(&chunk);
    let mut raw = Vec::new();
    std::io::Read::read_to_end(&mut first, &mut raw).unwrap();
    let stats = server.stats();
    assert_eq!(
        (stats["received"].as_u64(), stats["ok"].as_u64(), stats["refused"].as_u64()),
        (Some(2), Some(1), Some(1))
    );
    let line = format!("GET {chunk} {} {}", refused.status, refused.body.len());
    assert!(logged(dir.path()).contains(&line), "{:?}", logged(dir.path()));
    (support::Reply::parse(&raw), refused)
}

#[test]
fn beyond_capacity_requests_are_refused_with_503() {
    let (first, refused) = refused_beyond_capacity(&[]);
    assert_eq!(first.status, 200);
    assert_eq!(refused.status, 503);
    assert_eq!(refused.header("retry-after"), None);
    assert_eq!(refused.header("access-control-allow-origin"), Some("*"));
}

#[test]
fn beyond_capacity_refusals_carry_retry_after() {
    let (first, refused) = refused_beyond_capacity(&["--retry-after", "7"]);
    assert_eq!(first.status, 200);
    assert_eq!(refused.status, 503);
    assert_eq!(refused.header("retry-after"), Some("7"));
    assert!(refused.header("access-control-expose-headers").unwrap().contains("Retry-After"));
}

#[test]
fn beyond_capacity_refusals_can_be_429() {
    let (_, refused) = refused_beyond_capacity(&["--refuse-with", "429", "--retry-after", "2"]);
    assert_eq!(refused.status, 429);
    assert_eq!(refused.header("retry-after"), Some("2"));
}

#[test]
fn stalled_bodies_stop_after_the_given_bytes_and_hang() {
    let dir = TempDir::new().unwrap();
    site(dir.path());
    let server = start_with(dir.path(), &["--stall-after", "100"]);
    let (chunk, _) = first_chunk(dir.path());
    let (raw, closed) = server.get_for(&chunk, std::time::Duration::from_millis(1500));
    assert!(!closed, "the connection stays open");
    let reply = support::Reply::parse(&raw);
    assert_eq!(reply.status, 200);
    assert_eq!(reply.header("content-length"), Some("1024"), "the whole length is announced");
    assert_eq!(reply.body.len(), 100, "exactly the first 100 bytes arrive");
    let whole = std::fs::read(dir.path().join("out").join(&chunk["/courses/essai/".len()..])).unwrap();
    assert_eq!(reply.body, whole[..100]);
    assert_eq!(server.get("/style.css").text(), "body { margin: 0 }\n", "only chunk bodies stall");
    assert_eq!(server.get("/courses/essai/manifest.json").status, 200, "only chunk bodies stall");
    let stats = server.stats();
    assert_eq!((stats["ok"].as_u64(), stats["stalled"].as_u64()), (Some(3), Some(1)));
    assert!(logged(dir.path()).contains(&format!("GET {chunk} 200 100")), "the prefix sent is counted");
}

#[test]
fn every_nth_request_is_dropped_without_an_answer() {
    let dir = TempDir::new().unwrap();
    site(dir.path());
    let server = start_with(dir.path(), &["--drop-every", "2"]);
    let (chunk, _) = first_chunk(dir.path());
    let outcomes: Vec<Option<u16>> = (0..4).map(|_| server.get_or_hangup(&chunk).map(|r| r.status)).collect();
    assert_eq!(outcomes, [Some(200), None, Some(200), None]);
    assert_eq!(server.get_or_hangup("/style.css").map(|r| r.status), Some(200), "the 5th");
    assert_eq!(server.get_or_hangup("/sw.js").map(|r| r.status), None, "the 6th: the app's files too");
    let stats = server.stats();
    assert_eq!(
        (stats["received"].as_u64(), stats["ok"].as_u64(), stats["dropped"].as_u64()),
        (Some(6), Some(3), Some(3))
    );
    let log = logged(dir.path());
    assert_eq!(log.iter().filter(|line| **line == format!("GET {chunk} 000 0")).count(), 2, "{log:?}");
}

#[test]
fn a_corrupt_cid_is_served_altered_with_the_same_length() {
    let dir = TempDir::new().unwrap();
    site(dir.path());
    let (chunk, cid) = first_chunk(dir.path());
    let server = start_with(dir.path(), &["--corrupt", &cid.to_string()]);
    let reply = server.get(&format!("{chunk}?format=raw"));
    assert_eq!(reply.status, 200);
    let whole = std::fs::read(dir.path().join("out/ipfs").join(cid.to_string())).unwrap();
    assert_eq!(reply.body.len(), whole.len());
    assert_ne!(reply.body, whole);
    assert_ne!(Cid::of(&reply.body), cid);
    let other = chunk_names(&dir.path().join("out")).into_iter().find(|n| *n != cid.to_string()).unwrap();
    assert!(other.parse::<Cid>().unwrap().matches(&server.get(&format!("/courses/essai/ipfs/{other}")).body));
    assert_eq!(server.stats()["corrupted"], 1);
}

#[test]
fn corrupt_refuses_a_cid_no_course_has() {
    let dir = TempDir::new().unwrap();
    site(dir.path());
    let stranger = Cid::of(b"not in the course").to_string();
    let args = ["serve", "--port", "0", "--www", "www", "--pkg", "pkg", "--course", "out", "--pubkey", "school.pub"];
    let error = fails(&run(dir.path(), &[&args[..], &["--corrupt", &stranger]].concat()));
    assert!(error.contains(&format!("--corrupt {stranger}: no served course has this chunk")), "{error}");
}

#[test]
#[allow(clippy::disallowed_methods)] // a native test timing a real server: the clock is the point
fn during_the_outage_window_requests_get_no_answer() {
    let dir = TempDir::new().unwrap();
    site(dir.path());
    let started = std::time::Instant::now();
    let server = start_with(dir.path(), &["--outage-from", "1", "--outage-for", "1.5"]);
    let (chunk, _) = first_chunk(dir.path());
    let at = |secs: f64| std::thread::sleep(std::time::Duration::from_secs_f64(secs).saturating_sub(started.elapsed()));
    assert_eq!(server.get_or_hangup(&chunk).map(|r| r.status), Some(200), "before the outage");
    at(1.5);
    assert_eq!(server.get_or_hangup(&chunk).map(|r| r.status), None, "during the outage");
    assert_eq!(server.get_or_hangup("/courses/essai/manifest.json").map(|r| r.status), None);
    assert_eq!(server.get_or_hangup("/style.css").map(|r| r.status), None, "the app's files go down too");
    at(3.0);
    assert_eq!(server.get_or_hangup(&chunk).map(|r| r.status), Some(200), "after the outage");
    let stats = server.stats();
    assert_eq!(
        (stats["received"].as_u64(), stats["ok"].as_u64(), stats["dropped"].as_u64()),
        (Some(5), Some(2), Some(3))
    );
}

#[test]
fn stats_count_requests_and_bytes_and_the_summary_prints_at_exit() {
    let dir = TempDir::new().unwrap();
    site(dir.path());
    let mut server = start_with(dir.path(), &[]);
    let (chunk, _) = first_chunk(dir.path());
    assert_eq!(server.get(&chunk).status, 200);
    assert_eq!(server.get("/courses/essai/ipfs/not-a-cid").status, 404);
    assert_eq!(server.get("/style.css").status, 200);
    let stats = server.stats();
    assert_eq!(server.stats(), stats, "reading the stats is not counted");
    let expected = serde_json::json!({
        "received": 3, "ok": 2, "refused": 0, "dropped": 0, "other": 1, "stalled": 0, "corrupted": 0,
        "bytes": {"app": 19, "course": 1024, "other": 10}
    });
    assert_eq!(stats, expected);
    assert!(server.terminate().success());
    let log = logged(dir.path());
    assert!(!log.iter().any(|line| line.contains("_cartable")), "the stats are not logged: {log:?}");
    let summary = "cartable serve: requests: 3 received, 2 ok (200 or 304), 0 refused, 0 dropped, 1 other; \
                   0 stalled, 0 corrupted; bytes sent: 19 app, 1024 course, 10 other";
    assert_eq!(log.last().map(String::as_str), Some(summary), "{log:?}");
}

#[test]
fn a_stalled_request_keeps_its_place_until_the_client_gives_up() {
    let dir = TempDir::new().unwrap();
    site(dir.path());
    let server = start_with(dir.path(), &["--max-concurrent", "1", "--stall-after", "10"]);
    let (chunk, _) = first_chunk(dir.path());
    let stalled = server.send(&chunk);
    wait_for_received(&server, 1);
    assert_eq!(server.get(&chunk).status, 503, "the stalled request is still in flight");
    drop(stalled);
    let freed = (0..100).any(|_| {
        std::thread::sleep(std::time::Duration::from_millis(20));
        server.get_for(&chunk, std::time::Duration::from_millis(300)).0.starts_with(b"HTTP/1.1 200")
    });
    assert!(freed, "once the client hangs up, its place is free again: {}", server.stats());
}

// The whole origin under the faults: an overloaded school server fails the app shell too.

/// The statuses of a page, the app's module, the worker's script and a course chunk while one request
/// holds the only place (`--max-concurrent 1`, held by `--latency`), with `extra` flags.
fn statuses_while_one_is_held(extra: &[&str]) -> Vec<u16> {
    let dir = TempDir::new().unwrap();
    site(dir.path());
    let server = start_with(dir.path(), &[&["--max-concurrent", "1", "--latency", "1500"], extra].concat());
    let (chunk, _) = first_chunk(dir.path());
    let _held = server.send(&chunk);
    wait_for_received(&server, 1);
    ["/", "/pkg/cartable.js", "/sw.js", &chunk].iter().map(|path| server.get(path).status).collect()
}

#[test]
fn beyond_capacity_the_app_shell_is_refused_like_the_courses() {
    assert_eq!(statuses_while_one_is_held(&[]), [503, 503, 503, 503]);
}

#[test]
fn spare_app_keeps_the_app_shell_out_of_the_faults() {
    assert_eq!(statuses_while_one_is_held(&["--spare-app"]), [200, 200, 200, 503]);
}

/// The answers to `requests` (path, headers) while one request holds the only place, with `extra` flags.
fn refused_while_one_is_held(extra: &[&str], requests: &[(&str, &[(&str, &str)])]) -> Vec<support::Reply> {
    let dir = TempDir::new().unwrap();
    site(dir.path());
    let server = start_with(dir.path(), &[&["--max-concurrent", "1", "--latency", "3000"], extra].concat());
    let (chunk, _) = first_chunk(dir.path());
    let _held = server.send(&chunk);
    wait_for_received(&server, 1);
    requests.iter().map(|(path, headers)| server.request_with("GET", path, headers)).collect()
}

/// The `N` of a refused page's `<meta http-equiv="refresh" content="N">`, checking the rest of the page.
#[track_caller]
fn refresh_of(page: &support::Reply) -> u64 {
    assert_eq!(page.header("content-type"), Some("text/html; charset=utf-8"));
    let text = page.text();
    let seconds: u64 = page.header("retry-after").expect("a Retry-After").parse().unwrap();
    assert!(text.contains(&format!(r#"<meta http-equiv="refresh" content="{seconds}">"#)), "{text}");
    assert!(
        text.contains(r#"<html lang="fr">"#) && text.contains("<title>") && text.contains("<meta charset=\"utf-8\">")
    );
    assert!(
        text.contains(&format!("<p>Le serveur de l'école est saturé. Nouvel essai dans {seconds} s…</p>")),
        "{text}"
    );
    assert!(text.contains(&format!(r#"<p lang="en">The school's server is busy. Trying again in {seconds} s…</p>"#)));
    assert!(!text.contains("<script") && !text.contains("style="), "{text}");
    seconds
}

#[test]
fn a_refused_page_load_gets_a_page_that_reloads_itself() {
    let navigate: &[(&str, &str)] = &[("Sec-Fetch-Mode", "navigate")];
    let html: &[(&str, &str)] = &[("Accept", "text/html,application/xhtml+xml,*/*;q=0.8")];
    let script: &[(&str, &str)] = &[("Sec-Fetch-Mode", "cors"), ("Accept", "*/*")];
    let requests = [("/", navigate), ("/embed.html", html), ("/", navigate), ("/pkg/cartable.js", script)];
    let replies = refused_while_one_is_held(&["--retry-after", "3"], &requests);
    for page in &replies[..3] {
        assert_eq!(page.status, 503);
        let seconds = refresh_of(page);
        assert!((3..=6).contains(&seconds), "Retry-After plus up to as much again: {seconds}");
    }
    let plain = &replies[3];
    assert_eq!((plain.status, plain.header("content-type")), (503, Some("text/plain; charset=utf-8")));
    assert_eq!(plain.header("access-control-allow-origin"), Some("*"));
    assert_eq!(plain.header("retry-after"), Some("3"));
}

#[test]
fn a_refused_page_load_waits_2_s_or_more_without_retry_after() {
    let navigate: &[(&str, &str)] = &[("Sec-Fetch-Mode", "navigate")];
    let replies = refused_while_one_is_held(&["--refuse-with", "429"], &[("/index.html", navigate)]);
    assert_eq!(replies[0].status, 429);
    let seconds = refresh_of(&replies[0]);
    assert!((2..=4).contains(&seconds), "{seconds}");
}

// Each byte of the app shell crosses the network once: precompressed copies, ETags and 304s.

/// The app's module of the fixture, made larger so that it compresses, with its brotli and gzip copies in
/// `pkg/ipfs/`, named by its CID as the build step names them.
fn module_with_copies(dir: &Path) -> (Vec<u8>, Cid) {
    let module = "export default function init() { return 'cartable'; }\n".repeat(200).into_bytes();
    write(dir, "pkg/cartable.js", &module);
    let cid = Cid::of(&module);
    write(dir, &format!("pkg/ipfs/{cid}.br"), compress::brotli(&module));
    write(dir, &format!("pkg/ipfs/{cid}.gz"), compress::gzip(&module));
    (module, cid)
}

/// The body of `reply` decoded as its `Content-Encoding` says.
#[track_caller]
fn decoded(reply: &support::Reply) -> Vec<u8> {
    use std::io::Read as _;
    assert_eq!(reply.header("content-length"), Some(reply.body.len().to_string().as_str()));
    let mut bytes = Vec::new();
    match reply.header("content-encoding") {
        None => bytes = reply.body.clone(),
        Some("gzip") => drop(flate2::read::GzDecoder::new(&reply.body[..]).read_to_end(&mut bytes).unwrap()),
        Some("br") => drop(brotli::Decompressor::new(&reply.body[..], 4096).read_to_end(&mut bytes).unwrap()),
        Some(other) => panic!("unexpected Content-Encoding {other}"),
    }
    bytes
}

#[test]
fn app_files_go_out_as_the_copy_the_request_accepts() {
    let dir = TempDir::new().unwrap();
    site(dir.path());
    let (module, cid) = module_with_copies(dir.path());
    let server = start_with(dir.path(), &[]);
    let get = |accept: &str| server.request_with("GET", "/pkg/cartable.js", &[("Accept-Encoding", accept)]);
    for (accept, encoding, etag) in [
        ("gzip, deflate, br, zstd", Some("br"), format!("\"{cid}.br\"")),
        ("gzip, br;q=0", Some("gzip"), format!("\"{cid}.gz\"")),
        ("identity", None, format!("\"{cid}\"")),
    ] {
        let reply = get(accept);
        assert_eq!((reply.status, reply.header("content-encoding")), (200, encoding), "{accept}");
        assert_eq!(reply.header("etag"), Some(etag.as_str()), "{accept}");
        assert_eq!(reply.header("vary"), Some("Accept-Encoding"));
        assert_eq!(reply.header("cache-control"), Some("no-cache"));
        assert_eq!(decoded(&reply), module, "{accept}");
    }
    let plain = server.get("/pkg/cartable.js");
    assert_eq!((plain.header("content-encoding"), plain.body.clone()), (None, module.clone()), "no Accept-Encoding");
    assert!(get("br").body.len() < module.len() / 10);

    // A missing copy: the next one the request accepts, or the bytes as they are.
    std::fs::remove_file(dir.path().join(format!("pkg/ipfs/{cid}.br"))).unwrap();
    assert_eq!(get("br, gzip").header("content-encoding"), Some("gzip"));
    assert_eq!(get("br").header("content-encoding"), None);
    let without = server.get("/style.css");
    assert_eq!((without.header("vary"), without.header("content-encoding")), (None, None), "no copy, no Vary");
}

#[test]
fn a_request_holding_the_etag_gets_304_without_a_body() {
    let dir = TempDir::new().unwrap();
    site(dir.path());
    let (_, cid) = module_with_copies(dir.path());
    let server = start_with(dir.path(), &[]);
    let first = server.request_with("GET", "/pkg/cartable.js", &[("Accept-Encoding", "gzip")]);
    let etag = first.header("etag").unwrap().to_owned();
    assert_eq!(etag, format!("\"{cid}.gz\""));
    for method in ["GET", "HEAD"] {
        let again =
            server.request_with(method, "/pkg/cartable.js", &[("Accept-Encoding", "gzip"), ("If-None-Match", &etag)]);
        assert_eq!((again.status, again.body.len()), (304, 0), "{method}");
        assert_eq!(again.header("etag"), Some(etag.as_str()));
        assert_eq!(again.header("cache-control"), Some("no-cache"));
    }
    let listed = format!("\"other\", W/{etag}");
    let weak =
        server.request_with("GET", "/pkg/cartable.js", &[("Accept-Encoding", "gzip"), ("If-None-Match", &listed)]);
    assert_eq!(weak.status, 304, "If-None-Match compares weakly, in a list");
    let other = server.request_with("GET", "/pkg/cartable.js", &[("Accept-Encoding", "br"), ("If-None-Match", &etag)]);
    assert_eq!((other.status, other.header("content-encoding")), (200, Some("br")), "another representation");
    let star = server.request_with("GET", "/sw.js", &[("If-None-Match", "*")]);
    assert_eq!(star.status, 304);

    // A file rewritten while the server runs is hashed again: its ETag changes.
    write(dir.path(), "pkg/cartable.js", "export default function init() { return 2; }\n");
    let rewritten =
        server.request_with("GET", "/pkg/cartable.js", &[("Accept-Encoding", "gzip"), ("If-None-Match", &etag)]);
    assert_eq!(rewritten.status, 200);
    let expected = format!("\"{}\"", Cid::of(b"export default function init() { return 2; }\n"));
    assert_eq!(rewritten.header("etag"), Some(expected.as_str()));
    let log = logged(dir.path());
    assert!(log.contains(&"GET /pkg/cartable.js 304 0".to_owned()), "{log:?}");
}

#[test]
fn the_filled_pages_are_compressed_once_and_revalidated() {
    let dir = TempDir::new().unwrap();
    site(dir.path());
    let server = start_with(dir.path(), &[]);
    let page = server.get("/");
    let cid = Cid::of(&page.body);
    assert_eq!(page.header("etag"), Some(format!("\"{cid}\"").as_str()));
    assert!(page.header("content-security-policy").is_some());
    for (accept, suffix) in [("br", "br"), ("gzip", "gz")] {
        let reply = server.request_with("GET", "/", &[("Accept-Encoding", accept)]);
        assert_eq!(reply.header("content-encoding"), Some(accept));
        assert_eq!(reply.header("etag"), Some(format!("\"{cid}.{suffix}\"").as_str()));
        assert_eq!(decoded(&reply), page.body, "the same page, with the course filled in");
        let again = server.request_with(
            "GET",
            "/index.html",
            &[("Accept-Encoding", accept), ("If-None-Match", reply.header("etag").unwrap())],
        );
        assert_eq!((again.status, again.body.len()), (304, 0));
    }
}

#[test]
fn app_shell_chunks_are_immutable_cors_and_compressed() {
    let dir = TempDir::new().unwrap();
    site(dir.path());
    let chunk: Vec<u8> = "(module (func $cartable))\n".repeat(100).into_bytes();
    let cid = Cid::of(&chunk);
    write(dir.path(), &format!("pkg/ipfs/{cid}"), &chunk);
    write(dir.path(), &format!("pkg/ipfs/{cid}.gz"), compress::gzip(&chunk));
    let server = start_with(dir.path(), &[]);
    let path = format!("/pkg/ipfs/{cid}");
    for accept in ["", "gzip, deflate, br"] {
        let reply = server.request_with("GET", &path, &[("Accept-Encoding", accept)]);
        assert_eq!(reply.status, 200);
        assert_eq!(reply.header("cache-control"), Some("public, max-age=31536000, immutable"));
        assert_eq!(reply.header("access-control-allow-origin"), Some("*"));
        assert!(reply.header("access-control-expose-headers").unwrap().contains("Retry-After"));
        assert!(cid.matches(&decoded(&reply)), "{accept:?}");
    }
    let held = server.request_with("GET", &path, &[("If-None-Match", &format!("\"{cid}\""))]);
    assert_eq!((held.status, held.header("access-control-allow-origin")), (304, Some("*")));
    assert_eq!(server.get(&format!("/pkg/ipfs/{}", Cid::of(b"absent"))).status, 404);
}

#[test]
fn an_app_shell_chunk_can_be_corrupted_and_goes_out_uncompressed() {
    let dir = TempDir::new().unwrap();
    site(dir.path());
    let chunk: Vec<u8> = "(module (func $cartable))\n".repeat(100).into_bytes();
    let cid = Cid::of(&chunk);
    write(dir.path(), &format!("pkg/ipfs/{cid}"), &chunk);
    write(dir.path(), &format!("pkg/ipfs/{cid}.br"), compress::brotli(&chunk));
    let server = start_with(dir.path(), &["--corrupt", &cid.to_string()]);
    let reply = server.request_with("GET", &format!("/pkg/ipfs/{cid}"), &[("Accept-Encoding", "br")]);
    assert_eq!((reply.status, reply.header("content-encoding")), (200, None));
    assert_eq!(reply.body.len(), chunk.len());
    assert!(!cid.matches(&reply.body));
    assert_eq!(server.stats()["corrupted"], 1);

    // Sparing the app, the fault would never show: refused at start.
    let cid = cid.to_string();
    let args = [&["serve", "--port", "0", "--spare-app", "--corrupt", &cid], SITE_ARGS].concat();
    let error = fails(&run(dir.path(), &args));
    assert!(error.contains("no served course has this chunk, nor the app under --spare-app"), "{error}");
}

#[test]
fn stats_count_the_bytes_sent_compressed_by_part() {
    let dir = TempDir::new().unwrap();
    site(dir.path());
    module_with_copies(dir.path());
    let server = start_with(dir.path(), &[]);
    let (chunk, _) = first_chunk(dir.path());
    let app: usize = ["br", "gzip", ""]
        .iter()
        .map(|accept| server.request_with("GET", "/pkg/cartable.js", &[("Accept-Encoding", accept)]).body.len())
        .sum();
    let etag = server.get("/sw.js").header("etag").unwrap().to_owned();
    let sw = std::fs::metadata(dir.path().join("www/sw.js")).unwrap().len() as usize;
    assert_eq!(server.request_with("GET", "/sw.js", &[("If-None-Match", &etag)]).status, 304, "no bytes");
    let course = server.get(&chunk).body.len() + server.get("/courses/essai/manifest.json").body.len();
    assert_eq!(server.get("/missing.js").status, 404);
    let bytes = &server.stats()["bytes"];
    assert_eq!(bytes["app"].as_u64(), Some((app + sw) as u64));
    assert_eq!(bytes["course"].as_u64(), Some(course as u64));
    assert_eq!(bytes["other"].as_u64(), Some(10), "the 404's \"not found\\n\"");
}
