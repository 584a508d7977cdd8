//! `cartable pack`: reads a course folder, packs and signs it, and writes chunks then the manifest.

use std::borrow::Cow;
use std::collections::BTreeMap;
use std::fmt;
use std::path::{Path, PathBuf};

use anyhow::{anyhow, bail, Context as _};
use cartable_core::pack::{PackOptions, Packed};
use cartable_core::{Cid, Manifest, SecretKey};

use crate::{clock, folder, keyfile};

/// What the teacher may choose when packing.
pub struct Settings {
    /// Chunk size in bytes.
    pub chunk_size: u32,
    /// Version asked for; `None` means the current unix time.
    pub version: Option<u64>,
}

/// What one packing produced, for the summary line.
pub struct Summary {
    /// The course's title.
    pub title: String,
    /// The course's id.
    pub id: String,
    /// The version written.
    pub version: u64,
    /// Number of files in the manifest.
    pub files: usize,
    /// Number of distinct chunks.
    pub chunks: usize,
    /// Chunk files that were not already on disk.
    pub new_chunks: usize,
    /// Total size of the course's files.
    pub bytes: u64,
    /// The output folder.
    pub out: PathBuf,
}

impl fmt::Display for Summary {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "packed course \"{}\" ({}) v{}: {} files, {} distinct chunks ({} new), {} bytes -> {}",
            self.title,
            self.id,
            self.version,
            self.files,
            self.chunks,
            self.new_chunks,
            self.bytes,
            self.out.display()
        )
    }
}

/// Runs `cartable pack DIR --key FILE --out DIR`.
pub fn run(dir: &Path, key: &Path, out: &Path, settings: &Settings) -> anyhow::Result<()> {
    let key = keyfile::read_secret(key)?;
    let summary = publish(dir, &key, settings, |_| out.to_path_buf())?;
    println!("{summary}");
    Ok(())
}

/// Packs the course in `dir`, signs it with `key` and writes it into the folder `out` picks for its
/// manifest. The version is always above the one already published there.
pub fn publish(
    dir: &Path,
    key: &SecretKey,
    settings: &Settings,
    out: impl FnOnce(&Manifest) -> PathBuf,
) -> anyhow::Result<Summary> {
    let folder = folder::read(dir)?;
    let now = clock::unix_now()?;
    // The version is decided once the output folder is known; it is set before signing.
    let options = PackOptions { chunk_size: settings.chunk_size, version: 0, now };
    let Packed { mut manifest, chunks } = cartable_core::pack::pack(&folder, &options)
        .map_err(|error| anyhow!("{}/{error}", dir.display().to_string().trim_end_matches('/')))?;
    let out = out(&manifest);
    manifest.version = next_version(&out, settings.version, now)?;
    let new_chunks = write_chunks(&out, &chunks)?;
    let summary = Summary {
        title: manifest.course.title.clone(),
        id: manifest.course.id.clone(),
        version: manifest.version,
        files: manifest.files.len(),
        chunks: chunks.len(),
        new_chunks,
        bytes: manifest.total_size(),
        out: out.clone(),
    };
    let json = serde_json::to_vec_pretty(&manifest.sign(key)).context("cannot write the manifest as JSON")?;
    write_atomically(&out.join("manifest.json"), &json)?;
    Ok(summary)
}

/// The version to publish: the one asked for, or the current time, but always above the version of
/// the manifest already in `out`, so that clients (which refuse rollbacks) take the new one.
fn next_version(out: &Path, asked: Option<u64>, now: i64) -> anyhow::Result<u64> {
    let previous = previous_version(out)?;
    match (asked, previous) {
        (Some(asked), Some(previous)) if asked <= previous => bail!(
            "--version {asked} is not greater than version {previous} already published in {}: pass a higher --version, or leave it out to use the current time",
            out.display()
        ),
        (Some(asked), _) => Ok(asked),
        (None, previous) => Ok(u64::try_from(now).unwrap_or(0).max(previous.map_or(0, |p| p.saturating_add(1)))),
    }
}

/// The version of `<out>/manifest.json`, read loosely (signature unchecked), or `None` if there is none.
fn previous_version(out: &Path) -> anyhow::Result<Option<u64>> {
    let path = out.join("manifest.json");
    let bytes = match std::fs::read(&path) {
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        read => read.with_context(|| format!("cannot read {}", path.display()))?,
    };
    let json: serde_json::Value = serde_json::from_slice(&bytes).with_context(|| {
        format!("{} is not JSON: delete it or fix it, so the new version can be chosen", path.display())
    })?;
    let version = json.pointer("/manifest/version").and_then(serde_json::Value::as_u64);
    let version = version.ok_or_else(|| {
        anyhow!(
            "{}: no manifest.version number found: delete the file or fix it, so the new version can be chosen",
            path.display()
        )
    })?;
    Ok(Some(version))
}

/// Writes every chunk file; returns how many were not already there.
fn write_chunks(out: &Path, chunks: &BTreeMap<Cid, Cow<'_, [u8]>>) -> anyhow::Result<usize> {
    let mut written = 0;
    for (cid, bytes) in chunks {
        written += usize::from(write_chunk(out, &cid.to_string(), bytes)?);
    }
    Ok(written)
}

/// Writes `<out>/ipfs/<cid>` unless a file with exactly these bytes is there; true if it wrote.
fn write_chunk(out: &Path, cid: &str, bytes: &[u8]) -> anyhow::Result<bool> {
    let path = out.join("ipfs").join(cid);
    if std::fs::read(&path).is_ok_and(|existing| existing == bytes) {
        return Ok(false);
    }
    write_atomically(&path, bytes)?;
    Ok(true)
}

/// Writes `path` through a temporary file renamed over it, so a reader never sees half a file.
fn write_atomically(path: &Path, bytes: &[u8]) -> anyhow::Result<()> {
    let parent = path.parent().filter(|p| !p.as_os_str().is_empty()).unwrap_or(Path::new("."));
    std::fs::create_dir_all(parent).with_context(|| format!("cannot create folder {}", parent.display()))?;
    let name = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    let temporary = parent.join(format!(".{name}.{}.tmp", std::process::id()));
    std::fs::write(&temporary, bytes).with_context(|| format!("cannot write {}", temporary.display()))?;
    std::fs::rename(&temporary, path)
        .with_context(|| format!("cannot move {} to {}", temporary.display(), path.display()))
}
