//! `cartable mirror`: copies a packed course into a tree any static host can serve as a mirror:
//! `manifest.json` byte for byte, and `ipfs/<cid>` for every chunk, each checked against its CID on the
//! way; and the built app beside it (`shell.json` and its chunks in the same `ipfs/`, with their gzip and
//! brotli copies), so that the mirror serves the app shell to the service worker too. It writes beside
//! `--out` and renames, so a mirror is never half written. It serves nothing.

use std::fmt;
use std::path::{Path, PathBuf};

use anyhow::{anyhow, bail, Context as _};
use cartable_core::shell::Shell;
use cartable_core::{Manifest, PublicKey, SignedManifest};

use crate::{keyfile, shell, verify};

/// What one export wrote, for the summary lines.
pub struct Summary {
    /// The course's title.
    pub title: String,
    /// The course's id.
    pub id: String,
    /// The version exported.
    pub version: u64,
    /// Chunk files written under `ipfs/`.
    pub chunks: usize,
    /// Bytes written, the manifest included.
    pub bytes: u64,
    /// The app exported beside the course, if any.
    pub app: Option<AppSummary>,
    /// The mirror folder.
    pub out: PathBuf,
}

/// What the export of the app wrote.
pub struct AppSummary {
    /// The app's build id.
    pub build: String,
    /// Chunk files of the app, the worker's wasm included.
    pub chunks: usize,
    /// Bytes written: the list, the chunks and their compressed copies.
    pub bytes: u64,
}

impl fmt::Display for Summary {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (out, id) = (self.out.display(), &self.id);
        writeln!(
            f,
            "mirrored course \"{}\" ({id}) v{}: manifest.json + {} chunks in ipfs/, {} files, {} bytes -> {out}",
            self.title,
            self.version,
            self.chunks,
            self.chunks + 1,
            self.bytes,
        )?;
        if let Some(app) = &self.app {
            writeln!(
                f,
                "and the app, build {}: shell.json + {} chunks in ipfs/ with their compressed copies, {} bytes",
                app.build, app.chunks, app.bytes
            )?;
        }
        writeln!(f, "serve {out} as static files with the header `Access-Control-Allow-Origin: *` (nginx: see")?;
        writeln!(
            f,
            "docs/deploy.md, Mirrors), then list it in the page's config block: \"mirrors\": [\"https://<host>/{id}/\"]"
        )?;
        write!(f, "(chunks are fetched as <base>ipfs/<cid>?format=raw, the manifest as <base>manifest.json)")
    }
}

/// Runs `cartable mirror DIR --out DIR [--pubkey FILE] [--pkg DIR | --no-app] [--force]`.
pub fn run(dir: &Path, out: &Path, pubkey: Option<&Path>, app: Option<&Path>, force: bool) -> anyhow::Result<()> {
    let key = pubkey.map(keyfile::read_public).transpose()?;
    let summary = export(dir, out, key.as_ref(), app, force)?;
    println!("{summary}");
    Ok(())
}

/// Exports the packed course in `dir` as a mirror tree at `out`, with the app built in `app` (its `pkg`
/// folder) if given. The manifest's signature is checked against `key`, or, without one, against the
/// key it names (which proves only that it is intact).
pub fn export(
    dir: &Path,
    out: &Path,
    key: Option<&PublicKey>,
    app: Option<&Path>,
    force: bool,
) -> anyhow::Result<Summary> {
    let path = dir.join("manifest.json");
    let json = std::fs::read(&path).with_context(|| {
        format!("cannot read {} (is {} a folder written by `cartable pack`?)", path.display(), dir.display())
    })?;
    let manifest = match key {
        Some(key) => verify::verify_manifest(&path, &json, key)?,
        None => verify::verify_manifest(&path, &json, &signer(&path, &json)?)?,
    };
    let shell = app.map(read_shell).transpose()?;
    check_out(out, force)?;
    let staging = Staging::beside(out)?;
    let bytes = copy(dir, &json, &manifest, &staging.dir)?;
    let app = match (app, &shell) {
        (Some(pkg), Some(shell)) => Some(copy_app(pkg, shell, &staging.dir)?),
        _ => None,
    };
    staging.commit(out)?;
    let (title, id) = (manifest.course.title.clone(), manifest.course.id.clone());
    let chunks = verify::distinct_chunks(&manifest).len();
    Ok(Summary { title, id, version: manifest.version, chunks, bytes, app, out: out.to_path_buf() })
}

/// The app's list in `<pkg>/shell.json`.
fn read_shell(pkg: &Path) -> anyhow::Result<Shell> {
    let path = pkg.join(shell::SHELL_JSON);
    let json = std::fs::read(&path).with_context(|| {
        format!("cannot read {}: build the app first (./scripts/setup.sh), or pass --no-app", path.display())
    })?;
    Shell::from_json(&json).map_err(|error| anyhow!("{}: {error} (build the app again)", path.display()))
}

/// Writes the app's list and every chunk of it into `into` (its chunks beside the course's, in `ipfs/`),
/// each checked against its CID, with the compressed copies the build made of it.
fn copy_app(pkg: &Path, shell: &Shell, into: &Path) -> anyhow::Result<AppSummary> {
    let json = shell.to_json();
    write(&into.join(shell::SHELL_JSON), &json)?;
    let mut bytes = json.len() as u64;
    let (source, ipfs) = (pkg.join(shell::IPFS), into.join("ipfs"));
    let chunks = shell.all_chunks();
    for (cid, len) in &chunks {
        let name = cid.to_string();
        let raw = verify::read_checked(pkg, *cid, *len).map_err(|problem| {
            anyhow!(
                "{}: {problem}: the built app is damaged, build it again (./scripts/setup.sh)",
                source.join(&name).display()
            )
        })?;
        write(&ipfs.join(&name), &raw)?;
        bytes += raw.len() as u64;
        for variant in [format!("{name}.gz"), format!("{name}.br")] {
            if let Ok(encoded) = std::fs::read(source.join(&variant)) {
                write(&ipfs.join(&variant), &encoded)?;
                bytes += encoded.len() as u64;
            }
        }
    }
    Ok(AppSummary { build: shell.build.clone(), chunks: chunks.len(), bytes })
}

/// The key the manifest says signed it.
fn signer(path: &Path, json: &[u8]) -> anyhow::Result<PublicKey> {
    let signed: SignedManifest = serde_json::from_slice(json)
        .map_err(|error| anyhow!("{}: manifest is malformed: {error} (pack the course again)", path.display()))?;
    signed.signer.parse().map_err(|error| anyhow!("{}: signer: {error} (pack the course again)", path.display()))
}

/// Refuses an `--out` that is a file, or a folder with something in it unless `force`.
fn check_out(out: &Path, force: bool) -> anyhow::Result<()> {
    let Ok(metadata) = std::fs::metadata(out) else { return Ok(()) };
    if !metadata.is_dir() {
        bail!("{} is a file: pass a folder (new or empty) with --out", out.display());
    }
    let mut entries = std::fs::read_dir(out).with_context(|| format!("cannot read folder {}", out.display()))?;
    if entries.next().is_some() && !force {
        bail!("{} is not empty: pass --force to replace its contents, or choose another --out", out.display());
    }
    Ok(())
}

/// Writes the manifest and every chunk into `into`, checking each chunk; returns the bytes written.
fn copy(dir: &Path, json: &[u8], manifest: &Manifest, into: &Path) -> anyhow::Result<u64> {
    let ipfs = into.join("ipfs");
    std::fs::create_dir_all(&ipfs).with_context(|| format!("cannot create folder {}", ipfs.display()))?;
    write(&into.join("manifest.json"), json)?;
    let mut total = json.len() as u64;
    for (file, index, cid) in verify::distinct_chunks(manifest) {
        let bytes = verify::read_chunk(dir, file, index, cid, manifest.chunk_size).map_err(|problem| {
            let source = dir.join("ipfs").join(cid.to_string());
            let part = &file.path;
            anyhow!("{}: {problem}, part of {part}: nothing was written (pack the course again)", source.display())
        })?;
        write(&ipfs.join(cid.to_string()), &bytes)?;
        total += bytes.len() as u64;
    }
    Ok(total)
}

fn write(path: &Path, bytes: &[u8]) -> anyhow::Result<()> {
    std::fs::write(path, bytes).with_context(|| format!("cannot write {}", path.display()))
}

/// A folder beside the mirror's final place, removed unless committed.
struct Staging {
    dir: PathBuf,
    committed: bool,
}

impl Staging {
    fn beside(out: &Path) -> anyhow::Result<Staging> {
        let dir = sibling(out, "new")?;
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).with_context(|| format!("cannot create folder {}", dir.display()))?;
        Ok(Staging { dir, committed: false })
    }

    /// Moves the finished tree to `out`; an existing `out` is set aside first and removed after.
    fn commit(mut self, out: &Path) -> anyhow::Result<()> {
        let old = match out.exists() {
            true => {
                let old = sibling(out, "old")?;
                let _ = std::fs::remove_dir_all(&old);
                std::fs::rename(out, &old)
                    .with_context(|| format!("cannot move {} aside to replace it", out.display()))?;
                Some(old)
            }
            false => None,
        };
        std::fs::rename(&self.dir, out)
            .with_context(|| format!("cannot move {} to {}", self.dir.display(), out.display()))?;
        self.committed = true;
        if let Some(old) = old {
            std::fs::remove_dir_all(&old).with_context(|| format!("cannot remove {}", old.display()))?;
        }
        Ok(())
    }
}

impl Drop for Staging {
    fn drop(&mut self) {
        if !self.committed {
            let _ = std::fs::remove_dir_all(&self.dir);
        }
    }
}

/// `<parent of out>/.<name of out>.<what>-<pid>`: on the same file system, so renaming is atomic.
fn sibling(out: &Path, what: &str) -> anyhow::Result<PathBuf> {
    let name = out.file_name().ok_or_else(|| anyhow!("{}: --out must name a folder", out.display()))?;
    let parent = out.parent().filter(|p| !p.as_os_str().is_empty()).unwrap_or(Path::new("."));
    std::fs::create_dir_all(parent).with_context(|| format!("cannot create folder {}", parent.display()))?;
    Ok(parent.join(format!(".{}.{what}-{}", name.to_string_lossy(), std::process::id())))
}
