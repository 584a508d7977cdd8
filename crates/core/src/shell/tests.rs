use super::*;

/// A file of the app: its path and bytes.
type File = (String, Vec<u8>);

fn file(path: &str, len: usize, fill: u8) -> File {
    (path.to_owned(), vec![fill; len])
}

fn sample() -> (Vec<File>, Vec<File>, File) {
    let files = vec![
        file("style.css", 300, b'c'),
        file("pkg/cartable.js", 5000, b'j'),
        // Over one chunk: cut in two, the second short.
        file("pkg/cartable_bg.wasm", CHUNK_SIZE as usize + 10, b'w'),
    ];
    let parts = vec![file("pkg/split_exercises.wasm", 700, b'e')];
    (files, parts, file("pkg/cartable_sw_bg.wasm", 2000, b's'))
}

fn pages() -> Vec<String> {
    vec!["index.html".into(), "embed.html".into()]
}

#[test]
fn packs_files_into_chunks_and_reads_back_what_it_wrote() {
    let (files, parts, worker) = sample();
    let (shell, chunks) = Shell::pack(&files, &parts, &worker, &pages(), &[b"sw.js"]);
    assert_eq!(shell.file("pkg/cartable_bg.wasm").map(|f| f.chunks.len()), Some(2));
    assert_eq!(shell.build.len(), 16);
    for (cid, len) in shell.all_chunks() {
        let bytes = chunks.get(&cid).expect("every listed chunk is packed");
        assert_eq!(bytes.len() as u64, len);
        assert!(cid.matches(bytes));
    }
    assert_eq!(shell.all_chunks().len(), chunks.len());
    assert_eq!(shell.kept_chunks().len(), chunks.len() - 1, "the worker's wasm is the worker script's");
    assert_eq!(shell.chunks().len(), chunks.len() - 2, "the install leaves the parts for when they are asked");
    assert!(!shell.kept_chunks().iter().any(|(cid, _)| shell.worker.chunks.contains(cid)));
    let part = shell.part("pkg/split_exercises.wasm").expect("the part is listed");
    assert!(!shell.chunks().iter().any(|(cid, _)| part.chunks.contains(cid)));
    assert!(shell.file("pkg/split_exercises.wasm").is_none(), "a part is not installed with the files");
    assert_eq!(shell.chunks_with_parts(&[]), shell.chunks());
    assert_eq!(shell.chunks_with_parts(&["pkg/split_exercises.wasm".into()]), shell.kept_chunks(), "a used part too");
    assert_eq!(shell.bytes(), 300 + 5000 + u64::from(CHUNK_SIZE) + 10 + 700 + 2000);
    assert_eq!(Shell::read(&shell.to_json()).as_ref(), Some(&shell));
    assert_eq!(Shell::from_json(&shell.to_json()), Ok(shell));
}

#[test]
fn the_build_id_follows_every_byte_of_the_app() {
    let (files, parts, worker) = sample();
    let build = |files: &[File], also: &[&[u8]]| Shell::pack(files, &parts, &worker, &pages(), also).0.build;
    let base = build(&files, &[b"sw.js"]);
    assert_eq!(base, build(&files, &[b"sw.js"]), "the same app, the same id");
    assert_ne!(base, build(&files, &[b"sw.js 2"]), "the worker script changed");
    assert_ne!(base, build(&files, &[b"sw", b".js"]), "bytes moved from one input to the next");
    let mut changed = files.clone();
    changed[0].1[0] = b'd';
    assert_ne!(base, build(&changed, &[b"sw.js"]), "a shell file changed");
}

#[test]
fn pages_are_named_and_the_folder_itself_is_index_html() {
    let (files, parts, worker) = sample();
    let (shell, _) = Shell::pack(&files, &parts, &worker, &pages(), &[]);
    assert_eq!(shell.page(""), Some("index.html"));
    assert_eq!(shell.page("index.html"), Some("index.html"));
    assert_eq!(shell.page("embed.html"), Some("embed.html"));
    assert_eq!(shell.page("style.css"), None);
    assert!(shell.file("index.html").is_none(), "pages are not pinned by CID");
}

#[track_caller]
fn refuse(edit: impl FnOnce(&mut serde_json::Value), expected: &str) {
    let (files, parts, worker) = sample();
    let (shell, _) = Shell::pack(&files, &parts, &worker, &pages(), &[]);
    let mut json: serde_json::Value = serde_json::from_slice(&shell.to_json()).expect("json");
    edit(&mut json);
    assert_eq!(Shell::read(json.to_string().as_bytes()), None);
    let error = Shell::from_json(json.to_string().as_bytes()).expect_err("refused").to_string();
    assert!(error.contains(expected), "`{error}` should mention `{expected}`");
}

#[test]
fn refuses_lists_it_cannot_trust_to_be_whole() {
    refuse(|json| json["format"] = 1.into(), "format 1");
    refuse(|json| json["files"][0]["path"] = "../etc/passwd".into(), "not a path inside");
    refuse(|json| json["files"][0]["path"] = "/style.css".into(), "not a path inside");
    refuse(|json| json["pages"][1] = "index.html".into(), "listed twice");
    refuse(|json| json["files"][0]["size"] = 5_000_000.into(), "chunks for");
    refuse(|json| json["parts"][0]["path"] = "../split.wasm".into(), "not a path inside");
    refuse(|json| json["parts"][0]["path"] = "style.css".into(), "listed twice");
    refuse(|json| json["parts"][0]["size"] = 5_000_000.into(), "chunks for");
    refuse(|json| json["chunk_size"] = 0.into(), "chunk size 0");
    refuse(|json| json["build"] = "a b".into(), "build id");
    refuse(|json| json["extra"] = 1.into(), "malformed");
    assert!(matches!(Shell::from_json(b"not json"), Err(ShellError::Malformed(_))));
}
