//! Native tests of the offline decisions, driven over a `MemoryStore` with `futures::executor`.

use futures::executor::block_on;

use super::*;
use crate::key::{Dalek, SecretKey};
use crate::manifest::{CourseInfo, FileEntry, PeerPolicy, FORMAT};
use crate::store::MemoryStore;

const CHUNK_SIZE: usize = 4;

fn school_key() -> SecretKey {
    SecretKey::from_seed([7; 32])
}

fn keys() -> Vec<PublicKey> {
    vec![school_key().public()]
}

/// A course `id` at `version` made of `files` (path, bytes), cut in chunks of 4 bytes, valid until 2 000.
fn course(id: &str, version: u64, files: &[(&str, &[u8])]) -> Manifest {
    let files = files.iter().map(|(path, bytes)| file(path, bytes)).collect();
    Manifest {
        format: FORMAT,
        course: CourseInfo {
            id: id.into(),
            title: "Cours".into(),
            class: "3e B".into(),
            subject: "Physique-chimie".into(),
            teacher: "Mme Lefèvre".into(),
            language: "fr".into(),
        },
        version,
        created_at: 1_000,
        expires_at: 2_000,
        chunk_size: CHUNK_SIZE as u32,
        lessons: vec![],
        agenda: vec![],
        files,
        mirrors: vec![],
        trackers: vec![],
        peers: PeerPolicy::default(),
    }
}

fn file(path: &str, bytes: &[u8]) -> FileEntry {
    FileEntry {
        path: path.into(),
        media_type: "text/plain".into(),
        size: bytes.len() as u64,
        chunks: bytes.chunks(CHUNK_SIZE).map(Cid::of).collect(),
    }
}

fn chunks_of(bytes: &[u8]) -> Vec<(Cid, Vec<u8>)> {
    bytes.chunks(CHUNK_SIZE).map(|chunk| (Cid::of(chunk), chunk.to_vec())).collect()
}

fn published_by(manifest: Manifest, key: &SecretKey) -> Vec<u8> {
    serde_json::to_vec(&manifest.sign(key)).unwrap()
}

fn published(manifest: Manifest) -> Vec<u8> {
    published_by(manifest, &school_key())
}

fn stored_version(store: &MemoryStore, id: &str) -> Option<u64> {
    block_on(store.get_manifest(id)).unwrap().map(|copy| copy.version)
}

const SOURCE: &str = "https://college.example/courses/physique/manifest.json";

fn accept_at(store: &MemoryStore, json: &[u8], now: i64) -> Result<Accepted, OfflineError> {
    block_on(accept(store, SOURCE, json, (&keys(), &Dalek), now))
}

#[test]
fn accept_stores_a_first_manifest() {
    let store = MemoryStore::new();
    let manifest = course("physique", 3, &[("a.txt", b"hello")]);
    let accepted = accept_at(&store, &published(manifest.clone()), 1_500).unwrap();
    assert_eq!(accepted, Accepted { manifest, updated: true, previous_version: None });
    let copy = block_on(store.get_manifest("physique")).unwrap().unwrap();
    assert_eq!((copy.version, copy.stored_at, copy.source.as_str()), (3, 1_500, SOURCE));
}

#[test]
fn accept_replaces_with_a_newer_version_and_reports_the_previous_one() {
    let store = MemoryStore::new();
    accept_at(&store, &published(course("physique", 3, &[])), 1_100).unwrap();
    let accepted = accept_at(&store, &published(course("physique", 4, &[])), 1_200).unwrap();
    assert_eq!((accepted.updated, accepted.previous_version), (true, Some(3)));
    assert_eq!(stored_version(&store, "physique"), Some(4));
}

#[test]
fn accept_does_not_rewrite_the_same_version() {
    let store = MemoryStore::new();
    accept_at(&store, &published(course("physique", 3, &[])), 1_100).unwrap();
    let accepted = accept_at(&store, &published(course("physique", 3, &[])), 1_200).unwrap();
    assert_eq!((accepted.updated, accepted.previous_version), (false, Some(3)));
    assert_eq!(block_on(store.get_manifest("physique")).unwrap().unwrap().stored_at, 1_100);
}

#[test]
fn accept_records_a_new_source_for_the_same_version_and_keeps_its_date() {
    let store = MemoryStore::new();
    let json = published(course("physique", 3, &[]));
    accept_at(&store, &json, 1_100).unwrap();
    let moved = "https://miroir.example/physique/manifest.json";
    let accepted = block_on(accept(&store, moved, &json, (&keys(), &Dalek), 1_200)).unwrap();
    assert!(!accepted.updated);
    let copy = block_on(store.get_manifest("physique")).unwrap().unwrap();
    assert_eq!((copy.source.as_str(), copy.stored_at), (moved, 1_100));
    assert_eq!(block_on(stored(&store, SOURCE, (&keys(), &Dalek), 1_500)), Ok(None));
    assert!(block_on(stored(&store, moved, (&keys(), &Dalek), 1_500)).unwrap().is_some());
}

#[test]
fn accept_refuses_an_older_version_and_keeps_the_stored_one() {
    let store = MemoryStore::new();
    accept_at(&store, &published(course("physique", 4, &[])), 1_100).unwrap();
    let refused = accept_at(&store, &published(course("physique", 3, &[])), 1_200);
    assert_eq!(refused, Err(OfflineError::Manifest(ManifestError::Rollback { offered: 3, accepted: 4 })));
    assert_eq!(stored_version(&store, "physique"), Some(4));
}

#[test]
fn accept_refuses_an_unknown_key_and_stores_nothing() {
    let store = MemoryStore::new();
    let json = published_by(course("physique", 3, &[]), &SecretKey::from_seed([9; 32]));
    assert!(matches!(accept_at(&store, &json, 1_500), Err(OfflineError::Manifest(ManifestError::UnknownKey(_)))));
    assert_eq!(block_on(store.manifests()).unwrap(), vec![]);
}

#[test]
fn accept_refuses_what_is_not_a_manifest() {
    let store = MemoryStore::new();
    assert!(matches!(accept_at(&store, b"{}", 1_500), Err(OfflineError::Manifest(ManifestError::Malformed(_)))));
    assert_eq!(block_on(store.manifests()).unwrap(), vec![]);
}

#[test]
fn stored_returns_the_verified_copy_and_its_date() {
    let store = MemoryStore::new();
    let manifest = course("physique", 3, &[("a.txt", b"hello")]);
    accept_at(&store, &published(manifest.clone()), 1_100).unwrap();
    let offline = block_on(stored(&store, SOURCE, (&keys(), &Dalek), 1_500)).unwrap();
    assert_eq!(offline, Some(Offline { manifest, stored_at: 1_100 }));
    let elsewhere = "https://college.example/courses/chimie/manifest.json";
    assert_eq!(block_on(stored(&store, elsewhere, (&keys(), &Dalek), 1_500)), Ok(None));
}

#[test]
fn stored_finds_the_course_a_url_published_last() {
    let store = MemoryStore::new();
    accept_at(&store, &published(course("physique", 3, &[])), 1_100).unwrap();
    // The school replaced the course behind the same URL.
    accept_at(&store, &published(course("physique-2026", 1, &[])), 1_200).unwrap();
    let offline = block_on(stored(&store, SOURCE, (&keys(), &Dalek), 1_500)).unwrap().unwrap();
    assert_eq!(offline.manifest.course.id, "physique-2026");
}

#[test]
fn stored_reports_an_expired_copy_as_expired() {
    let store = MemoryStore::new();
    accept_at(&store, &published(course("physique", 3, &[])), 1_100).unwrap();
    let expired = block_on(stored(&store, SOURCE, (&keys(), &Dalek), 2_000));
    assert_eq!(expired, Err(OfflineError::Manifest(ManifestError::Expired { expired_at: 2_000 })));
}

#[test]
fn stored_refuses_a_copy_whose_key_is_no_longer_pinned() {
    let store = MemoryStore::new();
    accept_at(&store, &published(course("physique", 3, &[])), 1_100).unwrap();
    let other = [SecretKey::from_seed([9; 32]).public()];
    let refused = block_on(stored(&store, SOURCE, (&other, &Dalek), 1_500));
    assert!(matches!(refused, Err(OfflineError::Manifest(ManifestError::UnknownKey(_)))));
}

#[track_caller]
fn check_progress(
    store: &MemoryStore,
    manifest: &Manifest,
    bytes: (u64, u64),
    files: (usize, usize),
    missing: &[&[u8]],
) {
    let progress = block_on(progress(store, manifest)).unwrap();
    assert_eq!((progress.bytes_stored, progress.bytes_total), bytes, "bytes stored, total");
    assert_eq!((progress.files_complete, progress.files_total), files, "files complete, total");
    let missing: Vec<(Cid, u64)> = missing.iter().map(|chunk| (Cid::of(chunk), chunk.len() as u64)).collect();
    let needs: Vec<(Cid, u64)> = progress.chunks_missing.iter().map(|need| (need.cid, need.size)).collect();
    assert_eq!(needs, missing, "missing chunks, in order");
}

#[test]
fn progress_lists_a_chunk_shared_by_two_files_once() {
    // "abcd" is the first chunk of both files.
    let manifest = course("physique", 1, &[("a.txt", b"abcdef"), ("b.txt", b"abcdxyz"), ("empty", b"")]);
    let store = MemoryStore::new();
    check_progress(&store, &manifest, (0, 9), (1, 3), &[b"abcd", b"ef", b"xyz"]);
    let progress = block_on(progress(&store, &manifest)).unwrap();
    let paths: Vec<&str> = progress.chunks_missing.iter().map(|need| need.path.as_str()).collect();
    assert_eq!(paths, ["a.txt", "a.txt", "b.txt"]);
}

#[test]
fn progress_counts_what_is_already_stored() {
    let manifest = course("physique", 1, &[("a.txt", b"abcdef"), ("b.txt", b"abcdxyz")]);
    let store = MemoryStore::new();
    block_on(store.put_chunks(chunks_of(b"abcdxyz"))).unwrap();
    check_progress(&store, &manifest, (7, 9), (1, 2), &[b"ef"]);
    block_on(store.put_chunks(chunks_of(b"ef"))).unwrap();
    check_progress(&store, &manifest, (9, 9), (2, 2), &[]);
}

#[test]
fn recording_each_stored_chunk_matches_asking_the_store_again() {
    let manifest = course("physique", 1, &[("a.txt", b"abcdef"), ("b.txt", b"abcdxyz"), ("empty", b"")]);
    let store = MemoryStore::new();
    let mut recorded = block_on(progress(&store, &manifest)).unwrap();
    for need in recorded.chunks_missing.clone() {
        let bytes =
            [b"abcdef".as_slice(), b"abcdxyz"].iter().flat_map(|b| chunks_of(b)).find(|(cid, _)| *cid == need.cid);
        block_on(store.put_chunks(vec![bytes.unwrap()])).unwrap();
        recorded.record(&need.cid, &manifest);
        assert_eq!(recorded, block_on(progress(&store, &manifest)).unwrap());
    }
    assert!(recorded.chunks_missing.is_empty());
    let before = recorded.clone();
    recorded.record(&Cid::of(b"abcd"), &manifest);
    assert_eq!(recorded, before, "recording a chunk twice counts it once");
}

#[test]
fn garbage_collection_keeps_what_kept_manifests_reference_across_courses() {
    let store = MemoryStore::new();
    accept_at(&store, &published(course("physique", 1, &[("a.txt", b"abcdef")])), 1_100).unwrap();
    accept_at(&store, &published(course("chimie", 1, &[("b.txt", b"wxyz")])), 1_100).unwrap();
    let stray = chunks_of(b"stray chunk");
    block_on(store.put_chunks([chunks_of(b"abcdef"), chunks_of(b"wxyz"), stray].concat())).unwrap();
    assert_eq!(block_on(collect_garbage(&store)), Ok(3));
    let kept: BTreeSet<Cid> = block_on(store.chunk_ids()).unwrap().into_iter().collect();
    assert_eq!(kept, [b"abcd".as_slice(), b"ef", b"wxyz"].into_iter().map(Cid::of).collect());
    assert_eq!(block_on(collect_garbage(&store)), Ok(0), "nothing more to drop");
}

#[test]
fn garbage_collection_drops_the_chunks_of_an_older_version_after_an_update() {
    let store = MemoryStore::new();
    accept_at(&store, &published(course("physique", 1, &[("a.txt", b"abcdef")])), 1_100).unwrap();
    block_on(store.put_chunks(chunks_of(b"abcdef"))).unwrap();
    accept_at(&store, &published(course("physique", 2, &[("a.txt", b"abcdEF")])), 1_200).unwrap();
    block_on(store.put_chunks(chunks_of(b"EF"))).unwrap();
    assert_eq!(block_on(collect_garbage(&store)), Ok(1));
    assert_eq!(block_on(store.chunk_ids()).unwrap(), {
        let mut kept = vec![Cid::of(b"abcd"), Cid::of(b"EF")];
        kept.sort();
        kept
    });
}

#[test]
fn garbage_collection_treats_an_unreadable_manifest_as_referencing_nothing() {
    let store = MemoryStore::new();
    let copy = StoredManifest {
        course_id: "physique".into(),
        version: 1,
        json: b"not json".to_vec(),
        stored_at: 0,
        source: SOURCE.into(),
    };
    block_on(store.put_manifest(copy)).unwrap();
    block_on(store.put_chunks(chunks_of(b"abcd"))).unwrap();
    assert_eq!(block_on(collect_garbage(&store)), Ok(1));
}

#[test]
fn new_chunks_after_changing_one_file_lists_only_its_new_chunks() {
    let old = course("physique", 1, &[("a.txt", b"abcdefgh"), ("b.txt", b"wxyz")]);
    let new = course("physique", 2, &[("a.txt", b"abcdEFGHij"), ("b.txt", b"wxyz")]);
    assert_eq!(new_chunks(&old, &new), vec![Cid::of(b"EFGH"), Cid::of(b"ij")]);
    assert_eq!(new_chunks(&new, &new), vec![]);
}

#[test]
fn a_store_past_its_quota_refuses_the_write_and_keeps_what_it_held() {
    let store = MemoryStore::with_quota(10);
    block_on(store.put_chunks(chunks_of(b"abcdefgh"))).unwrap();
    let before = block_on(store.chunk_ids()).unwrap();
    assert_eq!(block_on(store.put_chunks(chunks_of(b"wxyz"))), Err(StoreError::QuotaExceeded));
    assert_eq!(block_on(store.chunk_ids()).unwrap(), before);
    assert_eq!(block_on(store.chunk_bytes()), Ok(8));
}

#[test]
fn a_manifest_passed_on_for_one_course_is_refused_when_it_is_another_course_and_nothing_is_stored() {
    let store = MemoryStore::new();
    let other = published(course("chimie", 9, &[]));
    let refused = block_on(accept_passed_on(&store, (SOURCE, "physique"), &other, (&keys(), &Dalek), 1_000));
    assert!(matches!(refused, Err(OfflineError::Manifest(ManifestError::Malformed(_)))), "{refused:?}");
    assert_eq!((stored_version(&store, "chimie"), stored_version(&store, "physique")), (None, None));
    let ours = published(course("physique", 9, &[]));
    let accepted = block_on(accept_passed_on(&store, (SOURCE, "physique"), &ours, (&keys(), &Dalek), 1_000)).unwrap();
    assert!(accepted.updated);
    assert_eq!(stored_version(&store, "physique"), Some(9));
}
