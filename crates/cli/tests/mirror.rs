//! Integration tests of `cartable mirror`, run on the real binary.
// Guards mirrors: `cartable mirror` and the `ipfs/<cid>?format=raw` chunk URL.

mod support;

use std::path::Path;

use cartable_core::Cid;
use support::{app, chunk_names, fails, ok, packed, run, write};
use tempfile::TempDir;

/// Every file under `dir`, as sorted relative paths.
fn tree(dir: &Path) -> Vec<String> {
    let mut names = vec![];
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        match path.is_dir() {
            true => names.extend(tree(&path).into_iter().map(|inner| format!("{name}/{inner}"))),
            false => names.push(name),
        }
    }
    names.sort();
    names
}

/// Hidden entries of `dir`: a staging folder left behind would be one.
fn leftovers(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|entry| entry.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|name| name.starts_with('.'))
        .collect();
    names.sort();
    names
}

#[test]
fn mirror_copies_the_manifest_byte_for_byte_and_every_chunk() {
    let dir = TempDir::new().unwrap();
    let out = packed(dir.path());
    let printed = ok(&run(dir.path(), &["mirror", "out", "--out", "mirror", "--pubkey", "school.pub", "--no-app"]));
    let mirror = dir.path().join("mirror");
    assert_eq!(std::fs::read(mirror.join("manifest.json")).unwrap(), std::fs::read(out.join("manifest.json")).unwrap());
    let chunks = chunk_names(&out);
    assert_eq!(chunk_names(&mirror), chunks);
    for name in &chunks {
        let bytes = std::fs::read(mirror.join("ipfs").join(name)).unwrap();
        assert!(name.parse::<Cid>().unwrap().matches(&bytes), "{name}");
    }
    let mut expected: Vec<String> = chunks.iter().map(|name| format!("ipfs/{name}")).collect();
    expected.push("manifest.json".into());
    assert_eq!(tree(&mirror), expected, "nothing but the manifest and the chunks");
    let bytes: u64 = expected.iter().map(|name| std::fs::metadata(mirror.join(name)).unwrap().len()).sum();
    let files = format!("manifest.json + {} chunks in ipfs/, {} files, {bytes} bytes", chunks.len(), chunks.len() + 1);
    assert!(printed.contains(&files), "{printed}");
    assert!(printed.contains("Access-Control-Allow-Origin: *") && printed.contains("\"mirrors\""), "{printed}");
    assert!(leftovers(dir.path()).is_empty(), "{:?}", leftovers(dir.path()));
}

#[test]
fn mirror_without_a_pubkey_checks_the_signature_is_intact() {
    let dir = TempDir::new().unwrap();
    packed(dir.path());
    ok(&run(dir.path(), &["mirror", "out", "--out", "mirror", "--no-app"]));
    let manifest = dir.path().join("out/manifest.json");
    let text = std::fs::read_to_string(&manifest).unwrap().replace("Cours d'essai", "Cours modifié");
    std::fs::write(&manifest, text).unwrap();
    let error = fails(&run(dir.path(), &["mirror", "out", "--out", "other", "--no-app"]));
    assert!(error.contains("out/manifest.json: manifest signature does not match its content"), "{error}");
    assert!(!dir.path().join("other").exists());
}

#[test]
fn mirror_refuses_a_key_that_did_not_sign() {
    let dir = TempDir::new().unwrap();
    packed(dir.path());
    ok(&run(dir.path(), &["keygen", "other"]));
    let error = fails(&run(dir.path(), &["mirror", "out", "--out", "mirror", "--pubkey", "other.pub", "--no-app"]));
    assert!(error.contains("not a key this school trusts"), "{error}");
    assert!(!dir.path().join("mirror").exists());
}

#[test]
fn mirror_names_a_corrupt_chunk_and_leaves_nothing_behind() {
    let dir = TempDir::new().unwrap();
    let out = packed(dir.path());
    let name = chunk_names(&out).pop().unwrap();
    let file = out.join("ipfs").join(&name);
    let mut bytes = std::fs::read(&file).unwrap();
    bytes[0] ^= 1;
    std::fs::write(&file, bytes).unwrap();
    let error = fails(&run(dir.path(), &["mirror", "out", "--out", "mirror", "--no-app"]));
    assert!(error.contains(&format!("out/ipfs/{name}: corrupted (does not match its CID), part of ")), "{error}");
    assert!(!dir.path().join("mirror").exists());
    assert!(leftovers(dir.path()).is_empty(), "{:?}", leftovers(dir.path()));
}

#[test]
fn mirror_names_a_missing_chunk_and_keeps_the_old_mirror() {
    let dir = TempDir::new().unwrap();
    let out = packed(dir.path());
    ok(&run(dir.path(), &["mirror", "out", "--out", "mirror", "--no-app"]));
    let before = tree(&dir.path().join("mirror"));
    let name = chunk_names(&out).remove(0);
    std::fs::remove_file(out.join("ipfs").join(&name)).unwrap();
    let error = fails(&run(dir.path(), &["mirror", "out", "--out", "mirror", "--force", "--no-app"]));
    assert!(error.contains(&format!("out/ipfs/{name}: missing, part of ")), "{error}");
    assert_eq!(tree(&dir.path().join("mirror")), before, "a failed export leaves the old mirror as it was");
    assert!(leftovers(dir.path()).is_empty(), "{:?}", leftovers(dir.path()));
}

#[test]
fn mirror_refuses_a_non_empty_out_unless_forced() {
    let dir = TempDir::new().unwrap();
    packed(dir.path());
    write(dir.path(), "mirror/stale.txt", "from before\n");
    let error = fails(&run(dir.path(), &["mirror", "out", "--out", "mirror", "--no-app"]));
    assert!(error.contains("mirror is not empty: pass --force"), "{error}");
    assert!(dir.path().join("mirror/stale.txt").exists());
    ok(&run(dir.path(), &["mirror", "out", "--out", "mirror", "--force", "--no-app"]));
    assert!(!dir.path().join("mirror/stale.txt").exists(), "--force replaces the contents");
    assert!(dir.path().join("mirror/manifest.json").exists());
    std::fs::create_dir(dir.path().join("empty")).unwrap();
    ok(&run(dir.path(), &["mirror", "out", "--out", "empty", "--no-app"]));
    write(dir.path(), "file", "x");
    let error = fails(&run(dir.path(), &["mirror", "out", "--out", "file", "--force", "--no-app"]));
    assert!(error.contains("file is a file"), "{error}");
    assert!(leftovers(dir.path()).is_empty(), "{:?}", leftovers(dir.path()));
}

#[test]
fn mirror_of_a_folder_that_is_not_packed() {
    let dir = TempDir::new().unwrap();
    let error = fails(&run(dir.path(), &["mirror", ".", "--out", "mirror", "--no-app"]));
    assert!(error.contains("manifest.json") && error.contains("cartable pack"), "{error}");
}

#[test]
fn mirror_exports_the_app_beside_the_course_every_chunk_checked() {
    let dir = TempDir::new().unwrap();
    let out = packed(dir.path());
    app(dir.path());
    let printed = ok(&run(dir.path(), &["mirror", "out", "--out", "mirror", "--pkg", "pkg"]));
    let (mirror, pkg) = (dir.path().join("mirror"), dir.path().join("pkg"));
    let json = std::fs::read(pkg.join("shell.json")).unwrap();
    assert_eq!(std::fs::read(mirror.join("shell.json")).unwrap(), json, "the app's list, beside the course's");
    let shell = cartable_core::shell::Shell::from_json(&json).unwrap();
    for (cid, _) in shell.all_chunks() {
        let bytes = std::fs::read(mirror.join("ipfs").join(cid.to_string())).unwrap();
        assert!(cid.matches(&bytes), "{cid}");
    }
    // The wasm compresses: its gzip copy is there for nginx's gzip_static.
    let wasm = &shell.file("pkg/cartable_bg.wasm").unwrap().chunks[0];
    assert!(mirror.join("ipfs").join(format!("{wasm}.gz")).is_file());
    for name in chunk_names(&out) {
        assert!(mirror.join("ipfs").join(&name).is_file(), "the course's chunk {name} too");
    }
    assert!(printed.contains(&format!("and the app, build {}", shell.build)), "{printed}");
}

#[test]
fn a_damaged_or_missing_app_stops_the_export_and_says_what_to_do() {
    let dir = TempDir::new().unwrap();
    packed(dir.path());
    let error = fails(&run(dir.path(), &["mirror", "out", "--out", "mirror", "--pkg", "nowhere"]));
    assert!(error.contains("shell.json") && error.contains("--no-app"), "{error}");
    app(dir.path());
    let json = std::fs::read(dir.path().join("pkg/shell.json")).unwrap();
    let shell = cartable_core::shell::Shell::from_json(&json).unwrap();
    let chunk = dir.path().join("pkg/ipfs").join(shell.files[0].chunks[0].to_string());
    let mut bytes = std::fs::read(&chunk).unwrap();
    bytes[0] ^= 1;
    std::fs::write(&chunk, bytes).unwrap();
    let error = fails(&run(dir.path(), &["mirror", "out", "--out", "mirror", "--pkg", "pkg"]));
    assert!(error.contains("does not match its CID") && error.contains("setup.sh"), "{error}");
    assert!(!dir.path().join("mirror").exists(), "nothing is left half written");
}
