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
        lessons: vec![Lesson {
            title: "Tension".into(),
            source: "lessons/01.md".into(),
            body: "lessons/01.md".into(),
            exercises: None,
        }],
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
        peers: PeerPolicy::default(),
    }
}

fn relay_only() -> PeerPolicy {
    PeerPolicy {
        sharing: true,
        relay_only: true,
        ice: vec![IceServer {
            urls: vec!["turn:turn.example.fr:3478".into()],
            username: Some("cartable".into()),
            credential: Some("s3cret".into()),
        }],
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

#[test]
fn the_peer_policy_is_signed_with_the_rest() {
    let strict = Manifest { peers: relay_only(), ..manifest() };
    assert_eq!(verify(&published(strict.clone()), 1_500, None), Ok(strict.clone()));
    let mut signed = strict.sign(&school_key());
    signed.manifest.peers.relay_only = false;
    let json = serde_json::to_vec(&signed).unwrap();
    assert_eq!(verify(&json, 1_500, None), Err(ManifestError::BadSignature));
    let mut signed = manifest().sign(&school_key());
    signed.manifest.peers.sharing = false;
    let json = serde_json::to_vec(&signed).unwrap();
    assert_eq!(verify(&json, 1_500, None), Err(ManifestError::BadSignature), "sharing cannot be turned off unsigned");
}

#[test]
fn manifests_that_say_nothing_of_peers_keep_their_signed_bytes() {
    // Manifests signed before the policy existed have no `peers` field: they still verify, and share.
    let json = published(manifest());
    assert!(!String::from_utf8_lossy(&json).contains("peers"));
    assert!(verify(&json, 1_500, None).unwrap().peers.sharing);
    // Spelled out, the default policy is the same manifest and the same signed bytes.
    let mut explicit: serde_json::Value = serde_json::from_slice(&json).unwrap();
    explicit["manifest"]["peers"] = serde_json::json!({"sharing": true, "relay_only": false, "ice": []});
    assert_eq!(verify(&serde_json::to_vec(&explicit).unwrap(), 1_500, None), Ok(manifest()));
}

#[test]
fn rejects_unknown_or_unusable_peer_settings() {
    let mut extra: serde_json::Value =
        serde_json::from_slice(&published(Manifest { peers: relay_only(), ..manifest() })).unwrap();
    extra["manifest"]["peers"]["ice"][0]["smuggled"] = serde_json::json!(true);
    assert!(matches!(verify(&serde_json::to_vec(&extra).unwrap(), 1_500, None), Err(ManifestError::Malformed(_))));
    let no_relay = PeerPolicy { ice: vec![], ..relay_only() };
    let refused = verify(&published(Manifest { peers: no_relay, ..manifest() }), 1_500, None);
    assert_eq!(refused, Err(ManifestError::Malformed(format!("peers: {RELAY_ONLY_NEEDS_TURN}"))));
    let mut anonymous = relay_only();
    anonymous.ice[0].credential = None;
    let refused = verify(&published(Manifest { peers: anonymous, ..manifest() }), 1_500, None);
    assert_eq!(refused, Err(ManifestError::Malformed(format!("peers: {TURN_NEEDS_CREDENTIALS}"))));
}

#[test]
fn ice_urls_are_stun_or_turn() {
    for good in ["stun:stun.example.fr", "turn:turn.example.fr:3478?transport=tcp", "turns:turn.example.fr:5349"] {
        assert_eq!(ice_url_problem(good), None, "{good}");
    }
    for bad in ["https://turn.example.fr", "turn:", "stun: ", "TURN:x", "turn.example.fr:3478", ""] {
        assert!(ice_url_problem(bad).is_some(), "{bad}");
    }
}

#[test]
fn lessons_without_exercises_keep_their_signed_bytes_and_an_exercise_is_signed() {
    let json = published(manifest());
    assert!(!String::from_utf8_lossy(&json).contains("exercises"), "no field for a lesson without exercises");
    assert_eq!(verify(&json, 1_500, None), Ok(manifest()));
    let mut with = manifest();
    with.lessons[0].exercises = Some("lessons/01.exercises.json".into());
    let mut signed: serde_json::Value = serde_json::from_slice(&published(with.clone())).unwrap();
    assert_eq!(verify(&serde_json::to_vec(&signed).unwrap(), 1_500, None), Ok(with));
    signed["manifest"]["lessons"][0]["exercises"] = serde_json::json!("lessons/other.json");
    let swapped = verify(&serde_json::to_vec(&signed).unwrap(), 1_500, None);
    assert_eq!(swapped, Err(ManifestError::BadSignature), "which exercise a lesson has is signed");
}

/// A checker that answers the same for every signature, recording what it was asked to check.
struct Answers(Option<bool>, std::cell::RefCell<Vec<Vec<u8>>>);

impl SignatureCheck for Answers {
    fn check<'a>(
        &'a self,
        _key: PublicKey,
        message: &'a [u8],
        _signature: Signature,
    ) -> std::pin::Pin<Box<dyn std::future::Future<Output = Option<bool>> + 'a>> {
        self.1.borrow_mut().push(message.to_vec());
        Box::pin(std::future::ready(self.0))
    }
}

#[test]
fn a_checker_sees_the_canonical_bytes_and_its_answer_decides() {
    let keys = [school_key().public()];
    let trust = Trust { keys: &keys, now: 1_500, accepted_version: None };
    let json = published(manifest());
    let verify_with = |answer| {
        let check = Answers(answer, Default::default());
        let verified = futures::executor::block_on(SignedManifest::verify_with(&json, &trust, &check));
        assert_eq!(check.1.into_inner(), vec![manifest().canonical_bytes()], "asked once, about the signed bytes");
        verified
    };
    assert_eq!(verify_with(Some(true)), Ok(manifest()));
    assert_eq!(verify_with(Some(false)), Err(ManifestError::BadSignature));
    assert_eq!(verify_with(None), Err(ManifestError::Uncheckable), "never accepted unchecked");
    let dalek = futures::executor::block_on(SignedManifest::verify_with(&json, &trust, &crate::key::Dalek));
    assert_eq!(dalek, verify(&json, 1_500, None), "the same answer as the native check");
}
