use super::*;

fn folder(files: &[(&str, &str)]) -> CourseFolder {
    files.iter().map(|(path, text)| (path.to_string(), text.as_bytes().to_vec())).collect()
}

fn course() -> CourseFolder {
    folder(&[
        ("course.toml", "id = \"physique-3e\"\ntitle = \"L'électricité\"\nclass = \"3e B\"\nsubject = \"Physique-chimie\"\nteacher = \"Mme Lefèvre\"\nlanguage = \"fr\"\nvalid_days = 10\n"),
        ("agenda.toml", "[[homework]]\nsubject = \"Physique\"\ntask = \"Exercices\"\ndue = \"2026-12-03\"\nattachments = [\"docs/fiche.pdf\"]\n"),
        ("lessons/01-tension.md", "# La tension\n\n![Circuit](../images/circuit.svg)\n"),
        ("lessons/02-ohm.md", "# La loi d'Ohm\n\nVoir [la fiche](../docs/fiche.pdf).\n"),
        ("images/circuit.svg", "<svg xmlns=\"http://www.w3.org/2000/svg\"/>"),
        ("docs/fiche.pdf", "%PDF-1.4 0123456789"),
    ])
}

fn options(chunk_size: u32) -> PackOptions {
    PackOptions { chunk_size, version: 3, now: 1_000 }
}

#[track_caller]
fn check_error(folder: &CourseFolder, expected: &str) {
    assert_eq!(pack(folder, &options(DEFAULT_CHUNK_SIZE)).unwrap_err().to_string(), expected);
}

#[test]
fn packs_lessons_agenda_and_files() {
    let folder = course();
    let packed = pack(&folder, &options(DEFAULT_CHUNK_SIZE)).unwrap();
    let manifest = &packed.manifest;
    assert_eq!(manifest.course.id, "physique-3e");
    assert_eq!((manifest.version, manifest.created_at, manifest.expires_at), (3, 1_000, 1_000 + 10 * 86_400));
    let titles: Vec<&str> = manifest.lessons.iter().map(|l| l.title.as_str()).collect();
    assert_eq!(titles, ["La tension", "La loi d'Ohm"]);
    assert_eq!(manifest.agenda[0].attachments, ["docs/fiche.pdf"]);
    let paths: Vec<&str> = manifest.files.iter().map(|f| f.path.as_str()).collect();
    let expected = [
        "docs/fiche.pdf",
        "images/circuit.svg",
        "lessons/01-tension.md",
        "lessons/01-tension.md.json",
        "lessons/02-ohm.md",
        "lessons/02-ohm.md.json",
    ];
    assert_eq!(paths, expected);
    assert_eq!(manifest.file("images/circuit.svg").unwrap().media_type, "image/svg+xml");
    assert_eq!(packed.chunks.len(), 6);
    assert_eq!(manifest.peers, crate::manifest::PeerPolicy::default(), "classmates share unless told otherwise");
}

#[test]
fn carries_the_schools_peer_policy_into_the_signed_manifest() {
    let mut folder = course();
    let toml = folder.get_mut("course.toml").unwrap();
    toml.extend_from_slice(
        b"\n[peers]\nsharing = false\nrelay_only = true\n\n[[peers.ice]]\nurls = [\"turns:turn.example.fr:5349\"]\n\
        username = \"cartable\"\ncredential = \"s3cret\"\n",
    );
    let manifest = pack(&folder, &options(DEFAULT_CHUNK_SIZE)).unwrap().manifest;
    let (policy, key) = (manifest.peers.clone(), crate::SecretKey::from_seed([7; 32]));
    assert!(!policy.sharing && policy.relay_only);
    assert_eq!(policy.ice[0].urls, ["turns:turn.example.fr:5349"]);
    let json = serde_json::to_vec(&manifest.sign(&key)).unwrap();
    let trust = crate::Trust { keys: &[key.public()], now: 1_000, accepted_version: None };
    assert_eq!(crate::SignedManifest::verify(&json, &trust).unwrap().peers, policy);

    let mut lonely = course();
    lonely.get_mut("course.toml").unwrap().extend_from_slice(b"[peers]\nrelay_only = true\n");
    check_error(
        &lonely,
        "course.toml:9: relay_only needs a TURN server: add a [[peers.ice]] table with a turn: or turns: URL",
    );
}

#[test]
fn each_lesson_is_published_as_its_safe_tree() {
    let folder = course();
    let packed = pack(&folder, &options(8)).unwrap();
    let lesson = &packed.manifest.lessons[0];
    assert_eq!((lesson.source.as_str(), lesson.body.as_str()), ("lessons/01-tension.md", "lessons/01-tension.md.json"));
    let body = packed.manifest.file(&lesson.body).unwrap();
    assert_eq!(body.media_type, "application/json");
    let json: Vec<u8> = body.chunks.iter().flat_map(|cid| packed.chunks[cid].to_vec()).collect();
    let source = std::str::from_utf8(&folder["lessons/01-tension.md"]).unwrap();
    assert_eq!(markdown::from_json(&json).unwrap(), markdown::parse(&lesson.source, source).nodes);
}

#[test]
fn a_file_cannot_take_the_name_of_a_published_tree() {
    let mut folder = course();
    folder.insert("lessons/02-ohm.md.json".into(), b"{}".to_vec());
    check_error(
        &folder,
        "lessons/02-ohm.md.json: this name is kept for the published form of lessons/02-ohm.md: rename the file",
    );
}

#[test]
fn splits_files_into_verifiable_chunks() {
    let folder = course();
    let packed = pack(&folder, &options(8)).unwrap();
    let pdf = packed.manifest.file("docs/fiche.pdf").unwrap();
    assert_eq!(pdf.chunks.len(), 3);
    let rebuilt: Vec<u8> = pdf.chunks.iter().flat_map(|cid| packed.chunks[cid].to_vec()).collect();
    assert_eq!(rebuilt, folder["docs/fiche.pdf"]);
    for (cid, bytes) in &packed.chunks {
        assert!(cid.matches(bytes));
        assert!(bytes.len() <= 8);
    }
}

#[test]
fn identical_chunks_are_stored_once() {
    let mut folder = course();
    folder.insert("images/copie.svg".into(), folder["images/circuit.svg"].clone());
    let packed = pack(&folder, &options(DEFAULT_CHUNK_SIZE)).unwrap();
    assert_eq!(packed.manifest.files.len(), 7);
    assert_eq!(packed.chunks.len(), 6);
}

#[test]
fn repacking_an_unchanged_file_gives_the_same_chunks() {
    let before = course();
    let mut after = course();
    after.insert("lessons/02-ohm.md".into(), b"# La loi d'Ohm\n\nU = R x I\n".to_vec());
    let (before, after) = (pack(&before, &options(8)).unwrap(), pack(&after, &options(8)).unwrap());
    let same = |path: &str| before.manifest.file(path).unwrap().chunks == after.manifest.file(path).unwrap().chunks;
    assert!(same("docs/fiche.pdf") && same("lessons/01-tension.md"));
    assert!(!same("lessons/02-ohm.md"));
}

#[test]
fn names_the_file_and_line_of_each_mistake() {
    let mut missing = course();
    missing.remove("course.toml");
    check_error(&missing, "course.toml: not found: a course folder needs a course.toml with id, title, class, subject, teacher and language");

    let mut dangling = course();
    dangling.remove("images/circuit.svg");
    check_error(&dangling, "lessons/01-tension.md:3: `../images/circuit.svg` points to `images/circuit.svg`, which is not in the course folder");

    let mut script = course();
    script.insert("lessons/03.md".into(), b"# Trois\n\n[clic](javascript:alert(1))\n".to_vec());
    check_error(
        &script,
        "lessons/03.md:3: link `javascript:alert(1)` is not allowed: link to a course file or an http(s) address",
    );

    for into_app in [
        "https://college.example/cartable-files/physique/docs/page.html",
        "http://127.0.0.1:8080/pkg/cartable_bg.wasm",
        "https://college.example/cours/%2Fsw.js",
        "HTTPS://college.example/SW.JS?x=1",
    ] {
        let mut app = course();
        app.insert("lessons/03.md".into(), format!("# Trois\n\n[page]({into_app})\n").into_bytes());
        check_error(
            &app,
            &format!(
                "lessons/03.md:3: link `{into_app}` points into the app's own files: link to the course file by its \
                 path in the course folder"
            ),
        );
    }
    let mut elsewhere = course();
    elsewhere.insert(
        "lessons/03.md".into(),
        b"# Trois\n\n[Go](https://pkg.go.dev/pkg/fmt) [sw](https://x.example/sw.json)\n".to_vec(),
    );
    let alike = pack(&elsewhere, &options(DEFAULT_CHUNK_SIZE));
    assert!(alike.is_ok(), "addresses elsewhere that only look alike are links like any other");

    let mut tracking = course();
    tracking.insert("lessons/03.md".into(), b"# Trois\n![x](https://pixel.example/p.png)\n".to_vec());
    check_error(&tracking, "lessons/03.md:2: image `https://pixel.example/p.png` must be a file of the course folder");

    let mut untitled = course();
    untitled.insert("lessons/03.md".into(), b"Pas de titre\n".to_vec());
    check_error(&untitled, "lessons/03.md: has no title: start the lesson with a `# Title` line");

    let mut latin1 = course();
    latin1.insert("lessons/03.md".into(), b"# Trois\n\n\xe9t\xe9\n".to_vec());
    check_error(&latin1, "lessons/03.md:3: is not UTF-8 text: save it as UTF-8");

    let mut attachment = course();
    attachment.remove("docs/fiche.pdf");
    attachment.remove("lessons/02-ohm.md");
    check_error(&attachment, "agenda.toml:5: attachment `docs/fiche.pdf` is not in the course folder");

    let mut no_lessons = course();
    no_lessons.retain(|path, _| !path.starts_with("lessons/"));
    check_error(&no_lessons, "lessons/: no lesson found: add Markdown files such as lessons/01-introduction.md");
}

#[test]
fn refuses_out_of_range_chunk_sizes() {
    let folder = course();
    assert!(pack(&folder, &options(0)).is_err());
    assert!(pack(&folder, &options(MAX_CHUNK_SIZE + 1)).is_err());
    assert!(pack(&folder, &options(MAX_CHUNK_SIZE)).is_ok());
}

const EXERCISE: &str = "[[question]]\nid = \"unite\"\ntype = \"single_choice\"\nprompt = \"Unité ?\"\n\
    choices = [\"volt\", \"ampère\"]\ncorrect = 1\n";

#[test]
fn publishes_a_lessons_exercise_and_points_the_lesson_to_it() {
    let mut folder = course();
    folder.insert("lessons/01-tension.exercises.toml".into(), EXERCISE.as_bytes().to_vec());
    let packed = pack(&folder, &options(DEFAULT_CHUNK_SIZE)).unwrap();
    let lessons = &packed.manifest.lessons;
    assert_eq!(lessons[0].exercises.as_deref(), Some("lessons/01-tension.exercises.json"));
    assert_eq!(lessons[1].exercises, None);
    let entry = packed.manifest.file("lessons/01-tension.exercises.json").unwrap();
    let json: Vec<u8> = entry.chunks.iter().flat_map(|cid| packed.chunks[cid].iter().copied()).collect();
    let exercise = crate::exercise::from_json(&json).unwrap();
    assert_eq!(
        exercise.questions[0].kind,
        crate::exercise::Kind::SingleChoice { choices: vec!["volt".into(), "ampère".into()], correct: 0 }
    );
}

#[test]
fn names_the_line_of_an_exercise_mistake_and_refuses_orphan_exercises() {
    let mut folder = course();
    folder.insert(
        "lessons/01-tension.exercises.toml".into(),
        EXERCISE.replace("correct = 1", "correct = 3").into_bytes(),
    );
    check_error(&folder, "lessons/01-tension.exercises.toml:6: correct choice 3 is out of range: there are 2 choices");
    let mut orphan = course();
    orphan.insert("lessons/03-absente.exercises.toml".into(), EXERCISE.as_bytes().to_vec());
    check_error(
        &orphan,
        "lessons/03-absente.exercises.toml: no lesson `lessons/03-absente.md` for these exercises: name the file after its lesson",
    );
    let mut taken = course();
    taken.insert("lessons/01-tension.exercises.toml".into(), EXERCISE.as_bytes().to_vec());
    taken.insert("lessons/01-tension.exercises.json".into(), b"{}".to_vec());
    check_error(
        &taken,
        "lessons/01-tension.exercises.json: this name is kept for the published form of lessons/01-tension.exercises.toml: rename the file",
    );
}
