//! Tidy tests over the browser edges. The service worker's script (`www/sw.js`) sends the outbox with a
//! few lines of JavaScript, against the records the app's Rust writes (`src/outbox/idb.rs`,
//! `src/outbox.rs`, `crates/core/src/submission/outbox.rs`): the same database, version, stores, record
//! fields, refusals for good and sync tag. And the worker's wasm is built from the core and the browser
//! edge only, never from the app.

use std::path::Path;

fn read(path: &str) -> String {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    std::fs::read_to_string(root.join(path)).unwrap_or_else(|error| panic!("{path}: {error}"))
}

/// The string or number a Rust `const NAME: type = value;` line of `source` gives, without quotes.
fn constant(source: &str, name: &str) -> String {
    let line = source
        .lines()
        .find(|line| line.contains(&format!("const {name}:")))
        .unwrap_or_else(|| panic!("no const {name}"));
    let value = line.split('=').nth(1).unwrap_or_default();
    value.trim().trim_end_matches(';').trim_matches('"').to_owned()
}

#[test]
fn the_worker_sends_the_outbox_the_app_keeps() {
    let (idb, outbox, worker) = (read("src/outbox/idb.rs"), read("src/outbox.rs"), read("www/sw.js"));
    let core = read("crates/core/src/submission/outbox.rs");
    let database = constant(&idb, "OUTBOX_DATABASE");
    let version = constant(&idb, "VERSION");
    let expected = [
        format!("indexedDB.open('{database}', {version})"),
        format!("store('{}'", constant(&idb, "OUTBOX")),
        format!("store('{}'", constant(&idb, "RECEIPTS")),
        format!("store('{}'", constant(&idb, "REFUSALS")),
        format!("{}.includes(answer.status)", constant(&core, "REFUSED_FOR_GOOD")),
        format!("event.tag == '{}'", constant(&outbox, "SYNC_TAG")),
    ];
    for needle in &expected {
        assert!(worker.contains(needle.as_str()), "www/sw.js must use `{needle}`, as the app's Rust does");
    }
    // The outbox record's fields, as put_submission writes them and sendOutbox reads them.
    for field in ["key", "url", "body"] {
        assert!(idb.contains(&format!("(\"{field}\", {field}.into())")), "the app writes `{field}`");
    }
    assert!(worker.contains("{ key, url, body }"), "www/sw.js reads `{{ key, url, body }}` from each record");
    // A refusal's fields, as put_refusal writes them, sendOutbox writes them and reload reads them.
    assert!(idb.contains("(\"key\", key.into()), (\"reason\", reason.into())"), "the app writes `{{key, reason}}`");
    assert!(worker.contains("put({ key, reason }, key)"), "www/sw.js writes `{{ key, reason }}` by key");
}

/// The names of the `[dependencies]` of the manifest `source`.
fn dependencies(source: &str) -> Vec<String> {
    let section = source.split("\n[dependencies]\n").nth(1).unwrap_or_default();
    let section = section.split("\n[").next().unwrap_or_default();
    let names = section
        .lines()
        .filter_map(|line| line.split_once('='))
        .map(|(name, _)| name.split('.').next().unwrap_or_default().trim());
    names.filter(|name| !name.is_empty() && !name.contains(' ')).map(str::to_owned).collect()
}

#[test]
fn the_worker_is_built_from_the_core_and_the_browser_edge_only() {
    let worker = dependencies(&read("crates/sw/Cargo.toml"));
    assert!(worker.contains(&"cartable-core".to_owned()) && worker.contains(&"cartable-web".to_owned()), "{worker:?}");
    for app_only in ["cartable", "yew", "gloo-events"] {
        assert!(!worker.iter().any(|name| name == app_only), "crates/sw must not depend on {app_only}: {worker:?}");
    }
    let web = dependencies(&read("crates/web/Cargo.toml"));
    assert!(!web.iter().any(|name| name == "cartable" || name == "yew"), "crates/web is under the app: {web:?}");
}
