//! `cartable shell`: the build's last step. Lists the app shell (`cartable_core::shell`) from the static
//! pages and the built app, writes its chunks into `pkg/ipfs/`, precompressed copies (brotli and gzip)
//! of every file `cartable serve` sends and of every chunk, named by the CID of the uncompressed bytes,
//! then `pkg/shell.json`, and the build id and the list at the end of the worker's module
//! (`pkg/cartable_sw.js`), so that the worker's script imports one module, not two that a saturated
//! origin would refuse each other. Compressed copies already there are kept: a rebuild compresses only
//! what changed. Reads and writes files; the list itself is the core's.

use std::collections::BTreeSet;
use std::fmt;
use std::path::{Path, PathBuf};

use anyhow::{bail, Context as _};
use cartable_core::shell::Shell;
use cartable_core::Cid;

use crate::compress;

/// The pages that boot the app, in the static pages' folder.
pub const PAGES: [&str; 2] = ["index.html", "embed.html"];
/// The worker's script, in the static pages' folder: from the origin, by the platform's rule, so in no
/// shell list; it changes the build id.
const WORKER_SCRIPT: &str = "sw.js";
/// The worker's module (wasm-bindgen's glue), which the worker's script imports; the build appends the
/// build id and the list to it.
const WORKER_MODULE: &str = "cartable_sw.js";
/// The line that opens what the build appends to the worker's module.
const APPENDED: &str = "\n// Appended by `cartable shell`";
/// The static pages' files that are part of the shell.
const WWW_FILES: [&str; 1] = ["style.css"];
/// The app's module and its first bundle's wasm, in the built app's folder.
const APP_FILES: [&str; 2] = ["cartable.js", "cartable_bg.wasm"];
/// The module that loads the app's parts (`wasm-split-cli`'s), in the built app's folder.
const PARTS_LOADER: &str = "__wasm_split.js";
/// The worker's wasm, in the built app's folder.
const WORKER_WASM: &str = "cartable_sw_bg.wasm";
/// The shell's list, in `pkg/`.
pub const SHELL_JSON: &str = "shell.json";
/// The folder of chunks and compressed copies, in `pkg/`.
pub const IPFS: &str = "ipfs";
/// Extensions of files worth compressing.
const COMPRESSIBLE: [&str; 7] = ["html", "js", "mjs", "css", "wasm", "svg", "json"];

/// What one run wrote, for the summary line.
pub struct Summary {
    /// The build id.
    pub build: String,
    /// Files in the shell, the worker's wasm included.
    pub files: usize,
    /// Distinct chunks.
    pub chunks: usize,
    /// Bytes of those files.
    pub bytes: u64,
    /// The same, gzip-compressed as they travel.
    pub gzip_bytes: u64,
    /// Compressed copies written now (the others were already there).
    pub compressed: usize,
    /// The built app's folder.
    pub pkg: PathBuf,
}

impl fmt::Display for Summary {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let Summary { build, files, chunks, bytes, gzip_bytes, compressed, pkg } = self;
        write!(
            f,
            "app shell {build}: {files} files in {chunks} chunks, {} ({} gzip), {compressed} compressed copies \
             written -> {}",
            megabytes(*bytes),
            megabytes(*gzip_bytes),
            pkg.join(SHELL_JSON).display()
        )
    }
}

fn megabytes(bytes: u64) -> String {
    format!("{:.2} MB", bytes as f64 / 1e6)
}

/// Runs `cartable shell --www DIR --pkg DIR`.
pub fn run(www: &Path, pkg: &Path) -> anyhow::Result<()> {
    println!("{}", build(www, pkg)?);
    Ok(())
}

/// Lists the shell of the app in `www` (static pages) and `pkg` (built app) and writes everything the
/// origin and mirrors serve of it into `pkg`.
pub fn build(www: &Path, pkg: &Path) -> anyhow::Result<Summary> {
    let files = shell_files(www, pkg)?;
    let parts = part_files(pkg)?;
    let worker = (format!("pkg/{WORKER_WASM}"), read(&pkg.join(WORKER_WASM))?);
    let pages: Vec<String> = PAGES.iter().map(|page| page.to_string()).collect();
    let glue = worker_glue(&pkg.join(WORKER_MODULE))?;
    let mut also = Vec::new();
    for page in PAGES {
        also.push(read(&www.join(page))?);
    }
    also.push(read(&www.join(WORKER_SCRIPT))?);
    also.push(glue.clone().into_bytes());
    let also_refs: Vec<&[u8]> = also.iter().map(Vec::as_slice).collect();
    let (shell, chunks) = Shell::pack(&files, &parts, &worker, &pages, &also_refs);
    let ipfs = pkg.join(IPFS);
    std::fs::create_dir_all(&ipfs).with_context(|| format!("cannot create folder {}", ipfs.display()))?;
    let mut kept = BTreeSet::new();
    let mut written = 0;
    for (cid, bytes) in &chunks {
        write_if_changed(&ipfs.join(cid.to_string()), bytes)?;
        kept.insert(cid.to_string());
        written += variants(&ipfs, bytes, &mut kept)?;
    }
    let json = shell.to_json();
    write_if_changed(&pkg.join(SHELL_JSON), &json)?;
    write_if_changed(&pkg.join(WORKER_MODULE), worker_module(&glue, &shell.build, &json).as_bytes())?;
    for bytes in served_by_path(www, pkg)? {
        written += variants(&ipfs, &bytes, &mut kept)?;
    }
    prune(&ipfs, &kept)?;
    let gzip_bytes = gzip_size(&ipfs, files.iter().chain(&parts).chain(std::iter::once(&worker)))?;
    let summary_files = files.len() + parts.len() + 1;
    let (build, bytes) = (shell.build.clone(), shell.bytes());
    Ok(Summary {
        build,
        files: summary_files,
        chunks: shell.all_chunks().len(),
        bytes,
        gzip_bytes,
        compressed: written,
        pkg: pkg.to_path_buf(),
    })
}

/// The files pages load first: the static pages' shell files, then the built app's modules, its first
/// bundle's wasm and snippets (the worker's own files excepted), in a stable order.
fn shell_files(www: &Path, pkg: &Path) -> anyhow::Result<Vec<(String, Vec<u8>)>> {
    let mut files = Vec::new();
    for name in WWW_FILES {
        files.push((name.to_owned(), read(&www.join(name))?));
    }
    for name in APP_FILES {
        files.push((format!("pkg/{name}"), read(&pkg.join(name))?));
    }
    // The loader of the parts, which `cartable.js` imports: there when the build cut the app into parts.
    if pkg.join(PARTS_LOADER).is_file() {
        files.push((format!("pkg/{PARTS_LOADER}"), read(&pkg.join(PARTS_LOADER))?));
    }
    let mut snippets = Vec::new();
    collect(&pkg.join("snippets"), "pkg/snippets", &mut snippets)?;
    snippets.sort();
    for (path, file) in snippets {
        files.push((path, read(&file)?));
    }
    Ok(files)
}

/// The app's parts loaded when first needed: every other wasm module of the built app, by name.
fn part_files(pkg: &Path) -> anyhow::Result<Vec<(String, Vec<u8>)>> {
    let mut found = Vec::new();
    collect(pkg, "pkg", &mut found)?;
    found.retain(|(path, _)| {
        let name = path.trim_start_matches("pkg/");
        !name.contains('/') && name.ends_with(".wasm") && !APP_FILES.contains(&name) && name != WORKER_WASM
    });
    found.sort();
    found.into_iter().map(|(path, file)| Ok((path, read(&file)?))).collect()
}

/// Every file under `dir` (which may be missing), as (its path under `prefix`, its location).
fn collect(dir: &Path, prefix: &str, into: &mut Vec<(String, PathBuf)>) -> anyhow::Result<()> {
    let Ok(entries) = std::fs::read_dir(dir) else { return Ok(()) };
    for entry in entries {
        let entry = entry.with_context(|| format!("cannot read folder {}", dir.display()))?;
        let name = entry.file_name().to_string_lossy().into_owned();
        let path = format!("{prefix}/{name}");
        match entry.file_type().with_context(|| format!("cannot read {}", entry.path().display()))?.is_dir() {
            true => collect(&entry.path(), &path, into)?,
            false => into.push((path, entry.path())),
        }
    }
    Ok(())
}

/// The bytes of every other file `cartable serve` sends by path and that is worth compressing: the
/// static pages' files and the built app's modules and wasm (not the chunks, done already).
fn served_by_path(www: &Path, pkg: &Path) -> anyhow::Result<Vec<Vec<u8>>> {
    let mut found = Vec::new();
    collect(www, "", &mut found)?;
    let mut in_pkg = Vec::new();
    collect(pkg, "", &mut in_pkg)?;
    let not_ipfs = |path: &String| !path.starts_with(&format!("/{IPFS}/"));
    found.extend(in_pkg.into_iter().filter(|(path, _)| not_ipfs(path)));
    let mut out = Vec::new();
    for (_, file) in found.into_iter().filter(|(path, _)| compressible(path)) {
        out.push(read(&file)?);
    }
    Ok(out)
}

fn compressible(path: &str) -> bool {
    path.rsplit_once('.').is_some_and(|(_, extension)| COMPRESSIBLE.contains(&extension))
}

/// Writes `ipfs/<cid>.br` and `.gz` for `bytes` unless already there or no smaller; returns how many it
/// wrote, and records their names in `kept`.
fn variants(ipfs: &Path, bytes: &[u8], kept: &mut BTreeSet<String>) -> anyhow::Result<usize> {
    let cid = Cid::of(bytes);
    let mut written = 0;
    for (extension, encode) in [("br", compress::brotli as fn(&[u8]) -> Vec<u8>), ("gz", compress::gzip)] {
        let name = format!("{cid}.{extension}");
        let path = ipfs.join(&name);
        if !path.is_file() {
            let encoded = encode(bytes);
            if encoded.len() >= bytes.len() {
                continue;
            }
            write(&path, &encoded)?;
            written += 1;
        }
        kept.insert(name);
    }
    Ok(written)
}

/// Removes from `ipfs` what this build did not write: an older build's chunks and copies.
fn prune(ipfs: &Path, kept: &BTreeSet<String>) -> anyhow::Result<()> {
    for entry in std::fs::read_dir(ipfs).with_context(|| format!("cannot read folder {}", ipfs.display()))? {
        let entry = entry.with_context(|| format!("cannot read folder {}", ipfs.display()))?;
        if !kept.contains(&entry.file_name().to_string_lossy().into_owned()) {
            std::fs::remove_file(entry.path()).with_context(|| format!("cannot remove {}", entry.path().display()))?;
        }
    }
    Ok(())
}

/// Bytes of the shell's files gzip-compressed, as the origin sends them (the identity bytes where no
/// smaller copy exists).
fn gzip_size<'a>(ipfs: &Path, files: impl Iterator<Item = &'a (String, Vec<u8>)>) -> anyhow::Result<u64> {
    let mut total = 0;
    for (_, bytes) in files {
        let gz = ipfs.join(format!("{}.gz", Cid::of(bytes)));
        total += match std::fs::metadata(&gz) {
            Ok(metadata) => metadata.len(),
            Err(_) => bytes.len() as u64,
        };
    }
    Ok(total)
}

/// The worker's module as wasm-bindgen wrote it, without what an earlier run appended.
fn worker_glue(path: &Path) -> anyhow::Result<String> {
    let text = String::from_utf8(read(path)?).with_context(|| format!("{} is not UTF-8 text", path.display()))?;
    Ok(match text.find(APPENDED) {
        Some(at) => text[..at].to_owned(),
        None => text,
    })
}

/// The worker's module: its glue, then this build's id and the shell list it keeps.
fn worker_module(glue: &str, build: &str, json: &[u8]) -> String {
    let list = String::from_utf8_lossy(json);
    format!(
        "{glue}{APPENDED} (scripts/setup.sh): this build's id and the app shell the service worker keeps.\n\
         export const BUILD = '{build}';\nexport const SHELL = {list};\n"
    )
}

fn read(path: &Path) -> anyhow::Result<Vec<u8>> {
    match std::fs::read(path) {
        Ok(bytes) => Ok(bytes),
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => {
            bail!("{} not found: build the app first (./scripts/setup.sh does it)", path.display())
        }
        Err(error) => Err(error).with_context(|| format!("cannot read {}", path.display())),
    }
}

fn write(path: &Path, bytes: &[u8]) -> anyhow::Result<()> {
    std::fs::write(path, bytes).with_context(|| format!("cannot write {}", path.display()))
}

/// Writes `bytes` unless the file already holds exactly them, so that an unchanged build leaves the
/// files (and their modification times) alone.
fn write_if_changed(path: &Path, bytes: &[u8]) -> anyhow::Result<()> {
    match std::fs::read(path) {
        Ok(existing) if existing == bytes => Ok(()),
        _ => write(path, bytes),
    }
}
