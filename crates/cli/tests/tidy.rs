//! Tidy test: the edges written in two languages agree. The service worker's script (`www/sw.js`) sends
//! the outbox with a few lines of JavaScript, against the records the app's Rust writes
//! (`src/outbox/idb.rs`, `src/outbox.rs`): the same database, version, stores, record fields and sync tag.

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
    let database = constant(&idb, "OUTBOX_DATABASE");
    let version = constant(&idb, "VERSION");
    let expected = [
        format!("indexedDB.open('{database}', {version})"),
        format!("store('{}'", constant(&idb, "OUTBOX")),
        format!("store('{}'", constant(&idb, "RECEIPTS")),
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
}
