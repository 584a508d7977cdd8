use super::*;

fn school_key() -> SecretKey {
    SecretKey::from_seed([42; 32])
}

fn manifest() -> Manifest {
    Manifest {
        format: FORMAT,
        course: CourseInfo {
            id: "physique-3e".into(),
            title: "L'électricité".into(),
            class: "3e B".into(),
            subject: "Physique-chimie".into(),
            teacher: "Mme Lefèvre".into(),
            language: "fr".into(),
        },
        version: 5,
        created_at: 1_000,
        expires_at: 2_000,
        chunk_size: 4,
        lessons: vec![Lesson { title: "Tension".into(), source: "lessons/01.md".into(), body: "lessons/01.md".into() }],
        agenda: vec![Homework {
            subject: "Physique-chimie".into(),
            task: "Exercices 3 et 4".into(),
            due: "2026-12-03".parse().unwrap(),
            attachments: vec![],
        }],
        files: vec![FileEntry {
            path: "lessons/01.md".into(),
            media_type: "text/markdown".into(),
            size: 6,
            chunks: vec![Cid::of(b"# Te"), Cid::of(b"ns")],
        }],
        mirrors: vec!["https://miroir.example/".into()],
        trackers: vec![],
    }
}

fn published(manifest: Manifest) -> Vec<u8> {
    serde_json::to_vec(&manifest.sign(&school_key())).unwrap()
}

fn verify(json: &[u8], now: i64, accepted_version: Option<u64>) -> Result<Manifest, ManifestError> {
    let keys = [school_key().public()];
    SignedManifest::verify(json, &Trust { keys: &keys, now, accepted_version })
}

#[test]
fn accepts_a_signed_manifest_from_a_pinned_key() {
    assert_eq!(verify(&published(manifest()), 1_500, None), Ok(manifest()));
    assert_eq!(verify(&published(manifest()), 1_500, Some(5)), Ok(manifest()), "same version again is fine");
}

#[test]
fn rejects_content_changed_after_signing() {
    let mut signed = manifest().sign(&school_key());
    signed.manifest.files[0].chunks[1] = Cid::of(b"evil");
    let json = serde_json::to_vec(&signed).unwrap();
    assert_eq!(verify(&json, 1_500, None), Err(ManifestError::BadSignature));

    let mut signed = manifest().sign(&school_key());
    signed.signature = "bm90IGEgc2lnbmF0dXJl".into();
    assert_eq!(verify(&serde_json::to_vec(&signed).unwrap(), 1_500, None), Err(ManifestError::BadSignature));
}

#[test]
fn rejects_an_unknown_key() {
    let intruder = SecretKey::from_seed([9; 32]);
    let json = serde_json::to_vec(&manifest().sign(&intruder)).unwrap();
    assert_eq!(verify(&json, 1_500, None), Err(ManifestError::UnknownKey(intruder.public().to_string())));
}

#[test]
fn rejects_a_forged_signer_field() {
    // Claiming the pinned key while signing with another fails on the signature, not on the key.
    let mut signed = manifest().sign(&SecretKey::from_seed([9; 32]));
    signed.signer = school_key().public().to_string();
    assert_eq!(verify(&serde_json::to_vec(&signed).unwrap(), 1_500, None), Err(ManifestError::BadSignature));
}

#[test]
fn rejects_an_expired_manifest() {
    assert_eq!(verify(&published(manifest()), 2_000, None), Err(ManifestError::Expired { expired_at: 2_000 }));
    let message = ManifestError::Expired { expired_at: 1_617_692_400 }.to_string();
    assert_eq!(message, "manifest expired on 2021-04-06");
}

#[test]
fn rejects_a_rollback() {
    let rollback = Err(ManifestError::Rollback { offered: 5, accepted: 6 });
    assert_eq!(verify(&published(manifest()), 1_500, Some(6)), rollback);
}

#[test]
fn rejects_malformed_and_unknown_formats() {
    assert!(matches!(verify(b"{", 1_500, None), Err(ManifestError::Malformed(_))));
    assert!(matches!(verify(b"{\"manifest\": 3}", 1_500, None), Err(ManifestError::Malformed(_))));
    let future = Manifest { format: 2, ..manifest() };
    assert_eq!(verify(&published(future), 1_500, None), Err(ManifestError::UnsupportedFormat(2)));
    let mut extra: serde_json::Value = serde_json::from_slice(&published(manifest())).unwrap();
    extra["manifest"]["unsigned_extra"] = serde_json::json!("smuggled");
    let json = serde_json::to_vec(&extra).unwrap();
    assert!(matches!(verify(&json, 1_500, None), Err(ManifestError::Malformed(_))));
}

#[test]
fn rejects_a_signed_manifest_whose_chunks_do_not_fit_its_sizes() {
    let mut bad = manifest();
    bad.files[0].size = 9;
    assert!(matches!(verify(&published(bad), 1_500, None), Err(ManifestError::Malformed(_))));
    let mut dangling = manifest();
    dangling.lessons[0].body = "lessons/02.md.json".into();
    assert!(matches!(verify(&published(dangling), 1_500, None), Err(ManifestError::Malformed(_))));
}

#[test]
fn chunk_lengths_follow_the_chunk_size() {
    let file = &manifest().files[0];
    assert_eq!((file.chunk_len(0, 4), file.chunk_len(1, 4), file.chunk_len(2, 4)), (4, 2, 0));
}

#[test]
fn stored_contents_read_the_parts_a_worker_serves_from() {
    let json = published(manifest());
    let contents = StoredContents::read(&json).unwrap();
    assert_eq!((contents.expires_at, contents.chunk_size), (2_000, 4));
    assert_eq!(contents.lessons, manifest().lessons);
    assert_eq!(contents.file("lessons/01.md"), manifest().file("lessons/01.md"));
    assert!(StoredContents::read(b"{}").is_err());
}
