//! Integration tests of `cartable keygen`, `pack` and `verify`, run on the real binary.
// See: issue 2

mod support;

use cartable_core::Cid;
use support::{chunk_names, course, fails, keygen, ok, packed, run, write};
use tempfile::TempDir;

#[test]
fn keygen_writes_a_secret_and_a_public_key() {
    let dir = TempDir::new().unwrap();
    let out = ok(&run(dir.path(), &["keygen", "keys/school"]));
    let public = std::fs::read_to_string(dir.path().join("keys/school.pub")).unwrap();
    let secret = std::fs::read_to_string(dir.path().join("keys/school.secret")).unwrap();
    assert!(public.starts_with("ed25519:") && public.ends_with('\n'));
    assert!(secret.starts_with("cartable-secret-key ed25519:"));
    assert!(out.contains("keys/school.secret") && out.contains("keys/school.pub") && out.contains(public.trim()));
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        let mode = std::fs::metadata(dir.path().join("keys/school.secret")).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
    }
}

#[test]
fn keygen_refuses_to_overwrite_unless_forced() {
    let dir = TempDir::new().unwrap();
    keygen(dir.path());
    let before = std::fs::read_to_string(dir.path().join("school.pub")).unwrap();
    let error = fails(&run(dir.path(), &["keygen", "school"]));
    assert!(error.contains("school.secret already exists") && error.contains("--force"), "{error}");
    std::fs::remove_file(dir.path().join("school.secret")).unwrap();
    let error = fails(&run(dir.path(), &["keygen", "school"]));
    assert!(error.contains("school.pub already exists"), "{error}");
    ok(&run(dir.path(), &["keygen", "school", "--force"]));
    assert_ne!(std::fs::read_to_string(dir.path().join("school.pub")).unwrap(), before);
}

#[test]
fn pack_writes_a_manifest_and_chunks_named_by_cid() {
    let dir = TempDir::new().unwrap();
    let out = packed(dir.path());
    let manifest = std::fs::read_to_string(out.join("manifest.json")).unwrap();
    assert!(manifest.contains("\"signature\"") && manifest.contains("lessons/01-x.md"));
    assert!(!manifest.contains(".git/HEAD"), "hidden files are skipped");
    let names = chunk_names(&out);
    assert!(names.len() > 3, "the 5000-byte PDF makes several 1 KiB chunks: {names:?}");
    for name in names {
        assert!(name.starts_with("bafkrei"), "{name}");
        let bytes = std::fs::read(out.join("ipfs").join(&name)).unwrap();
        assert!(bytes.len() <= 1024);
        assert!(name.parse::<Cid>().unwrap().matches(&bytes));
    }
}

#[test]
fn pack_prints_a_summary() {
    let dir = TempDir::new().unwrap();
    keygen(dir.path());
    course(dir.path());
    let out = ok(&run(dir.path(), &["pack", "course", "--key", "school.secret", "--out", "out", "--version", "7"]));
    // The lesson, its picture, the attachment, and the lesson's published tree.
    assert!(out.contains("\"Cours d'essai\"") && out.contains("v7") && out.contains("4 files"), "{out}");
}

#[test]
fn pack_versions_only_grow() {
    let dir = TempDir::new().unwrap();
    keygen(dir.path());
    course(dir.path());
    let pack = |extra: &[&str]| {
        let mut args = vec!["pack", "course", "--key", "school.secret", "--out", "out"];
        args.extend_from_slice(extra);
        run(dir.path(), &args)
    };
    ok(&pack(&["--version", "9999999999"]));
    let error = fails(&pack(&["--version", "9999999999"]));
    assert!(error.contains("not greater than version 9999999999"), "{error}");
    assert!(ok(&pack(&[])).contains("v10000000000"), "without --version, the next version is above the last");
}

#[test]
fn verify_accepts_an_intact_pack() {
    let dir = TempDir::new().unwrap();
    let out = packed(dir.path());
    let report = ok(&run(dir.path(), &["verify", "out", "--pubkey", "school.pub"]));
    let chunks = chunk_names(&out).len();
    assert_eq!(report.trim(), format!("ok: 4 files, {chunks} chunks verified"));
}

#[test]
fn verify_names_a_tampered_chunk() {
    let dir = TempDir::new().unwrap();
    let out = packed(dir.path());
    let name = chunk_names(&out).remove(0);
    let path = out.join("ipfs").join(&name);
    let mut bytes = std::fs::read(&path).unwrap();
    bytes[0] ^= 1;
    std::fs::write(&path, bytes).unwrap();
    let error = fails(&run(dir.path(), &["verify", "out", "--pubkey", "school.pub"]));
    assert!(error.contains(&format!("ipfs/{name}: corrupted (does not match its CID), part of ")), "{error}");
}

#[test]
fn verify_names_a_missing_chunk() {
    let dir = TempDir::new().unwrap();
    let out = packed(dir.path());
    let name = chunk_names(&out).remove(0);
    std::fs::remove_file(out.join("ipfs").join(&name)).unwrap();
    let error = fails(&run(dir.path(), &["verify", "out", "--pubkey", "school.pub"]));
    assert!(error.contains(&format!("ipfs/{name}: missing, part of ")), "{error}");
}

#[test]
fn verify_refuses_a_key_that_did_not_sign() {
    let dir = TempDir::new().unwrap();
    packed(dir.path());
    ok(&run(dir.path(), &["keygen", "other"]));
    let error = fails(&run(dir.path(), &["verify", "out", "--pubkey", "other.pub"]));
    assert!(error.contains("manifest.json") && error.contains("not a key this school trusts"), "{error}");
}

/// Packs `dir/course` and returns stderr, asserting failure.
#[track_caller]
fn pack_error(dir: &TempDir) -> String {
    fails(&run(dir.path(), &["pack", "course", "--key", "school.secret", "--out", "out"]))
}

/// A key and the fixture course, ready to be broken by the test.
fn broken_course() -> TempDir {
    let dir = TempDir::new().unwrap();
    keygen(dir.path());
    course(dir.path());
    dir
}

#[test]
fn pack_error_missing_course_toml() {
    let dir = broken_course();
    std::fs::remove_file(dir.path().join("course/course.toml")).unwrap();
    let error = pack_error(&dir);
    assert!(error.contains("course/course.toml: not found"), "{error}");
}

#[test]
fn pack_error_missing_title() {
    let dir = broken_course();
    write(
        dir.path(),
        "course/course.toml",
        "id = \"essai\"\nclass = \"3e B\"\nsubject = \"P\"\nteacher = \"T\"\nlanguage = \"fr\"\n",
    );
    let error = pack_error(&dir);
    assert!(error.contains("course/course.toml") && error.contains("title"), "{error}");
}

#[cfg(unix)]
#[test]
fn pack_error_unreadable_file() {
    let dir = broken_course();
    std::os::unix::fs::symlink("nowhere", dir.path().join("course/lessons/02.md")).unwrap();
    let error = pack_error(&dir);
    assert!(error.contains("cannot read ") && error.contains("course/lessons/02.md"), "{error}");
}

#[cfg(unix)]
#[test]
fn pack_refuses_links_that_leave_the_folder_and_signing_keys() {
    let dir = broken_course();
    let outside = dir.path().join("outside.txt");
    std::fs::write(&outside, "not the course's").unwrap();
    std::os::unix::fs::symlink(&outside, dir.path().join("course/docs/x.txt")).unwrap();
    let error = pack_error(&dir);
    assert!(error.contains("docs/x.txt is a link to") && error.contains("outside the course folder"), "{error}");
    assert!(!dir.path().join("out/manifest.json").exists(), "nothing is published");

    // A link to the school's key, inside or outside the folder, and a key copied in: never published.
    std::fs::remove_file(dir.path().join("course/docs/x.txt")).unwrap();
    std::os::unix::fs::symlink(dir.path().join("school.secret"), dir.path().join("course/docs/key")).unwrap();
    assert!(pack_error(&dir).contains("outside the course folder"));
    std::fs::remove_file(dir.path().join("course/docs/key")).unwrap();
    std::fs::copy(dir.path().join("school.secret"), dir.path().join("course/docs/old.secret")).unwrap();
    let error = pack_error(&dir);
    assert!(error.contains("docs/old.secret: a signing key must never be published"), "{error}");
    // A hidden folder is skipped, but not a link into it that names a key.
    std::fs::create_dir(dir.path().join("course/.keys")).unwrap();
    std::fs::rename(dir.path().join("course/docs/old.secret"), dir.path().join("course/.keys/old.secret")).unwrap();
    std::os::unix::fs::symlink("../.keys/old.secret", dir.path().join("course/docs/innocent.txt")).unwrap();
    let error = pack_error(&dir);
    assert!(error.contains("docs/innocent.txt: a signing key must never be published"), "{error}");

    // Links inside the folder count as what they name, and a loop is read once.
    std::fs::remove_file(dir.path().join("course/docs/innocent.txt")).unwrap();
    std::os::unix::fs::symlink("../images/x.svg", dir.path().join("course/docs/schema.svg")).unwrap();
    std::os::unix::fs::symlink("..", dir.path().join("course/docs/loop")).unwrap();
    ok(&run(dir.path(), &["pack", "course", "--key", "school.secret", "--out", "out"]));
    let manifest = std::fs::read_to_string(dir.path().join("out/manifest.json")).unwrap();
    assert!(manifest.contains("docs/schema.svg") && !manifest.contains("docs/loop"), "{manifest}");
}

#[test]
fn pack_error_dangling_image_names_lesson_and_line() {
    let dir = broken_course();
    write(dir.path(), "course/lessons/01-x.md", "# Le circuit\n\nTexte.\n\n![schéma](../images/absent.svg)\n");
    let error = pack_error(&dir);
    assert!(error.contains("course/lessons/01-x.md:5:") && error.contains("images/absent.svg"), "{error}");
}

#[test]
fn pack_error_bad_date_names_agenda_and_line() {
    let dir = broken_course();
    write(dir.path(), "course/agenda.toml", "[[homework]]\nsubject = \"P\"\ntask = \"T\"\ndue = \"2026-02-30\"\n");
    let error = pack_error(&dir);
    assert!(error.contains("course/agenda.toml:4:") && error.contains("2026-02-30"), "{error}");
}

// See: issue 5
#[test]
fn pack_error_relay_only_without_a_turn_server_names_the_line() {
    let dir = broken_course();
    let toml = std::fs::read_to_string(dir.path().join("course/course.toml")).unwrap();
    let lines = toml.lines().count();
    let peers = "[peers]\nrelay_only = true\n[[peers.ice]]\nurls = [\"stun:stun.example.fr\"]\n";
    write(dir.path(), "course/course.toml", format!("{toml}{peers}"));
    let error = pack_error(&dir);
    let line = format!("course/course.toml:{}: relay_only needs a TURN server", lines + 2);
    assert!(error.contains(&line), "{error}");
}

#[test]
fn pack_error_public_key_passed_as_secret() {
    let dir = broken_course();
    let error = fails(&run(dir.path(), &["pack", "course", "--key", "school.pub", "--out", "out"]));
    assert!(error.contains("school.pub: not a cartable secret key") && error.contains(".secret"), "{error}");
    assert!(!dir.path().join("out").exists(), "nothing is written with a wrong key");
}

#[test]
fn every_subcommand_has_help() {
    let dir = TempDir::new().unwrap();
    for command in [
        &["--help"][..],
        &["keygen", "--help"],
        &["pack", "--help"],
        &["verify", "--help"],
        &["mirror", "--help"],
        &["serve", "--help"],
        &["demo", "--help"],
        &["tracker", "--help"],
    ] {
        let out = ok(&run(dir.path(), command));
        assert!(out.contains("Usage: cartable"), "{command:?}: {out}");
    }
}

// See: issue "source scheduler": `cartable rehearse` prints the figures of every standard scenario.
#[test]
fn rehearse_prints_every_standard_scenario_with_no_corrupt_chunk_accepted() {
    let dir = TempDir::new().unwrap();
    let out = ok(&run(dir.path(), &["rehearse", "--clients", "5"]));
    for (name, _) in cartable_core::fetch::scenario::standard() {
        let line = out.lines().find(|line| line.starts_with(name)).unwrap_or_else(|| panic!("{name} in:\n{out}"));
        assert_eq!(line.split_whitespace().last(), Some("0"), "0 corrupt chunks accepted: {line}");
    }
    assert!(!out.contains("unfinished"), "{out}");
    let help = ok(&run(dir.path(), &["rehearse", "--help"]));
    assert!(help.contains("--seed") && help.contains("--clients"), "{help}");
}

// See: issue 7: `cartable sim` runs the three policies on the same arrivals and writes CSV and SVG.
#[test]
fn sim_prints_the_three_policies_and_writes_csv_and_svg() {
    let dir = TempDir::new().unwrap();
    let out = ok(&run(dir.path(), &["sim", "--students", "600", "--seed", "3", "--out", "figures"]));
    for policy in ["naive", "backoff", "cartable"] {
        assert!(out.lines().any(|line| line.starts_with(policy)), "{policy} in:\n{out}");
    }
    assert!(out.contains("peak memory"), "{out}");
    let summary = std::fs::read_to_string(dir.path().join("figures/sim-summary.csv")).unwrap();
    assert_eq!(summary.lines().count(), 4, "a header and a row per policy:\n{summary}");
    let column = |name: &str| summary.lines().next().unwrap().split(',').position(|c| c == name).unwrap();
    let corrupt = summary.lines().skip(1).map(|row| row.split(',').nth(column("corrupt_accepted")).unwrap_or("?"));
    assert!(corrupt.clone().all(|count| count == "0"), "no corrupt chunk kept: {summary}");
    for plot in ["sim-served.svg", "sim-origin.svg"] {
        let svg = std::fs::read_to_string(dir.path().join("figures").join(plot)).unwrap();
        assert!(svg.starts_with("<svg") && svg.contains("cartable") && svg.contains("<polyline"), "{plot}");
    }
    ok(&run(dir.path(), &["sim", "--students", "600", "--seed", "3", "--out", "again"]));
    let again = std::fs::read_to_string(dir.path().join("again/sim-summary.csv")).unwrap();
    assert_eq!(summary, again, "the same seed writes the same figures");
    let bad = run(dir.path(), &["sim", "--policies", "hopeful"]);
    assert!(!bad.status.success());
    assert!(String::from_utf8_lossy(&bad.stderr).contains("use naive, backoff or cartable"));
}

// See: issue 15: several seeds, every parameter in the CSV, baselines given the mirror list.
#[test]
fn sim_runs_several_seeds_and_writes_its_parameters_beside_the_figures() {
    let dir = TempDir::new().unwrap();
    let args = ["sim", "--students", "300", "--seeds", "2", "--baseline-mirrors", "trusting", "--class-size", "20"];
    let modelled = ["--pair-failure", "0.3", "--stalls", "0.05", "--overload", "timeout", "--returning", "0.5"];
    let out = ok(&run(dir.path(), &[&args[..], &modelled, &["--unreachable", "0.1", "--out", "figures"]].concat()));
    assert!(out.contains("naive (origin, mirrors, unchecked)"), "what each policy may use:\n{out}");
    assert!(out.contains("classes of 20") && out.contains("10 % unreachable") && out.contains("seeds 1..2"), "{out}");
    assert!(out.contains('±'), "the spread over seeds:\n{out}");
    let summary = std::fs::read_to_string(dir.path().join("figures/sim-summary.csv")).unwrap();
    let header: Vec<&str> = summary.lines().next().unwrap().split(',').collect();
    let rows: Vec<Vec<&str>> = summary.lines().skip(1).map(|row| row.split(',').collect()).collect();
    assert_eq!(rows.len(), 6, "a row per policy and seed:\n{summary}");
    let cell = |row: &Vec<&str>, name: &str| row[header.iter().position(|c| *c == name).unwrap()].to_owned();
    assert!(rows.iter().all(|row| cell(row, "class_size") == "20" && cell(row, "unreachable") == "0.1"));
    let modelled = |row: &Vec<&str>| {
        [cell(row, "pair_failure"), cell(row, "stalls"), cell(row, "overload"), cell(row, "returning")]
    };
    assert!(rows.iter().all(|row| modelled(row) == ["0.3", "0.05", "timeout", "0.5"]), "{summary}");
    assert!(rows.iter().all(|row| cell(row, "manifest_from_classmates").parse::<u64>().is_ok()), "{summary}");
    assert!(out.contains("50 % returning") && out.contains("pages took the manifest from a classmate"), "{out}");
    assert!(rows.iter().all(|row| cell(row, "peer_cut").parse::<u64>().is_ok()), "{summary}");
    assert!(out.contains("30 % of pairs unlinked") && out.contains("timing out"), "{out}");
    assert_eq!(rows.iter().map(|row| cell(row, "seed")).collect::<Vec<_>>(), ["1", "2", "1", "2", "1", "2"]);
    // Trusting the mirrors, the naive client keeps what the lying one sends; cartable never does.
    let corrupt = |policy: &str| -> Vec<String> {
        rows.iter().filter(|row| row[0] == policy).map(|row| cell(row, "corrupt_accepted")).collect()
    };
    assert!(corrupt("naive").iter().all(|count| count != "0"), "{summary}");
    assert!(corrupt("cartable").iter().all(|count| count == "0"), "{summary}");
    let bad = run(dir.path(), &["sim", "--baseline-mirrors", "some"]);
    assert!(String::from_utf8_lossy(&bad.stderr).contains("use none, trusting or checking"));
    let bad = run(dir.path(), &["sim", "--overload", "sometimes"]);
    assert!(String::from_utf8_lossy(&bad.stderr).contains("use refuse or timeout"));
}

// See: issue 6
const EXERCISE: &str = "[[question]]\nid = \"unite\"\ntype = \"single_choice\"\nprompt = \"Unité de la tension ?\"\n\
    choices = [\"le volt\", \"l'ampère\"]\ncorrect = 1\n\n[[question]]\nid = \"pile\"\ntype = \"numeric\"\n\
    prompt = \"Tension d'une pile plate ?\"\nvalue = 4.5\ntolerance = 0.1\nunit = \"V\"\n";

// See: issue 6
#[test]
fn pack_publishes_a_lessons_exercises() {
    let dir = broken_course();
    write(dir.path(), "course/lessons/01-x.exercises.toml", EXERCISE);
    let output = run(dir.path(), &["pack", "course", "--key", "school.secret", "--out", "out"]);
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    let manifest = std::fs::read_to_string(dir.path().join("out/manifest.json")).unwrap();
    assert!(manifest.contains("\"exercises\": \"lessons/01-x.exercises.json\""), "{manifest}");
}

// See: issue 6
#[test]
fn pack_error_exercise_choice_out_of_range_names_the_line() {
    let dir = broken_course();
    write(dir.path(), "course/lessons/01-x.exercises.toml", EXERCISE.replace("correct = 1", "correct = 3"));
    let error = pack_error(&dir);
    let expected = "course/lessons/01-x.exercises.toml:6: correct choice 3 is out of range: there are 2 choices";
    assert!(error.contains(expected), "{error}");
}

// See: issue 6
#[test]
fn pack_error_exercise_negative_tolerance_names_the_line() {
    let dir = broken_course();
    write(dir.path(), "course/lessons/01-x.exercises.toml", EXERCISE.replace("tolerance = 0.1", "tolerance = -1"));
    let error = pack_error(&dir);
    assert!(error.contains("course/lessons/01-x.exercises.toml:13: tolerance must be a number, 0 or more"), "{error}");
}

// See: issue 6
#[test]
fn pack_error_exercise_repeated_id_and_unknown_type_name_the_line() {
    let dir = broken_course();
    write(dir.path(), "course/lessons/01-x.exercises.toml", EXERCISE.replace("id = \"pile\"", "id = \"unite\""));
    let error = pack_error(&dir);
    assert!(error.contains("course/lessons/01-x.exercises.toml:9: id `unite` is used by another question"), "{error}");
    write(dir.path(), "course/lessons/01-x.exercises.toml", EXERCISE.replace("\"numeric\"", "\"nombre\""));
    let error = pack_error(&dir);
    assert!(error.contains("course/lessons/01-x.exercises.toml:10: type `nombre` is not one of"), "{error}");
}

// See: issue 6
#[test]
fn pack_error_exercises_without_their_lesson() {
    let dir = broken_course();
    write(dir.path(), "course/lessons/02-y.exercises.toml", EXERCISE);
    let error = pack_error(&dir);
    assert!(error.contains("lessons/02-y.exercises.toml: no lesson `lessons/02-y.md`"), "{error}");
}
