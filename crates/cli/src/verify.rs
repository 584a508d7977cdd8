//! `cartable verify`: checks a packed course as a client would: signature first, then every chunk.

use std::collections::BTreeSet;
use std::path::Path;

use anyhow::{anyhow, bail, Context as _};
use cartable_core::manifest::FileEntry;
use cartable_core::{Cid, Manifest, ManifestError, PublicKey, SignedManifest, Trust};

use crate::{clock, keyfile};

/// Runs `cartable verify DIR --pubkey FILE`: one line per problem on stderr, an error if any.
pub fn run(dir: &Path, pubkey: &Path) -> anyhow::Result<()> {
    let key = keyfile::read_public(pubkey)?;
    let manifest = read_manifest(dir, &key)?;
    let chunks = distinct_chunks(&manifest);
    let mut problems = 0;
    for &(file, index, cid) in &chunks {
        if let Err(problem) = read_chunk(dir, file, index, cid, manifest.chunk_size) {
            eprintln!("ipfs/{cid}: {problem}, part of {}", file.path);
            problems += 1;
        }
    }
    if problems > 0 {
        bail!(
            "{}: {problems} of {} chunks failed: pack the course again with `cartable pack`",
            dir.display(),
            chunks.len()
        );
    }
    println!("ok: {} files, {} chunks verified", manifest.files.len(), chunks.len());
    Ok(())
}

/// Every chunk of `manifest` once, with the first file (and index in it) that uses it, in manifest order.
pub fn distinct_chunks(manifest: &Manifest) -> Vec<(&FileEntry, usize, Cid)> {
    let mut seen = BTreeSet::new();
    let every = manifest.files.iter().flat_map(|file| file.chunks.iter().enumerate().map(move |(i, c)| (file, i, *c)));
    every.filter(|&(_, _, cid)| seen.insert(cid)).collect()
}

/// Reads `<dir>/manifest.json` and verifies it against `key` at the current time.
pub fn read_manifest(dir: &Path, key: &PublicKey) -> anyhow::Result<Manifest> {
    let path = dir.join("manifest.json");
    let json = std::fs::read(&path).with_context(|| {
        format!("cannot read {} (is {} a folder written by `cartable pack`?)", path.display(), dir.display())
    })?;
    verify_manifest(&path, &json, key)
}

/// Verifies the bytes of the manifest file `path` against `key` at the current time.
pub fn verify_manifest(path: &Path, json: &[u8], key: &PublicKey) -> anyhow::Result<Manifest> {
    let trust = Trust { keys: std::slice::from_ref(key), now: clock::unix_now()?, accepted_version: None };
    SignedManifest::verify(json, &trust).map_err(|error| anyhow!("{}: {error} ({})", path.display(), advice(&error)))
}

/// What to do about a refused manifest.
fn advice(error: &ManifestError) -> &'static str {
    match error {
        ManifestError::UnknownKey(_) => {
            "check the public key file: it must match the secret key the course was packed with"
        }
        ManifestError::Expired { .. } => "pack the course again to publish a fresh version",
        ManifestError::BadSignature => "the file was changed after signing: pack the course again",
        _ => "pack the course again with this version of cartable",
    }
}

/// The bytes of `<dir>/ipfs/<cid>`, chunk `index` of `file`, if they have the expected length and match
/// the CID; otherwise what is wrong with them.
pub fn read_chunk(dir: &Path, file: &FileEntry, index: usize, cid: Cid, chunk_size: u32) -> Result<Vec<u8>, String> {
    read_checked(dir, cid, file.chunk_len(index, chunk_size))
}

/// The bytes of `<dir>/ipfs/<cid>` if they are `expected` bytes long and match the CID; otherwise what is
/// wrong with them (missing, unreadable, of the wrong size, corrupted).
pub fn read_checked(dir: &Path, cid: Cid, expected: u64) -> Result<Vec<u8>, String> {
    let bytes = match std::fs::read(dir.join("ipfs").join(cid.to_string())) {
        Ok(bytes) => bytes,
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => return Err("missing".into()),
        Err(error) => return Err(format!("unreadable ({error})")),
    };
    if bytes.len() as u64 != expected {
        return Err(format!("wrong size ({} bytes, expected {expected})", bytes.len()));
    }
    match cid.matches(&bytes) {
        true => Ok(bytes),
        false => Err("corrupted (does not match its CID)".into()),
    }
}
